import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replacing a file's contents all at once: readers see the old file or the new one, never a
/// mixture, and a failed write leaves the old file exactly as it was.
///
/// The bytes go to a temporary file in the destination's directory (so the final `rename(2)`
/// stays within one file system and is atomic), which is flushed with `fsync(2)` and then
/// renamed over the destination; the directory is then synced so the rename itself survives
/// a crash. On any failure the temporary file is removed and the destination is not touched.
///
///     try AtomicFile.write(encodedCheckpoint, to: "runs/model.safetensors")
public enum AtomicFile {
    /// Writes `data` to `path` atomically (see the type's documentation).
    ///
    /// - Throws: `DataError` naming `path` and the system's reason.
    public static func write(_ data: Data, to path: String) throws {
        try write(data, to: path, beforeRename: {})
    }

    /// `write(_:to:)` with a hook run after the temporary file is complete and synced and
    /// before the rename; a throwing hook simulates a failure at the last moment (for tests).
    static func write(_ data: Data, to path: String, beforeRename: () throws -> Void) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        guard !name.isEmpty else { throw DataError(file: path, problem: "cannot write: not a file path") }
        let dirForTemp = directory.isEmpty ? "." : directory
        var random = SystemRandomNumberGenerator()
        let tempPath = dirForTemp + "/." + name + ".tmp-\(getpid())-\(String(random.next() as UInt64, radix: 36))"

        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileBytes.systemError(path, "cannot create temporary file") }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(tempPath) }
        }

        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileBytes.systemError(path, "cannot write")
                }
                offset += n
            }
        }
        guard fsync(fd) == 0 else { throw FileBytes.systemError(path, "cannot sync") }
        closed = true
        guard close(fd) == 0 else { throw FileBytes.systemError(path, "cannot close") }
        try beforeRename()
        guard rename(tempPath, path) == 0 else { throw FileBytes.systemError(path, "cannot replace") }
        renamed = true

        // Make the rename durable; failure here cannot undo it, so it is best effort.
        let dirfd = open(dirForTemp, O_RDONLY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }
}

/// `write(2)`, named apart from `AtomicFile.write`.
@inline(__always)
func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
