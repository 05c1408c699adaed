import Foundation

/// Reads a process's figures from /proc.
enum ProcFS {
    /// VmRSS in bytes.
    static func rss(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return nil
    }

    /// utime + stime in seconds.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14, stime 15 (1-based) -> indexes 11, 12 here.
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func threads(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Threads:") {
            return Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "")
        }
        return nil
    }

    /// The pid listening on 127.0.0.1:`port`, found through /proc/net/tcp and the fds in /proc.
    static func pidListening(port: Int) -> Int32? {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return nil }
        var inode: String?
        let portHex = String(format: "%04X", port)
        for line in table.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if f.count > 9, f[1].hasSuffix(":" + portHex), f[3] == "0A" { inode = String(f[9]) }
        }
        guard let inode else { return nil }
        let target = "socket:[\(inode)]"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry) else { continue }
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? [] {
                if (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) == target { return pid }
            }
        }
        return nil
    }
}

/// This process's own CPU time (user + system), seconds.
func selfCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

func selfRSS() -> Int { ProcFS.rss(pid: getpid()) ?? 0 }

/// Raises RLIMIT_NOFILE as far as allowed; returns the soft limit now.
@discardableResult
func raiseFileLimit(to wanted: rlim_t = 1_048_576) -> rlim_t {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    var raised = rlimit(rlim_cur: wanted, rlim_max: max(wanted, limit.rlim_max))
    if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0 {
        raised = rlimit(rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
    }
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return limit.rlim_cur
}

/// A tiny blocking HTTP/1.1 client for the handful of control requests (`/api/ws/info`, POST).
func httpRequest(host: String, port: Int, method: String = "GET", path: String, body: String? = nil, timeout: Int = 10) throws -> (status: Int, body: String) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket: \(errno)") }
    defer { close(fd) }
    var tv = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, host, &address.sin_addr)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw BenchError("connect \(host):\(port): errno \(errno)") }
    var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
    if let body { request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
    request += "\r\n" + (body ?? "")
    let bytes = Array(request.utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw BenchError("write failed") }
        sent += n
    }
    var response = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        response.append(contentsOf: chunk[0..<n])
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let headEnd = text.range(of: "\r\n\r\n") else { throw BenchError("bad HTTP response") }
    let statusLine = text[..<headEnd.lowerBound].split(separator: "\r\n").first ?? ""
    let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
    var bodyText = String(text[headEnd.upperBound...])
    if text[..<headEnd.lowerBound].lowercased().contains("transfer-encoding: chunked") {
        // De-chunk.
        var result = ""
        var rest = Substring(bodyText)
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let utf8 = rest.utf8
            let end = utf8.index(start, offsetBy: size)
            result += String(rest[start..<end])
            rest = rest[end...].dropFirst(2)
        }
        bodyText = result
    }
    return (status, bodyText)
}

func jsonObject(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}

/// Percentiles of latency samples (microseconds).
struct Percentiles {
    let count: Int
    let p50: Double
    let p90: Double
    let p99: Double
    let p999: Double
    let max: Double
    let mean: Double

    init(_ samples: [Int32]) {
        let sorted = samples.sorted()
        count = sorted.count
        func at(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            let index = Swift.min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)
            return Double(sorted[Swift.max(0, index)]) / 1000
        }
        p50 = at(0.5)
        p90 = at(0.9)
        p99 = at(0.99)
        p999 = at(0.999)
        max = sorted.last.map { Double($0) / 1000 } ?? .nan
        mean = sorted.isEmpty ? .nan : Double(sorted.reduce(0) { $0 + Int($1) }) / Double(sorted.count) / 1000
    }

    var json: [String: Any] {
        ["samples": count, "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "p999_ms": p999, "max_ms": max, "mean_ms": mean]
    }
}

/// Prints a two-column table, then the machine-readable line.
func report(_ scenario: String, rows: [(String, String)], json: [String: Any]) {
    print("")
    print("== \(scenario) ==")
    let width = rows.map(\.0.count).max() ?? 0
    for (key, value) in rows {
        print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
    }
    var object = json.mapValues(jsonSafe)
    object["scenario"] = scenario
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
        print("BENCH_RESULT " + String(decoding: data, as: UTF8.self))
    }
    fflush(nil)
}

func fmt(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

func log(_ text: String) {
    FileHandle.standardError.write(Data("[bench \(Date().formatted(.iso8601.time(includingFractionalSeconds: false)))] \(text)\n".utf8))
}

/// Source addresses to spread connections over so no destination runs out of ephemeral ports
/// (about 28k per source/destination pair with the default range).
func sourceAddresses(for connections: Int) -> [String] {
    guard connections > 20_000 else { return [] }
    let count = min(8, (connections + 19_999) / 20_000 + 1)
    return (2..<(2 + count)).map { "127.0.0.\($0)" }
}

/// JSON has no NaN or infinity: those become null.
func jsonSafe(_ value: Any) -> Any {
    if let number = value as? Double, !number.isFinite { return NSNull() }
    if let dictionary = value as? [String: Any] { return dictionary.mapValues(jsonSafe) }
    if let array = value as? [Any] { return array.map(jsonSafe) }
    return value
}
