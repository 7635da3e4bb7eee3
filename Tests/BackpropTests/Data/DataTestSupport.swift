import Foundation
import Testing
@testable import Backprop

/// A fresh empty directory under the system temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "backprop-data-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// The names of the files in the directory.
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Little-endian bytes of an integer.
func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

/// Big-endian bytes of an integer.
func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

/// A safetensors file built by hand: 8-byte LE length of `header`, `header`, `buffer`.
func handBuiltSafeTensors(header: String, buffer: [UInt8] = []) -> Data {
    let json = Array(header.utf8)
    return Data(littleEndianBytes(UInt64(json.count)) + json + buffer)
}

/// The raw bytes of the scalars (for bit-exact comparison, NaN payloads included).
func bits<Scalar: TensorScalar>(_ scalars: [Scalar]) -> [UInt8] {
    scalars.withUnsafeBytes { Array($0) }
}

/// Runs `body`, expecting a `DataError`; checks that its one-line description names `file`
/// and contains `fragment`. Returns the error.
@discardableResult
func expectDataError(file: String, containing fragment: String,
                     sourceLocation: SourceLocation = #_sourceLocation,
                     _ body: () throws -> Void) -> DataError? {
    do {
        try body()
        Issue.record("expected a DataError containing \"\(fragment)\", but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as DataError {
        let text = error.description
        #expect(text.hasPrefix(file + ": "), "message \"\(text)\" does not start with the file name", sourceLocation: sourceLocation)
        #expect(text.contains(fragment), "message \"\(text)\" lacks \"\(fragment)\"", sourceLocation: sourceLocation)
        #expect(!text.contains("\n"), "message \"\(text)\" spans several lines", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a DataError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
