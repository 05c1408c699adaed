/// Turns a media title into a filename that is safe on every common file system and in a URL path.
///
/// Letters, digits and combining marks of any script are kept (people name files in their own
/// language, and marks are part of their letters); path separators, reserved characters, control
/// characters and leading dots are not, and the name is capped in bytes, never inside a
/// character, so it fits any file system's limit with room for the extension.
public enum SafeFilename {
    public static let maxBaseBytes = 120

    public static func make(title: String, fileExtension: String) -> String {
        var base = ""
        var lastWasSpace = false
        for scalar in title.unicodeScalars {
            let character: Character
            let category = scalar.properties.generalCategory
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                || category == .nonspacingMark || category == .spacingMark || category == .enclosingMark
            {
                character = Character(scalar)
            } else if "-_.,()[]'!&+".unicodeScalars.contains(scalar) {
                character = Character(scalar)
            } else {
                character = " "
            }
            if character == " " {
                if !lastWasSpace && !base.isEmpty { base.append(" ") }
                lastWasSpace = true
            } else if character == "." && base.isEmpty {
                // A leading dot would hide the file; dropped before the cap counts anything.
                continue
            } else {
                // Appending scalar by scalar lets a combining mark join the character before it.
                base.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
            if base.utf8.count >= maxBaseBytes + 16 { break }
        }
        while base.utf8.count > maxBaseBytes { base.removeLast() }
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
