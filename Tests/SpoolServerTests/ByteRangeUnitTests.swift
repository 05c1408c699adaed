import Testing
@testable import SpoolServer

@Suite struct ByteRangeUnitTests {
    @Test(arguments: [
        // No header, or one Spool does not serve: the whole file.
        (nil, 1000, ByteRange.whole),
        ("", 1000, .whole),
        ("items=0-9", 1000, .whole),
        ("bytes=0-9,20-29", 1000, .whole),
        ("bytes=abc", 1000, .whole),
        ("bytes=-", 1000, .whole),
        ("bytes=5-3", 1000, .whole),
        ("bytes=--5", 1000, .whole),
        ("bytes=-x", 1000, .whole),
        ("bytes=+1-5", 1000, .whole),
        ("bytes=1-+5", 1000, .whole),
        // First and last position.
        ("bytes=0-99", 1000, .partial(0...99)),
        ("Bytes=0-99", 1000, .partial(0...99)),
        ("  bytes= 10 - 19 ", 1000, .partial(10...19)),
        ("bytes=0-0", 1000, .partial(0...0)),
        ("bytes=999-999", 1000, .partial(999...999)),
        ("bytes=500-5000", 1000, .partial(500...999)),
        // Open-ended.
        ("bytes=0-", 1000, .partial(0...999)),
        ("bytes=990-", 1000, .partial(990...999)),
        ("bytes=999-", 1000, .partial(999...999)),
        // Suffix.
        ("bytes=-500", 1000, .partial(500...999)),
        ("bytes=-1", 1000, .partial(999...999)),
        ("bytes=-1000", 1000, .partial(0...999)),
        ("bytes=-5000", 1000, .partial(0...999)),
        // Unsatisfiable.
        ("bytes=1000-", 1000, .unsatisfiable),
        ("bytes=1000-1000", 1000, .unsatisfiable),
        ("bytes=5000-6000", 1000, .unsatisfiable),
        ("bytes=-0", 1000, .unsatisfiable),
        ("bytes=0-", 0, .unsatisfiable),
        ("bytes=0-0", 0, .unsatisfiable),
        ("bytes=-10", 0, .unsatisfiable),
        (nil, 0, .whole),
    ] as [(String?, Int, ByteRange)])
    func resolve(_ header: String?, _ size: Int, _ expected: ByteRange) {
        #expect(ByteRange.resolve(header, size: size) == expected)
    }

    @Test func partialRangesStayInsideTheFile() {
        for size in [1, 2, 10, 1000] {
            for header in ["bytes=0-", "bytes=-1", "bytes=-\(size * 2)", "bytes=\(size - 1)-", "bytes=0-\(size * 10)"] {
                let range = ByteRange.resolve(header, size: size)
                guard case .partial(let bytes) = range else {
                    Issue.record("\(header) on \(size) bytes gave \(range)")
                    continue
                }
                #expect(bytes.lowerBound >= 0 && bytes.upperBound <= size - 1, "\(header) on \(size) bytes gave \(bytes)")
            }
        }
    }
}
