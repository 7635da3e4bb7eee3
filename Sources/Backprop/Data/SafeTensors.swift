import Foundation

/// An ordered list of named tensors plus string metadata: the contents of a safetensors file.
///
/// safetensors (https://github.com/huggingface/safetensors) is an 8-byte little-endian header
/// length, a JSON header describing each tensor's dtype, shape and byte range, then the raw
/// little-endian bytes. `Backprop` writes it deterministically — tensors sorted by name,
/// `"__metadata__"` first, compact JSON padded with spaces to an 8-byte boundary — so the same
/// model always gives the same bytes (see `docs/formats.md`).
///
/// Reading accepts `F16`, `BF16`, `F32` and `F64` and converts every tensor to `Scalar`;
/// writing stores `Scalar`'s own dtype (`F32` for `Float`, `F64` for `Double`), bit-exactly.
///
///     var file = SafeTensors<Float>(tensors: [("0.weight", w), ("0.bias", b)],
///                                   metadata: ["architecture": "[64,32,10]"])
///     try file.write(to: "model.safetensors")
///     let back = try SafeTensors<Float>(contentsOf: "model.safetensors")
///     back["0.weight"]  // == w
public struct SafeTensors<Scalar: TensorScalar> {
    /// The tensors, in order: as given when built, in data-buffer order when read.
    public var tensors: [(name: String, tensor: Tensor<Scalar>)]
    /// The `__metadata__` strings (structured values are stored as JSON text inside the string).
    public var metadata: [String: String]

    /// A collection of tensors and metadata, to be written.
    public init(tensors: [(name: String, tensor: Tensor<Scalar>)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor names, in order.
    public var names: [String] { tensors.map(\.name) }

    /// The tensor called `name`, if any (the first one, should names repeat).
    public subscript(name: String) -> Tensor<Scalar>? {
        tensors.first { $0.name == name }?.tensor
    }

    /// Reads the safetensors file at `path`.
    ///
    /// - Throws: `DataError` naming `path` when it cannot be read or is not a valid file.
    public init(contentsOf path: String) throws {
        try self.init(decoding: try FileBytes.read(path), source: path)
    }

    /// Decodes a whole safetensors file held in memory.
    ///
    /// - Parameters:
    ///   - data: the file's bytes.
    ///   - source: the file name used in error messages.
    /// - Throws: `DataError` for any violation of the format (see `SafeTensorsHeader`).
    public init(decoding data: Data, source: String = "<data>") throws {
        let (tensors, metadata) = try data.withUnsafeBytes { bytes -> ([(name: String, tensor: Tensor<Scalar>)], [String: String]) in
            let header = try SafeTensorsHeader(bytes: bytes, source: source)
            let tensors = header.entries.map { entry in
                (name: entry.name,
                 tensor: Tensor<Scalar>(shape: entry.shape,
                                        scalars: Self.scalars(bytes, at: header.bufferStart + entry.begin,
                                                              count: entry.elementCount, dtype: entry.dtype)))
            }
            return (tensors, header.metadata)
        }
        self.init(tensors: tensors, metadata: metadata)
    }

    /// `count` little-endian elements of `dtype` starting at byte `offset`, converted to `Scalar`.
    /// The caller has checked that the range lies inside `bytes`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private static func scalars(_ bytes: UnsafeRawBufferPointer, at offset: Int, count: Int,
                                dtype: SafeTensorsDType) -> [Scalar] {
        var result: [Scalar] = []
        result.reserveCapacity(count)
        switch dtype {
        case .f16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 2 * i, as: UInt16.self))
                result.append(Scalar(HalfPrecision.floatFromF16(bits)))
            }
        case .bf16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 2 * i, as: UInt16.self))
                result.append(Scalar(HalfPrecision.floatFromBF16(bits)))
            }
        case .f32:
            for i in 0..<count {
                let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self))
                result.append(Scalar(Float(bitPattern: bits)))
            }
        case .f64:
            for i in 0..<count {
                let bits = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8 * i, as: UInt64.self))
                result.append(Scalar(Double(bitPattern: bits)))
            }
        case .i64:
            for i in 0..<count {
                let value = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8 * i, as: Int64.self))
                result.append(Scalar(value))
            }
        }
        return result
    }
}
