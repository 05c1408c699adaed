import Configuration
import SpoolCore
import SpoolServer
import Testing

/// Reading settings: the tool priority, and what happens to a value Spool cannot use.
@Suite struct ConfigurationUnitTests {
    private func configuration(_ values: [AbsoluteConfigKey: ConfigValue]) -> SpoolConfiguration {
        SpoolConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: values)))
    }

    @Test func toolsRunAtIdlePriorityUnlessToldOtherwise() {
        let defaults = configuration([:])
        #expect(defaults.toolPriority == .idle)
        #expect(defaults.warnings.isEmpty)
        #expect(configuration(["tools.priority": "low"]).toolPriority == .low)
        #expect(configuration(["tools.priority": "Idle"]).toolPriority == .idle)
    }

    @Test func anUnknownPriorityFallsBackToIdleWithAWarning() {
        let read = configuration(["tools.priority": "realtime"])
        #expect(read.toolPriority == .idle)
        #expect(read.warnings == ["tools.priority 'realtime' is not idle or low; using idle"])
    }
}
