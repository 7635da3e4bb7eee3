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
func flushOutput() { fflush(nil) }   // nil: every output stream, without naming the C global `stdout`

/// "97.50%".
func percent(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }

/// Number formatting for human-readable lines.
func fixed(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }

/// A JSON number (non-finite values become null, which JSON lacks otherwise).
/// One JSON object on one line, keys sorted (Foundation's encoder keeps no declaration order).
enum JSONLine {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // The values are numbers, strings and arrays of them, with non-finite numbers written
        // as null (see `FiniteOrNull`), so encoding cannot fail.
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
    }
}

/// A number that JSON writes as null when it is NaN or infinite.
struct FiniteOrNull<Value: BinaryFloatingPoint & Encodable>: Encodable {
    let value: Value
    init(_ value: Value) { self.value = value }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if value.isFinite { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// A line of `--metrics`: one epoch.
struct EpochMetrics: Encodable {
    var epoch: Int
    var trainLoss, validationLoss, validationAccuracy, learningRate, seconds: Double

    enum CodingKeys: String, CodingKey {
        case epoch, trainLoss = "train_loss", validationLoss = "val_loss", validationAccuracy = "val_accuracy"
        case learningRate = "lr", seconds
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(FiniteOrNull(trainLoss), forKey: .trainLoss)
        try c.encode(FiniteOrNull(validationLoss), forKey: .validationLoss)
        try c.encode(FiniteOrNull(validationAccuracy), forKey: .validationAccuracy)
        try c.encode(FiniteOrNull(learningRate), forKey: .learningRate)
        try c.encode(FiniteOrNull(seconds), forKey: .seconds)
    }
}

/// The last line of `--metrics`: the test result.
struct TestMetrics: Encodable {
    var testLoss, testAccuracy, seconds: Double

    enum CodingKeys: String, CodingKey { case testLoss = "test_loss", testAccuracy = "test_accuracy", seconds }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(FiniteOrNull(testLoss), forKey: .testLoss)
        try c.encode(FiniteOrNull(testAccuracy), forKey: .testAccuracy)
        try c.encode(FiniteOrNull(seconds), forKey: .seconds)
    }
}

/// A line of `predict --json`.
struct PredictionJSON: Encodable {
    var label: Int
    var probabilities: [FiniteOrNull<Float>]
}
