import Foundation
import Testing
@testable import Backprop

/// A malformed safetensors file and a fragment its error message must contain.
struct MalformedSafeTensors: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: Data
    let fragment: String
    var testDescription: String { name }

    init(_ name: String, _ bytes: Data, _ fragment: String) {
        self.name = name
        self.bytes = bytes
        self.fragment = fragment
    }

    init(_ name: String, header: String, buffer: [UInt8] = [], _ fragment: String) {
        self.init(name, handBuiltSafeTensors(header: header, buffer: buffer), fragment)
    }

    static let eightBytes = [UInt8](repeating: 0, count: 8)

    static let all: [MalformedSafeTensors] = [
        .init("file shorter than the length field", Data([1, 2, 3, 4, 5]), "too short for the 8-byte header length"),
        .init("header length larger than the file", Data(littleEndianBytes(UInt64(1000)) + Array("{}".utf8)),
              "header length 1000 exceeds the 2 bytes"),
        .init("header length near UInt64.max", Data(littleEndianBytes(UInt64.max) + Array("{}".utf8)),
              "header length 18446744073709551615 exceeds"),
        .init("header not UTF-8", Data(littleEndianBytes(UInt64(3)) + [0x7B, 0xFF, 0x7D]), "not valid UTF-8"),
        .init("malformed JSON", header: #"{"a": {"dtype": "F32""#, "not valid JSON"),
        .init("header is an array", header: "[1, 2]", "does not start with '{'"),
        .init("entry is not an object", header: #"{"a": 5}"#, #"tensor "a": entry is not a JSON object"#),
        .init("missing dtype", header: #"{"a": {"shape": [], "data_offsets": [0, 0]}}"#, "missing or non-string \"dtype\""),
        .init("unknown dtype", header: #"{"a": {"dtype": "F7", "shape": [1], "data_offsets": [0, 4]}}"#,
              buffer: [0, 0, 0, 0], #"unknown dtype "F7""#),
        .init("unsupported dtype", header: #"{"a": {"dtype": "I32", "shape": [1], "data_offsets": [0, 4]}}"#,
              buffer: [0, 0, 0, 0], "unsupported dtype I32"),
        .init("negative extent", header: #"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}"#,
              "\"shape\" holds the number -1, not a non-negative integer"),
        .init("boolean extent", header: #"{"a": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}}"#,
              buffer: [0, 0, 0, 0], "\"shape\" holds a boolean, not a non-negative integer"),
        .init("fractional extent", header: #"{"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#,
              buffer: [0, 0, 0, 0], "\"shape\" holds the number 1.5, not a non-negative integer"),
        .init("offsets reversed", header: #"{"a": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}"#,
              buffer: [0, 0, 0, 0], "data_offsets [4, 0] end before they begin"),
        .init("one offset", header: #"{"a": {"dtype": "F32", "shape": [0], "data_offsets": [0]}}"#,
              "\"data_offsets\" is not a pair [begin, end]"),
        .init("shape and offsets disagree", header: #"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#,
              buffer: eightBytes, "shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8"),
        .init("shape overflows", header: #"{"a": {"dtype": "F64", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}"#,
              buffer: eightBytes, "has too many elements"),
        .init("offsets past the buffer", header: #"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#,
              buffer: eightBytes, "extend past the end of the 8-byte data buffer"),
        .init("overlapping tensors", header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#,
              buffer: eightBytes + [0, 0, 0, 0], #"tensors "a" and "b" overlap"#),
        .init("hole between tensors", header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#,
              buffer: eightBytes + [0, 0, 0, 0], "bytes 4..<8 of the data buffer belong to no tensor"),
        .init("buffer not covered", header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#,
              buffer: eightBytes, "bytes 4..<8 of the data buffer belong to no tensor"),
        .init("metadata not an object", header: #"{"__metadata__": 5}"#, "__metadata__ is not a JSON object"),
        .init("metadata value not a string", header: #"{"__metadata__": {"beta": 1.0}}"#,
              #"__metadata__ value for "beta" is not a string"#),
        // The reference implementation's strictness (Python's safetensors, serde_json).
        .init("duplicate __metadata__", header: #"{"__metadata__": {"a": "1"}, "__metadata__": {"a": "2"}}"#,
              #"not valid JSON: duplicate key "__metadata__" at byte 29"#),
        .init("duplicate tensor name", header: #"{"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}"#,
              #"duplicate key "a""#),
        .init("duplicate tensor name written with an escape", header: #"{"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "\u0061": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}"#,
              #"duplicate key "a""#),
        .init("duplicate field in an entry", header: #"{"a": {"dtype": "F32", "shape": [0], "shape": [1], "data_offsets": [0, 0]}}"#,
              #"duplicate key "shape""#),
        .init("duplicate metadata key", header: #"{"__metadata__": {"k": "1", "k": "2"}}"#, #"duplicate key "k""#),
        .init("float data_offsets", header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0.0, 4.0]}}"#,
              buffer: [0, 0, 0, 0], "\"data_offsets\" holds the number 0.0, not a non-negative integer"),
        .init("float shape", header: #"{"a": {"dtype": "F32", "shape": [1.0], "data_offsets": [0, 4]}}"#,
              buffer: [0, 0, 0, 0], "\"shape\" holds the number 1.0, not a non-negative integer"),
        .init("exponent in an offset", header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4e0]}}"#,
              buffer: [0, 0, 0, 0], "\"data_offsets\" holds the number 4e0, not a non-negative integer"),
        .init("offset beyond Int", header: #"{"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 99999999999999999999]}}"#,
              "holds the number 99999999999999999999, not a non-negative integer"),
        .init("header length beyond 100 MB", Data(littleEndianBytes(UInt64(100_000_001)) + Array("{}".utf8)),
              "exceeds the format's limit of 100000000 bytes"),
        .init("whitespace before the header", header: #" {}"#, "does not start with '{'"),
        .init("text after the header", header: #"{} x"#, "unexpected text after the JSON value"),
        .init("lone surrogate in a name", header: #"{"\ud800": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}"#,
              "lone leading surrogate"),
        .init("raw control character in a name", header: "{\"a\u{1}\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [0, 0]}}",
              "control character in a string"),
        .init("nesting deeper than 128 levels", header: "{\"__metadata__\":" + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}",
              "nesting deeper than 128 levels"),
        .init("leading zero", header: #"{"a": {"dtype": "F32", "shape": [01], "data_offsets": [0, 4]}}"#,
              buffer: [0, 0, 0, 0], "number with a leading zero"),
    ]
}

@Suite struct SafeTensorsValidationTests {
    @Test(arguments: MalformedSafeTensors.all)
    func malformedFileIsRejectedWithOneLineMessageNamingTheFile(_ specimen: MalformedSafeTensors) {
        expectDataError(file: "bad.safetensors", containing: specimen.fragment) {
            _ = try SafeTensors<Float>(decoding: specimen.bytes, source: "bad.safetensors")
        }
    }

    /// What the reference implementation accepts is read: tensors in any header order, zero-size
    /// tensors sharing an offset, padding spaces, escapes in names and a null __metadata__.
    @Test func strictReaderStillAcceptsWhatTheReferenceAccepts() throws {
        let header = #"{"b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8], "extra": [1.5]}, "\u00e9": {"dtype": "F32", "shape": [0, 3], "data_offsets": [4, 4]}, "__metadata__": null, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "z": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}}   "#
        let file = try SafeTensors<Float>(decoding: handBuiltSafeTensors(header: header, buffer: bits([Float(1), 2])), source: "ok")
        #expect(file["a"] == Tensor([1]) && file["b"] == Tensor([2]))
        #expect(file["é"]?.shape == [0, 3] && file["z"]?.shape == [0])
        #expect(file.metadata.isEmpty)
    }

    @Test func readingFromDiskNamesThePath() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("broken.safetensors")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        expectDataError(file: path, containing: "too short") { _ = try SafeTensors<Double>(contentsOf: path) }
        let missing = directory.file("missing.safetensors")
        expectDataError(file: missing, containing: "cannot open: No such file or directory") {
            _ = try SafeTensors<Double>(contentsOf: missing)
        }
    }
}
