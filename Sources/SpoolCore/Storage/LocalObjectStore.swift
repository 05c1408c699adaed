import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local object store: finished files under `files/{jobId}/`, per-job scratch folders under
/// `tmp/{jobId}/`, both inside one storage root.
///
/// Scratch and results share a file system on purpose: storing a result is then one `rename(2)`,
/// which is atomic, so a download never sees half a file and a crash never leaves one behind in
/// `files/`.
public struct LocalObjectStore: Sendable {
    public let root: FilePath

    /// A relative `root` is resolved against the working directory now, so that every path handed
    /// to a tool is absolute and names this server's storage only.
    public init(root: FilePath) {
        self.root = root.isAbsolute ? root.lexicallyNormalized() : FilePath(FileManager.default.currentDirectoryPath).pushing(root).lexicallyNormalized()
    }

    public var filesFolder: FilePath { root.appending("files") }
    public var scratchFolder: FilePath { root.appending("tmp") }
    /// Where running jobs' process groups are recorded (see ``ProcessRecords``).
    public var processRecords: ProcessRecords { ProcessRecords(folder: root.appending("run")) }

    /// Creates the folders the store needs.
    public func prepare() throws {
        try FileManager.default.createDirectory(atPath: filesFolder.string, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratchFolder.string, withIntermediateDirectories: true)
    }

    /// A fresh, empty scratch folder for one run of a job.
    public func makeWorkspace(for id: JobID) throws -> FilePath {
        let folder = scratchFolder.appending(id.rawValue)
        try? FileManager.default.removeItem(atPath: folder.string)
        try FileManager.default.createDirectory(atPath: folder.string, withIntermediateDirectories: true)
        return folder
    }

    /// Removes a job's scratch folder; missing is fine.
    public func removeWorkspace(for id: JobID) {
        try? FileManager.default.removeItem(atPath: scratchFolder.appending(id.rawValue).string)
    }

    /// Names of scratch folders present now (after a crash these are leftovers).
    public func workspaceNames() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: scratchFolder.string)) ?? []
    }

    /// Removes every scratch folder; run at start-up, when no job can be using one.
    public func sweepWorkspaces() -> Int {
        let names = workspaceNames()
        for name in names { try? FileManager.default.removeItem(atPath: scratchFolder.appending(name).string) }
        return names.count
    }

    /// Moves a finished file into `files/{id}/{filename}` atomically and returns its final path.
    public func store(_ file: FilePath, for id: JobID, as filename: String) throws(SpoolError) -> FilePath {
        let folder = filesFolder.appending(id.rawValue)
        let destination = folder.appending(filename)
        do {
            try FileManager.default.createDirectory(atPath: folder.string, withIntermediateDirectories: true)
        } catch {
            throw .storageFailed("The server could not create a folder for the result.")
        }
        guard rename(file.string, destination.string) == 0 else {
            throw .storageFailed("The server could not store the result (errno \(errno)).")
        }
        return destination
    }

    /// The stored file for a download URL, or nil when there is none.
    public func storedFile(for id: JobID, filename: String) -> FilePath? {
        guard SafeFilename.isAcceptable(filename) else { return nil }
        let path = filesFolder.appending(id.rawValue).appending(filename)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.string, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return path
    }

    /// Whether the store can write now (for `/readyz`).
    public func isWritable() -> Bool {
        let probe = scratchFolder.appending(".write-probe-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: probe.string, contents: Data("ok".utf8)) else { return false }
        try? FileManager.default.removeItem(atPath: probe.string)
        return true
    }
}
