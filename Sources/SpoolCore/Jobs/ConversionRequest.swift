import Foundation

/// A conversion request as a client sends it (`start_conversion` payload or `POST /api/conversions`
/// body), before validation.
///
/// Every field is optional here so that a missing field becomes a `MISSING_FIELD` error that names
/// it, instead of a generic decoding failure. `quality` may arrive as a string or a number.
public struct ConversionRequest: Sendable, Decodable, Equatable {
    public var url: String?
    public var format: String?
    public var quality: String?
    public var platform: String?

    public init(url: String?, format: String?, quality: String? = nil, platform: String? = nil) {
        self.url = url
        self.format = format
        self.quality = quality
        self.platform = platform
    }

    private enum CodingKeys: String, CodingKey { case url, format, quality, platform }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.url = try container.decodeIfPresent(String.self, forKey: .url)
        self.format = try container.decodeIfPresent(String.self, forKey: .format)
        self.platform = try container.decodeIfPresent(String.self, forKey: .platform)
        if let text = try? container.decodeIfPresent(String.self, forKey: .quality) {
            self.quality = text
        } else if let number = try? container.decodeIfPresent(Int.self, forKey: .quality) {
            self.quality = String(number)
        } else if container.contains(.quality), try container.decodeNil(forKey: .quality) == false {
            throw SpoolError.badMessage("The field 'quality' must be a string or a number.")
        } else {
            self.quality = nil
        }
    }

    /// Checks every field and returns what the pipeline will run, or the first problem found.
    public func validated() throws(SpoolError) -> ConversionOptions {
        guard let url, !url.isEmpty else { throw .missingField("url") }
        guard let format, !format.isEmpty else { throw .missingField("format") }
        let sourceURL = try SourceURL.validate(url)
        guard let mediaFormat = MediaFormat(rawValue: format.lowercased()) else { throw .unsupportedFormat(format) }
        let quality = try quality.map { text throws(SpoolError) in try Quality.parse(text, for: mediaFormat) } ?? .default(for: mediaFormat)
        return ConversionOptions(url: sourceURL, format: mediaFormat, quality: quality, platform: platform.map { String($0.prefix(64)) })
    }
}

/// A validated request: what a job runs.
public struct ConversionOptions: Sendable, Equatable, Codable {
    public var url: String
    public var format: MediaFormat
    public var quality: Quality
    public var platform: String?

    public init(url: String, format: MediaFormat, quality: Quality, platform: String? = nil) {
        self.url = url
        self.format = format
        self.quality = quality
        self.platform = platform
    }

    private enum CodingKeys: String, CodingKey { case url, format, quality, platform }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decode(String.self, forKey: .url)
        format = try container.decode(MediaFormat.self, forKey: .format)
        let qualityText = try container.decode(String.self, forKey: .quality)
        do {
            quality = try Quality.parse(qualityText, for: format)
        } catch {
            quality = .default(for: format)
        }
        platform = try container.decodeIfPresent(String.self, forKey: .platform)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(url, forKey: .url)
        try container.encode(format, forKey: .format)
        try container.encode(quality.text, forKey: .quality)
        try container.encodeIfPresent(platform, forKey: .platform)
    }
}
