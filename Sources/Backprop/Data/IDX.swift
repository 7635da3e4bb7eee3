import Foundation

/// The element types of the IDX format (the third magic byte).
public enum IDXElementType: UInt8, Sendable {
    /// Unsigned 8-bit integer (MNIST images and labels).
    case ubyte = 0x08
    /// Signed 8-bit integer.
    case byte = 0x09
    /// Signed 16-bit big-endian integer.
    case short = 0x0B
    /// Signed 32-bit big-endian integer.
    case int = 0x0C
    /// IEEE binary32, big-endian.
    case float = 0x0D
    /// IEEE binary64, big-endian.
    case double = 0x0E

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .ubyte, .byte: return 1
        case .short: return 2
        case .int, .float: return 4
        case .double: return 8
        }
    }
}

/// The contents of an IDX file: its stored element type and its values as a tensor.
public struct IDXArray<Scalar: TensorScalar> {
    /// How the values were stored in the file.
    public var elementType: IDXElementType
    /// The values converted to `Scalar`, with the file's dimensions as shape.
    public var tensor: Tensor<Scalar>
    /// The file's dimensions, outermost first.
    public var shape: [Int] { tensor.shape }
}

/// The IDX format of the MNIST files, raw or gzip-compressed.
///
/// Layout (all multi-byte values big-endian):
///
///     00 00 <type> <rank>  |  rank × UInt32 dimension  |  product(dimensions) × element
///
/// with `<type>` one of `IDXElementType`. A file starting with the gzip magic `1f 8b` is
/// decompressed first (bounded by `gzipLimit`). The payload must have exactly the size the
/// dimensions declare: a short file and trailing bytes are both errors, and the sizes are
/// checked before anything is allocated. A rank of 0 is rejected, and so is a finite value too
/// large for the requested scalar type (a Float64 file read as `Float`). Non-finite values are
/// returned as stored; `LabeledDataset.readIDX` rejects them.
///
///     let images = try IDX.read("train-images-idx3-ubyte.gz", as: Float.self)  // [60000, 28, 28]
public enum IDX {
    /// Reads the IDX file (raw or gzip) at `path`.
    ///
    /// - Throws: `DataError` naming `path`.
    public static func read<Scalar: TensorScalar>(_ path: String, as type: Scalar.Type,
                                                  gzipLimit: Int = Gzip.defaultLimit) throws -> IDXArray<Scalar> {
        try decode(try FileBytes.read(path), source: path, as: type, gzipLimit: gzipLimit)
    }

    /// Decodes a whole IDX file (raw or gzip) held in memory.
    ///
    /// - Parameters:
    ///   - data: the file's bytes.
    ///   - source: the file name used in error messages.
    ///   - type: the scalar type of the result; every element is converted to it.
    ///   - gzipLimit: the most decompressed bytes accepted from a gzip file.
    /// - Throws: `DataError` for bad magic, unknown type, size mismatch, or a bad gzip stream.
    public static func decode<Scalar: TensorScalar>(_ data: Data, source: String = "<data>", as type: Scalar.Type,
                                                    gzipLimit: Int = Gzip.defaultLimit) throws -> IDXArray<Scalar> {
        let raw = Gzip.isGzip(data) ? try Gzip.decompress(data, source: source, limit: gzipLimit) : data
        return try raw.withUnsafeBytes { try decode(bytes: $0, source: source) }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private static func decode<Scalar: TensorScalar>(bytes: UnsafeRawBufferPointer, source: String) throws -> IDXArray<Scalar> {
        func fail(_ problem: String) -> DataError { DataError(file: source, problem: problem) }
        guard bytes.count >= 4 else {
            throw fail("IDX file is \(bytes.count) bytes, too short for the 4-byte magic number")
        }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw fail("not an IDX file (magic starts \(hex(bytes[0])) \(hex(bytes[1])), expected 00 00)")
        }
        guard let elementType = IDXElementType(rawValue: bytes[2]) else {
            throw fail("IDX: unknown element type 0x\(hex(bytes[2]))")
        }
        let rank = Int(bytes[3])
        guard rank > 0 else { throw fail("IDX: rank 0 (no dimensions) is not supported") }
        let headerLength = 4 + 4 * rank
        guard bytes.count >= headerLength else {
            throw fail("IDX: header declares \(rank) dimensions (\(headerLength) bytes) but the file has \(bytes.count) bytes")
        }
        var shape: [Int] = []
        var count = 1
        for d in 0..<rank {
            let extent = Int(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 4 + 4 * d, as: UInt32.self)))
            shape.append(extent)
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else { throw fail("IDX: dimensions \(shape)… have too many elements") }
            count = product
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: elementType.byteCount)
        let payload = bytes.count - headerLength
        guard !overflow, needed == payload else {
            let need = overflow ? "more than \(Int.max)" : String(needed)
            let kind = !overflow && payload > needed ? "trailing bytes" : "truncated"
            throw fail("IDX: payload is \(payload) bytes but dimensions \(shape) of \(elementType) need \(need) (\(kind))")
        }

        var scalars: [Scalar] = []
        scalars.reserveCapacity(count)
        let base = headerLength
        switch elementType {
        case .ubyte:
            // The common case (MNIST's images): converted in place, without an append per byte.
            scalars = [Scalar](unsafeUninitializedCapacity: count) { out, initialized in
                let source = bytes.baseAddress! + base
                for i in 0..<count { (out.baseAddress! + i).initialize(to: Scalar(source.load(fromByteOffset: i, as: UInt8.self))) }
                initialized = count
            }
        case .byte:
            for i in 0..<count { scalars.append(Scalar(Int8(bitPattern: bytes[base + i]))) }
        case .short:
            for i in 0..<count {
                scalars.append(Scalar(Int16(bigEndian: bytes.loadUnaligned(fromByteOffset: base + 2 * i, as: Int16.self))))
            }
        case .int:
            for i in 0..<count {
                scalars.append(Scalar(Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: base + 4 * i, as: Int32.self))))
            }
        case .float:
            for i in 0..<count {
                let bits = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self))
                scalars.append(Scalar(Float(bitPattern: bits)))
            }
        case .double:
            for i in 0..<count {
                let bits = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: base + 8 * i, as: UInt64.self))
                let value = Double(bitPattern: bits)
                let converted = Scalar(value)
                // Range-checked: a finite value too large for Scalar is an error, not ±∞.
                guard converted.isFinite || !value.isFinite else {
                    throw fail("IDX: element \(i) is \(value), outside the range of \(Scalar.self)")
                }
                scalars.append(converted)
            }
        }
        return IDXArray(elementType: elementType, tensor: Tensor(shape: shape, scalars: scalars))
    }

    /// Two lowercase hex digits.
    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}
