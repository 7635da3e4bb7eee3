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
/// Only regular files (and new paths) are replaced that way. A symbolic link is followed to
/// its target, which is replaced and the link kept. A character device or a FIFO
/// (`/dev/null`, `/dev/full`, a named pipe) is written straight through, and `/dev/stdout`,
/// `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N` write to this process's own descriptor —
/// so none of them is ever replaced by a regular file (see `OutputDestination`).
///
/// A process killed between creating its temporary file (`.NAME.tmp-PID-RANDOM`) and the
/// rename leaves that file behind; the next write of the same file removes every such
/// temporary whose process no longer exists.
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
        switch try OutputDestination(resolving: path) {
        case let .file(target):
            try replace(target, with: data, reportingAs: path, beforeRename: beforeRename)
        case .stream, .descriptor:
            let stream = try StreamingOutput(path)
            try stream.write(data)
            try stream.close()
        }
    }

    /// The temporary-file prefix for `name`: `.NAME.tmp-`.
    static func temporaryPrefix(_ name: String) -> String { "." + name + ".tmp-" }

    private static func replace(_ target: String, with data: Data, reportingAs path: String,
                                beforeRename: () throws -> Void) throws {
        let directory = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        guard !name.isEmpty else { throw DataError(file: path, problem: "cannot write: not a file path") }
        let dirForTemp = directory.isEmpty ? "." : directory
        removeStaleTemporaries(of: name, in: dirForTemp)
        var random = SystemRandomNumberGenerator()
        let tempPath = dirForTemp + "/" + temporaryPrefix(name) + "\(getpid())-\(String(random.next() as UInt64, radix: 36))"

        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileBytes.systemError(path, "cannot create temporary file") }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(fd) }
            if !renamed { unlink(tempPath) }
        }

        try writeAll(data, to: fd, path: path)
        guard fsync(fd) == 0 else { throw FileBytes.systemError(path, "cannot sync") }
        closed = true
        guard close(fd) == 0 else { throw FileBytes.systemError(path, "cannot close") }
        try beforeRename()
        guard rename(tempPath, target) == 0 else { throw FileBytes.systemError(path, "cannot replace") }
        renamed = true

        // Make the rename durable; failure here cannot undo it, so it is best effort.
        let dirfd = open(dirForTemp, O_RDONLY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }

    /// Removes `.NAME.tmp-PID-*` files in `directory` left by processes that no longer exist.
    /// Temporaries of live processes (another run writing the same file) are left alone.
    static func removeStaleTemporaries(of name: String, in directory: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let prefix = temporaryPrefix(name)
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH {
                unlink(directory + "/" + entry)
            }
        }
    }

    /// Writes every byte of `data` to `fd`, retrying after interruptions.
    static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
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
    }
}

/// What writing to a path would write to, after following symbolic links.
public enum OutputDestination: Equatable, Sendable {
    /// A regular file, or a path where nothing exists yet: replaced atomically (`AtomicFile`).
    /// The path is the link's final target when the given path was a symbolic link.
    case file(String)
    /// A character device or a FIFO: written straight through, never replaced.
    case stream(String)
    /// This process's open descriptor (`/dev/stdout` is 1, `/dev/stderr` 2, `/dev/fd/N` N).
    case descriptor(Int32)

    /// Resolves `path` hop by hop through symbolic links (at most 40).
    ///
    /// - Throws: `DataError` naming `path` for a directory, a block device or socket, a loop of
    ///   links, or a path that cannot be examined.
    public init(resolving path: String) throws {
        func fail(_ problem: String) -> DataError { DataError(file: path, problem: problem) }
        guard !path.isEmpty else { throw fail("cannot write: not a file path") }
        var current = path
        for _ in 0..<40 {
            if let fd = Self.descriptorAlias(current) {
                self = .descriptor(fd)
                return
            }
            var info = stat()
            if lstat(current, &info) != 0 {
                if errno == ENOENT {
                    self = .file(current)
                    return
                }
                throw FileBytes.systemError(path, "cannot examine")
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                self = .file(current)
                return
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(current, &buffer, buffer.count - 1)
                guard n >= 0 else { throw FileBytes.systemError(path, "cannot read the link") }
                let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if target.hasPrefix("/") {
                    current = target
                } else {
                    let directory = (current as NSString).deletingLastPathComponent
                    current = directory.isEmpty ? target : directory + "/" + target
                }
            case S_IFCHR, S_IFIFO:
                self = .stream(current)
                return
            case S_IFDIR:
                throw fail("cannot replace: Is a directory")
            default:
                throw fail("is neither a regular file, a character device nor a FIFO; not writing to it")
            }
        }
        throw fail("cannot resolve: Too many levels of symbolic links")
    }

    /// Whether writing replaces a regular file atomically (rather than streaming).
    public var isRegularFile: Bool {
        if case .file = self { return true }
        return false
    }

    /// The descriptor that `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and
    /// `/proc/self/fd/N` name in this process.
    static func descriptorAlias(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return 1
        case "/dev/stderr": return 2
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
                let rest = path.dropFirst(prefix.count)
                if !rest.isEmpty, rest.allSatisfy(\.isASCII), let n = Int32(rest), n >= 0 { return n }
            }
            return nil
        }
    }
}

/// Writing straight through to a character device, a FIFO or one of this process's own
/// descriptors (see `OutputDestination`): for output that streams, such as metrics lines
/// written as each epoch ends. A regular file is refused (it is to be replaced atomically).
public final class StreamingOutput {
    /// The path as given, for messages.
    public let path: String
    private var fd: Int32
    private let ownsDescriptor: Bool

    /// Opens `path` for writing without creating or truncating anything.
    ///
    /// - Throws: `DataError` naming `path` when it is a regular file or new path, or cannot be opened.
    public init(_ path: String) throws {
        self.path = path
        switch try OutputDestination(resolving: path) {
        case .file:
            throw DataError(file: path, problem: "is a regular file; it is replaced atomically, not streamed to")
        case let .stream(target):
            let fd = open(target, O_WRONLY | O_CLOEXEC | O_NOCTTY)
            guard fd >= 0 else { throw FileBytes.systemError(path, "cannot open") }
            self.fd = fd
            ownsDescriptor = true
        case let .descriptor(n):
            guard fcntl(n, F_GETFD) >= 0 else { throw FileBytes.systemError(path, "cannot write") }
            fd = n
            ownsDescriptor = false
        }
    }

    /// Writes every byte of `data` (standard output and error are flushed first, so the bytes
    /// follow what was printed before).
    ///
    /// - Throws: `DataError` naming the path and the system's reason (`No space left on device`).
    public func write(_ data: Data) throws {
        guard fd >= 0 else { throw DataError(file: path, problem: "cannot write: the stream is closed") }
        fflush(nil)
        try AtomicFile.writeAll(data, to: fd, path: path)
    }

    /// Closes the stream (not this process's standard descriptors).
    public func close() throws {
        guard fd >= 0 else { return }
        defer { fd = -1 }
        if ownsDescriptor, systemClose(fd) != 0 { throw FileBytes.systemError(path, "cannot close") }
    }

    deinit {
        if fd >= 0 && ownsDescriptor { _ = systemClose(fd) }
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

/// `close(2)`, named apart from `StreamingOutput.close`.
@inline(__always)
func systemClose(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    return Glibc.close(fd)
    #else
    return Darwin.close(fd)
    #endif
}
