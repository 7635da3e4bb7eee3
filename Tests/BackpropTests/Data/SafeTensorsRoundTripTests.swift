import Foundation
import Testing
@testable import Backprop

@Suite struct SafeTensorsRoundTripTests {
    /// Tensors covering special values and shapes: scalar, empty, vector, matrix.
    static func specimen<Scalar: TensorScalar>(_: Scalar.Type) -> SafeTensors<Scalar> {
        let specials: [Scalar] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, .leastNonzeroMagnitude,
                                  .greatestFiniteMagnitude, .leastNormalMagnitude, Scalar(0.1)]
        return SafeTensors(
            tensors: [
                ("2.weight", Tensor(shape: [1, 11], scalars: specials)),
                ("0.weight", Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6].map { Scalar($0) / 7 })),
                ("0.bias", Tensor(shape: [2], scalars: [-0.5, 0.25])),
                ("10.weight", Tensor(shape: [0], scalars: [])),
                ("scalar", Tensor(Scalar(42))),
                ("naïve \"quoted\"\n", Tensor(shape: [1], scalars: [3])),
            ],
            metadata: ["architecture": "[64,32,10]", "activation": "\"tanh\"", "beta": "1.0",
                       "note": "line1\nline2\t\u{1}é"])
    }

    static func checkRoundTrip<Scalar: TensorScalar>(_ type: Scalar.Type) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("model.safetensors")
        let original = specimen(type)
        try original.write(to: path)
        let back = try SafeTensors<Scalar>(contentsOf: path)

        #expect(back.metadata == original.metadata)
        let sortedNames = original.names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        #expect(back.names == sortedNames)
        for (name, tensor) in original.tensors {
            let read = try #require(back[name])
            #expect(read.shape == tensor.shape)
            #expect(bits(read.scalars) == bits(tensor.scalars), "\(name) changed")
        }

        // The layout, checked against the format directly.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let n = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect((8 + n) % 8 == 0)
        let headerText = try #require(String(bytes: bytes[8..<(8 + n)], encoding: .utf8))
        #expect(headerText.hasPrefix("{\"__metadata__\":"))
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        #expect(header["__metadata__"] as? [String: String] == original.metadata)
        var ranges: [(Int, Int)] = []
        for (name, value) in header where name != "__metadata__" {
            let entry = try #require(value as? [String: Any])
            #expect(entry["dtype"] as? String == Scalar.dtypeName)
            let offsets = try #require(entry["data_offsets"] as? [Int])
            ranges.append((offsets[0], offsets[1]))
        }
        ranges.sort { $0 < $1 }
        var cursor = 0
        for (begin, end) in ranges {
            #expect(begin == cursor)
            cursor = end
        }
        #expect(cursor == bytes.count - 8 - n)
    }

    @Test func roundTripIsBitIdenticalAndFollowsTheLayoutForFloatAndDouble() throws {
        try Self.checkRoundTrip(Float.self)
        try Self.checkRoundTrip(Double.self)
    }

    @Test func encodingIsDeterministicWhateverTheInputOrder() throws {
        var file = Self.specimen(Float.self)
        let first = try file.encoded()
        file.tensors.reverse()
        #expect(try file.encoded() == first)
    }

    @Test func writtenBytesMatchAHandComputedLayout() throws {
        let file = SafeTensors<Float>(tensors: [("b", Tensor([1.0])), ("a", Tensor([0.5, -2.0]))],
                                      metadata: ["k": "v"])
        // 133 bytes of JSON, padded with 3 spaces so that 8 + 136 is a multiple of 8.
        let json = #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
            + "   "
        var expected: [UInt8] = [0x88, 0, 0, 0, 0, 0, 0, 0]
        expected += Array(json.utf8)
        expected += [0x00, 0x00, 0x00, 0x3F]  // a[0] = 0.5
        expected += [0x00, 0x00, 0x00, 0xC0]  // a[1] = -2
        expected += [0x00, 0x00, 0x80, 0x3F]  // b[0] = 1
        #expect([UInt8](try file.encoded()) == expected)
    }

    @Test func emptyFileWithoutMetadataIsTheMinimalHeader() throws {
        let data = try SafeTensors<Double>().encoded()
        #expect([UInt8](data) == [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        let back = try SafeTensors<Double>(decoding: data)
        #expect(back.tensors.isEmpty && back.metadata.isEmpty)
    }

    @Test func readsF16AndBF16ExactlyIntoFloatAndDouble() throws {
        // F16: 1, -2, 65504 (largest), 2⁻²⁴ (smallest subnormal), -0, +inf, 2⁻¹⁴ (smallest normal), NaN.
        let f16: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x0400, 0x7E00]
        // BF16: 1, -2.5, 2⁻¹³³ (subnormal), -inf.
        let bf16: [UInt16] = [0x3F80, 0xC020, 0x0001, 0xFF80]
        let buffer = f16.flatMap { littleEndianBytes($0) } + bf16.flatMap { littleEndianBytes($0) }
        let data = handBuiltSafeTensors(
            header: #"{"h":{"dtype":"F16","shape":[8],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[2,2],"data_offsets":[16,24]}}"#,
            buffer: buffer)
        let asDouble = try SafeTensors<Double>(decoding: data)
        let h = try #require(asDouble["h"]).scalars
        #expect(Array(h[0..<7]) == [1, -2, 65504, 0x1p-24, 0, .infinity, 0x1p-14])
        #expect(h[4].sign == .minus)
        #expect(h[7].isNaN)
        #expect(try #require(asDouble["b"]) == Tensor(shape: [2, 2], scalars: [1, -2.5, 0x1p-133, -.infinity]))
        let asFloat = try SafeTensors<Float>(decoding: data)
        #expect(Array(try #require(asFloat["h"]).scalars[0..<7]) == [1, -2, 65504, 0x1p-24, 0, .infinity, 0x1p-14])
        #expect(asFloat.names == ["h", "b"])  // data-buffer order
    }

    @Test func readsF64IntoFloatAndF32IntoDouble() throws {
        let doubles = SafeTensors<Double>(tensors: [("x", Tensor([0.1, -3]))])
        let narrowed = try SafeTensors<Float>(decoding: try doubles.encoded())
        #expect(narrowed["x"] == Tensor<Float>([0.1, -3]))
        let floats = SafeTensors<Float>(tensors: [("x", Tensor([0.1, -3]))])
        let widened = try SafeTensors<Double>(decoding: try floats.encoded())
        #expect(widened["x"] == Tensor<Double>([Double(Float(0.1)), -3]))
    }

    @Test func headerPaddedWithSpacesAndKeysInAnyOrderIsAccepted() throws {
        let data = handBuiltSafeTensors(
            header: #"{"x":{"data_offsets":[0,4],"shape":[],"dtype":"F32"},"__metadata__":{}}"# + "      ",
            buffer: littleEndianBytes(Float(2.5).bitPattern))
        let file = try SafeTensors<Float>(decoding: data)
        #expect(file["x"] == Tensor(Float(2.5)))
    }

    @Test func repeatedOrReservedTensorNamesAreRejectedOnWrite() {
        let repeated = SafeTensors<Float>(tensors: [("a", Tensor([1])), ("a", Tensor([2]))])
        expectDataError(file: "m.safetensors", containing: "\"a\" appears more than once") {
            _ = try repeated.encoded(source: "m.safetensors")
        }
        let reserved = SafeTensors<Float>(tensors: [("__metadata__", Tensor([1]))])
        expectDataError(file: "m.safetensors", containing: "cannot be named \"__metadata__\"") {
            _ = try reserved.encoded(source: "m.safetensors")
        }
    }
}
