import ArgumentParser
import Backprop
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks that `path` can be written later: its directory exists and it is not a directory.
/// Called before any work, so a bad output path fails fast and nothing is overwritten.
func checkWritable(_ path: String, option: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw CommandLineError("\(path): \(option) names a directory, not a file")
    }
    let directory = (path as NSString).deletingLastPathComponent
    let dir = directory.isEmpty ? "." : directory
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw CommandLineError("\(path): directory \(dir) does not exist (\(option))")
    }
    guard FileManager.default.isWritableFile(atPath: dir) else {
        throw CommandLineError("\(path): directory \(dir) is not writable (\(option))")
    }
}

/// Whether standard output is a terminal (live progress) or a pipe/file (plain lines).
var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }

/// Flushes stdout (progress lines appear promptly when piped).
func flushOutput() { fflush(nil) }   // nil: every output stream, without naming the C global `stdout`

/// "97.50%".
func percent(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }

/// Number formatting for human-readable lines.
func fixed(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }

/// A JSON number (non-finite values become null, which JSON lacks otherwise).
func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
