import Foundation
import SystemPackage
import Subprocess

/// Where the media tools are. Each is a bare name (looked up on `PATH`) or a path; benchmarks point
/// these at synthetic stand-ins, and nothing else in Spool knows the difference.
public struct ToolPaths: Sendable, Equatable {
    public var ytDlp: String
    public var ffmpeg: String
    public var ffprobe: String

    public init(ytDlp: String = "yt-dlp", ffmpeg: String = "ffmpeg", ffprobe: String = "ffprobe") {
        self.ytDlp = ytDlp
        self.ffmpeg = ffmpeg
        self.ffprobe = ffprobe
    }

    /// The tools by their public names, for `/readyz` and start-up checks.
    public var all: [(name: String, command: String)] {
        [("yt-dlp", ytDlp), ("ffmpeg", ffmpeg), ("ffprobe", ffprobe)]
    }

    static func executable(_ command: String) -> Executable {
        command.contains("/") ? .path(FilePath(command)) : .name(command)
    }

    /// Whether `command` resolves to an executable file now. A path is checked on disk: the
    /// subprocess library accepts any path without looking, which would make `/readyz` lie.
    public static func isAvailable(_ command: String) async -> Bool {
        // On the spawn thread: the lookup runs on swift-subprocess's worker, which this may create,
        // and every tool inherits the nice value of the thread that created it (SpawnExecutor).
        let resolved = await withTaskExecutorPreference(SpawnExecutor.shared) {
            try? await executable(command).resolveExecutablePath(in: .inherit)
        }
        guard let path = resolved else { return false }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path.string, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path.string)
    }
}
