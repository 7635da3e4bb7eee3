import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory lock (`flock(2)`) on an output path, held while a run writes it, so that a
/// second run writing the same file is refused instead of silently replacing the first one's
/// result.
///
/// The lock is taken on a lock file beside the destination, `.NAME.lock` (the destination
/// itself is replaced by renames, so its inode cannot carry a lock), after following symbolic
/// links. The lock file holds the owner's process id, for the message a second run prints.
/// `release()` (or deinit) removes it; one left by a killed process is reused, since the
/// kernel drops a dead process's locks. Outputs that are not regular files (devices, FIFOs,
/// `/dev/stdout`) take no lock.
///
///     let lock = try OutputLock(for: "model.safetensors")   // DataError if another run holds it
///     defer { lock.release() }
public final class OutputLock {
    /// The output path as given.
    public let path: String
    /// The lock file, or nil for an output that is not a regular file.
    public let lockPath: String?
    private var fd: Int32 = -1

    /// Takes the lock without waiting.
    ///
    /// - Throws: `DataError` naming `path` when another process holds the lock, or when the
    ///   lock file cannot be created.
    public init(for path: String) throws {
        self.path = path
        guard case let .file(target) = try OutputDestination(resolving: path) else {
            lockPath = nil
            return
        }
        let directory = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        let lockPath = (directory.isEmpty ? "" : directory + "/") + "." + name + ".lock"
        self.lockPath = lockPath
        // A lock file may be unlinked by its owner between our open and our flock; then the
        // lock we hold is on a file no other process can find, so start again.
        for _ in 0..<100 {
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FileBytes.systemError(path, "cannot create the lock file \(lockPath)") }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let reason = errno
                let owner = Self.owner(fd)
                _ = systemClose(fd)
                if reason == EWOULDBLOCK || reason == EAGAIN {
                    let who = owner.map { "another process (pid \($0))" } ?? "another process"
                    throw DataError(file: path, problem: "\(who) is writing this file; wait for it to finish or choose another path")
                }
                errno = reason
                throw FileBytes.systemError(path, "cannot lock \(lockPath)")
            }
            var held = stat(), named = stat()
            if fstat(fd, &held) == 0, stat(lockPath, &named) == 0, held.st_ino == named.st_ino, held.st_dev == named.st_dev {
                let text = Data("\(getpid())\n".utf8)
                _ = ftruncate(fd, 0)
                _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                self.fd = fd
                return
            }
            _ = systemClose(fd)
        }
        throw DataError(file: path, problem: "cannot lock \(lockPath): it keeps being replaced")
    }

    /// Removes the lock file and releases the lock (idempotent).
    public func release() {
        guard fd >= 0, let lockPath else { return }
        unlink(lockPath)  // while still holding the lock, so no other process holds it on the unlinked file
        _ = systemClose(fd)
        fd = -1
    }

    deinit { release() }

    /// The process id written in the lock file, if it holds one.
    private static func owner(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
