import ArgumentParser
import Backprop
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `path` (given as `option`) will be written, checked before any work so that a bad
/// output path fails fast and nothing is overwritten: a regular file or new path whose
/// directory exists and is writable (symbolic links followed to their target), or a
/// character device, FIFO or standard stream that can be opened for writing.
@discardableResult
func checkWritable(_ path: String, option: String) throws -> OutputDestination {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw CommandLineError("\(path): \(option) names a directory, not a file")
    }
    let destination: OutputDestination
    do {
        destination = try OutputDestination(resolving: path)
    } catch let error as DataError {
        throw CommandLineError("\(error) (\(option))")
    }
    switch destination {
    case let .file(target):
        let directory = (target as NSString).deletingLastPathComponent
        let dir = directory.isEmpty ? "." : directory
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandLineError("\(path): directory \(dir) does not exist (\(option))")
        }
        guard FileManager.default.isWritableFile(atPath: dir) else {
            throw CommandLineError("\(path): directory \(dir) is not writable (\(option))")
        }
    case let .stream(target):
        guard access(target, W_OK) == 0 else {
            throw CommandLineError("\(path): cannot write: \(String(cString: strerror(errno))) (\(option))")
        }
    case .descriptor:
        break
    }
    return destination
}

/// Prints `backprop: warning: <message>` on standard error: an option that has no effect, or
/// a valid but unusual value.
func warn(_ message: String) {
    CommandLineOutput.error("warning: " + message)
}

/// Rejects a non-finite value of a numeric option, naming the option.
func checkFinite<F: BinaryFloatingPoint>(_ value: F?, _ option: String) throws {
    if let value, !value.isFinite { throw CommandLineError("\(option) must be a finite number, got \(value)") }
}

/// Whether standard output is a terminal (live progress) or a pipe/file (plain lines).
var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }

/// Flushes stdout (progress lines appear promptly when piped).
func flushOutput() { fflush(stdout) }

/// "97.50%".
func percent(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }

/// Number formatting for human-readable lines.
func fixed(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }

/// A JSON number (non-finite values become null, which JSON lacks otherwise).
func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
