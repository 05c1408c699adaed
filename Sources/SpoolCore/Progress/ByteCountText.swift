/// Byte counts as people read them in a progress message: "830 bytes", "167 KB", "18.2 MB",
/// "1.24 GB" (decimal units, as file managers and yt-dlp's own `MB` use).
///
/// Plain arithmetic on purpose: Foundation's `ByteCountFormatter` builds an ICU number formatter on
/// every call on Linux, and a download message is made for every progress line a job sends — with
/// a thousand jobs running that formatter was half of the server's CPU (BENCHMARKS.md).
enum ByteCountText {
    static func format(_ bytes: Int64) -> String {
        let count = max(bytes, 0)
        if count < 1000 { return count == 1 ? "1 byte" : "\(count) bytes" }
        if count < 1_000_000 { return "\((count + 500) / 1000) KB" }
        if count < 1_000_000_000 { return "\(decimal(count, unit: 1_000_000, places: 1)) MB" }
        if count < 1_000_000_000_000 { return "\(decimal(count, unit: 1_000_000_000, places: 2)) GB" }
        return "\(decimal(count, unit: 1_000_000_000_000, places: 2)) TB"
    }

    /// `count / unit` rounded to `places` decimals, without trailing zeros ("18.2", "1", "1.05").
    private static func decimal(_ count: Int64, unit: Int64, places: Int) -> String {
        var scale: Int64 = 1
        for _ in 0..<places { scale *= 10 }
        let step = unit / scale
        let scaled = (count + step / 2) / step
        var whole = String(scaled / scale)
        var fraction = String(scaled % scale)
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if !fraction.isEmpty { whole += "." + fraction }
        return whole
    }
}
