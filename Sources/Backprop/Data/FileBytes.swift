import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a whole file into memory, with failures reported as one-line `DataError`s.
enum FileBytes {
    /// The contents of the file at `path`.
    ///
    /// - Throws: `DataError` naming `path` and the system's reason (`No such file or directory`, …).
    static func read(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError(path, "cannot open") }
        defer { close(fd) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw systemError(path, "cannot read")
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return data
    }

    /// A `DataError` for the current `errno`, e.g. `"cannot open: No such file or directory"`.
    static func systemError(_ path: String, _ action: String) -> DataError {
        let reason = String(cString: strerror(errno))
        return DataError(file: path, problem: "\(action): \(reason)")
    }
}

/// `read(2)`, named apart from `FileBytes.read`.
@inline(__always)
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, buffer, count)
    #else
    return Darwin.read(fd, buffer, count)
    #endif
}
