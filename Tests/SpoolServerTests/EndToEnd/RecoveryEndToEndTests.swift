import Foundation
import SpoolCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The server is killed (SIGKILL) mid-conversion and started again on the same storage: the job
/// still ends, a new subscriber learns how, and nothing of the old run is left running or on disk.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RecoveryEndToEndTests {
    @Test func killedServerFinishesTheJobAfterRestart() async throws {
        let source = try await TestMedia.shared.path(.long)
        let storage = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("spool-kill-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: storage) }
        try await OriginServer.run { origin in
            let url = "\(origin)/slow/\(source.lastPathComponent)?rate=2500000"

            // First life: start a conversion, let the download run, then SIGKILL the server.
            let (jobId, lastSeq, orphans) = try await SpoolProcess.run(storage: storage) { port, pid in
                let (jobId, lastSeq) = try await withSocket(port: port) { socket in
                    try await socket.send("start_conversion", payload: ["url": url, "format": "mp3"])
                    let jobId = try #require(try await socket.next(where: { $0.type == "conversion_started" }).jobId)
                    var downloads = 0
                    var lastSeq = 1
                    while downloads < 3 {
                        let frame = try await socket.next()
                        if frame.isTerminal { throw TestFailure("the job ended before the server was killed: \(frame)") }
                        lastSeq = frame.seq ?? lastSeq
                        if frame.step == "download" { downloads += 1 }
                    }
                    return (jobId, lastSeq)
                }
                let orphans = processes(mentioning: jobId).compactMap { Int32($0.prefix(while: \.isNumber)) }
                kill(pid, SIGKILL)
                return (jobId, lastSeq, orphans)
            }
            #expect(!orphans.isEmpty, "the job's tools should have been running when the server died")

            // Second life on the same storage.
            try await SpoolProcess.run(storage: storage) { port, _ in
                // Start-up ended the old run's tools before anything else.
                for pid in orphans { #expect(!isAlive(pid) || ProcessRecordsProbe.isZombieOrOther(pid, jobId: jobId), "old tool \(pid) still running") }
                let frames = try await withSocket(port: port) { socket in
                    try await socket.send("subscribe_job", id: "again", payload: ["jobId": jobId, "after": lastSeq])
                    let state = try await socket.next(where: { $0.type == "job_state" })
                    return [state] + (try await socket.events(of: jobId))
                }
                #expect(frames.last?.type == "conversion_completed", "\(frames.suffix(3))")
                let seqs = frames.dropFirst().compactMap(\.seq)
                #expect(zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 }, "\(seqs)")
                #expect(seqs.allSatisfy { $0 > lastSeq })
                #expect(processes(mentioning: jobId).isEmpty)
                let scratch = (try? FileManager.default.contentsOfDirectory(atPath: storage + "/tmp")) ?? []
                #expect(scratch.filter { !$0.hasPrefix(".") }.isEmpty, "scratch left: \(scratch)")
            }
        }
    }
}

/// Distinguishes a reused pid from the old tool: alive is fine only if it is no longer our job's process.
enum ProcessRecordsProbe {
    static func isZombieOrOther(_ pid: Int32, jobId: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return true }
        return !String(decoding: data, as: UTF8.self).contains(jobId)
    }
}
