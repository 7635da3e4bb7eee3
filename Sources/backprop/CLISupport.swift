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
/// One JSON object on one line, keys in declaration order.
enum JSONLine {
    static func encode<T: Encodable>(_ value: T) -> String {
        // The values are numbers, strings and arrays of them, with non-finite numbers written
        // as null (see `FiniteOrNull`), so encoding cannot fail.
        (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "{}"
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
