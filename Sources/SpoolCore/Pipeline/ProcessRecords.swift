import Foundation
import Logging
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Remembers, on disk, which process groups each running job has started, so that a server that
/// was killed (SIGKILL, power loss of the parent, OOM) can end them when it starts again.
///
/// Tools run in process groups of their own, so they outlive a killed server; left alone they would
/// keep downloading into scratch folders that start-up is about to sweep. A recorded pid is signalled
/// only when it is provably the same process: its start time (from `/proc/PID/stat`) must match the
/// recorded one, so a pid the kernel has since reused for something else is never touched.
public struct ProcessRecords: Sendable {
    public let folder: FilePath

    public init(folder: FilePath) {
        self.folder = folder
    }

    /// Notes that `pid` (a process group leader) works for `job`.
    public func record(pid: Int32, for job: JobID) {
        guard let start = Self.startTime(of: pid) else { return }
        try? FileManager.default.createDirectory(atPath: folder.string, withIntermediateDirectories: true)
        let path = folder.appending("\(job.rawValue).pids").string
        let line = Data("\(pid) \(start)\n".utf8)
        if let handle = FileHandle(forWritingAtPath: path) {
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: line)
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: line)
        }
    }

    /// Forgets a job's processes (they have ended).
    public func clear(_ job: JobID) {
        try? FileManager.default.removeItem(atPath: folder.appending("\(job.rawValue).pids").string)
    }

    /// Ends every recorded process group that is still the one recorded, then forgets all records.
    /// Also ends any process still working in one of `scratchFolder`'s job folders (a child whose
    /// group leader already died). Returns how many groups or processes were signalled, once they
    /// are gone: SIGKILL is delivered when the process next runs, and a busy machine (tools run
    /// niced) can take a moment, during which an "ended" tool would still write into its folder.
    public func endLeftovers(scratchFolder: FilePath, logger: Logger) -> Int {
        var signalled: [(pid: Int32, start: UInt64?)] = []
        defer { Self.waitUntilGone(signalled, logger: logger) }
        var ended = 0
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.string)) ?? []
        for file in files where file.hasSuffix(".pids") {
            let path = folder.appending(file).string
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count == 2, let pid = Int32(fields[0]), let start = UInt64(fields[1]) else { continue }
                guard Self.startTime(of: pid) == start else { continue }
                if kill(-pid, SIGKILL) == 0 || kill(pid, SIGKILL) == 0 {
                    ended += 1
                    signalled.append((pid, start))
                    logger.notice("ended a tool left by an earlier run", metadata: ["process.pid": "\(pid)", "job.id": "\(file.dropLast(5))"])
                }
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        let marker = scratchFolder.string + "/"
        for pid in Self.allProcessIDs() where pid != getpid() {
            guard let commandLine = Self.commandLine(of: pid), commandLine.contains(marker) else { continue }
            if kill(pid, SIGKILL) == 0 {
                ended += 1
                signalled.append((pid, Self.startTime(of: pid)))
                logger.notice("ended a process working in a scratch folder", metadata: ["process.pid": "\(pid)"])
            }
        }
        return ended
    }

    /// Waits, at most five seconds, until each process is gone: no longer in `/proc`, a zombie, or
    /// its pid reused by another process.
    static func waitUntilGone(_ processes: [(pid: Int32, start: UInt64?)], logger: Logger) {
        var waiting = processes
        for _ in 0..<250 where !waiting.isEmpty {
            waiting.removeAll { process in
                guard let fields = statFields(of: process.pid) else { return true }
                return fields.first == "Z" || fields.first == "X" || startTime(from: fields) != process.start
            }
            if !waiting.isEmpty { usleep(20_000) }
        }
        for process in waiting { logger.warning("a tool of an earlier run did not end", metadata: ["process.pid": "\(process.pid)"]) }
    }

    /// Field 22 of `/proc/PID/stat`: the start time in clock ticks since boot.
    static func startTime(of pid: Int32) -> UInt64? {
        statFields(of: pid).flatMap(startTime(from:))
    }

    /// The start time among ``statFields(of:)``.
    private static func startTime(from fields: [Substring]) -> UInt64? {
        fields.count > 19 ? UInt64(fields[19]) : nil
    }

    /// The fields of `/proc/PID/stat` after the command name, so from field 3 (the state) on; nil
    /// when the process is gone.
    static func statFields(of pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return statFields(in: stat)
    }

    /// The fields of a `/proc/PID/stat` text after the command name. The name is skipped by its
    /// last `)`, since it may hold spaces and parentheses.
    static func statFields(in stat: String) -> [Substring]? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    static func commandLine(of pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
    }

    static func allProcessIDs() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
    }
}
