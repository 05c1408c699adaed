/// Turns a media title into a filename that is safe on every common file system and in a URL path.
///
/// Letters and digits of any script are kept (people name files in their own language); path
/// separators, reserved characters, control characters and leading dots are not, and the name is
/// capped in bytes so it fits any file system's limit with room for the extension.
public enum SafeFilename {
    public static let maxBaseBytes = 120

    public static func make(title: String, fileExtension: String) -> String {
        var base = ""
        var lastWasSpace = false
        for scalar in title.unicodeScalars {
            let character: Character
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                character = Character(scalar)
            } else if "-_.,()[]'!&+".unicodeScalars.contains(scalar) {
                character = Character(scalar)
            } else {
                character = " "
            }
            if character == " " {
                if !lastWasSpace && !base.isEmpty { base.append(" ") }
                lastWasSpace = true
            } else {
                base.append(character)
                lastWasSpace = false
            }
            if base.utf8.count >= maxBaseBytes { break }
        }
        while base.utf8.count > maxBaseBytes { base.removeLast() }
        base = String(base.drop(while: { $0 == "." || $0 == " " }))
        while let last = base.last, last == " " || last == "." { base.removeLast() }
        if base.isEmpty { base = "media" }
        return "\(base).\(fileExtension)"
    }

    /// Whether a filename from a URL may name a stored file: one path segment, no traversal.
    public static func isAcceptable(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && !name.contains("/") && !name.contains("\\") && !name.hasPrefix(".")
            && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
