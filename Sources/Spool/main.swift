import Configuration
import Hummingbird
import SpoolServer

/// Spool: reads configuration from the command line and the environment, builds the server, runs it
/// until SIGINT/SIGTERM (then shuts down gracefully: running jobs are queued again for next time).
OpenFileBudget.raiseSoftLimit()
let reader = ConfigReader(providers: [
    CommandLineArgumentsProvider(),
    EnvironmentVariablesProvider(),
])
let app = try await buildApplication(SpoolConfiguration(reader: reader))
try await app.runService()
