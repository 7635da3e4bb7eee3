import Foundation

/// The parsed and validated header of a safetensors file.
///
/// Layout of the file (all integers little-endian):
///
///     [8 bytes: UInt64 N][N bytes: UTF-8 JSON header, may end in spaces][data buffer]
///
/// The header maps each tensor name to `{"dtype": "F32", "shape": [..], "data_offsets": [b, e]}`
/// with offsets relative to the start of the data buffer, plus an optional `"__metadata__"`
/// object of string values. Validation guarantees that every entry's byte range lies inside the
/// buffer, has exactly `product(shape) · dtype size` bytes, and that the ranges together tile
/// the buffer with no gap and no overlap — so decoding afterwards can index without checks.
struct SafeTensorsHeader {
    /// One tensor's description.
    struct Entry {
        var name: String
        var dtype: SafeTensorsDType
        var shape: [Int]
        /// Byte range within the data buffer.
        var begin: Int
        var end: Int
        var elementCount: Int
    }

    /// The entries in data-buffer order (by `begin`, then name).
    var entries: [Entry]
    /// The `__metadata__` strings.
    var metadata: [String: String]
    /// Offset of the data buffer from the start of the file.
    var bufferStart: Int

    /// The largest header the reference implementation accepts (100 MB).
    static let maximumHeaderLength = 100_000_000

    /// Parses and validates the header of `bytes`, a whole safetensors file, by the rules of
    /// the format's reference implementation (Python's `safetensors`): a header of at most
    /// 100 MB that starts with `{`, strict JSON with no key repeated anywhere, integer (not
    /// `128.0`, not `1e2`) shapes and offsets, and tensors that tile the data buffer exactly.
    init(bytes: UnsafeRawBufferPointer, source: String) throws {
        func fail(_ problem: String) -> DataError { DataError(file: source, problem: problem) }

        guard bytes.count >= 8 else {
            throw fail("safetensors file is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard declared <= UInt64(Self.maximumHeaderLength) else {
            throw fail("safetensors header length \(declared) exceeds the format's limit of \(Self.maximumHeaderLength) bytes")
        }
        guard declared <= UInt64(bytes.count - 8) else {
            throw fail("safetensors header length \(declared) exceeds the \(bytes.count - 8) bytes after the length field")
        }
        let headerLength = Int(declared)
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail("safetensors header is not valid UTF-8")
        }
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw fail("safetensors header does not start with '{'")
        }
        let json: StrictJSON.Value
        do {
            json = try StrictJSON.parse(headerBytes)
        } catch let failure as StrictJSON.Failure {
            throw fail("safetensors header is not valid JSON: \(failure)")
        }
        guard case let .object(members) = json else {
            throw fail("safetensors header is not a JSON object")
        }

        bufferStart = 8 + headerLength
        let bufferLength = bytes.count - bufferStart
        metadata = [:]
        entries = []

        for (name, value) in members {
            if name == "__metadata__" {
                if case .null = value { continue }
                guard case let .object(items) = value else {
                    throw fail("safetensors __metadata__ is not a JSON object")
                }
                for (key, item) in items {
                    guard case let .string(string) = item else {
                        throw fail("safetensors __metadata__ value for \(DataError.quoted(Substring(key))) is not a string")
                    }
                    metadata[key] = string
                }
                continue
            }
            let label = "tensor \(DataError.quoted(Substring(name), limit: 64))"
            guard case let .object(fieldList) = value else {
                throw fail("\(label): entry is not a JSON object")
            }
            let fields = Dictionary(fieldList.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            guard case let .string(dtypeName)? = fields["dtype"] else {
                throw fail("\(label): missing or non-string \"dtype\"")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                if SafeTensorsDType.unsupportedNames.contains(dtypeName) {
                    throw fail("\(label): unsupported dtype \(dtypeName) (readable: F16, BF16, F32, F64, I64)")
                }
                throw fail("\(label): unknown dtype \(DataError.quoted(Substring(dtypeName)))")
            }
            let shape: [Int]
            switch Self.naturals(fields["shape"]) {
            case let .success(values): shape = values
            case let .failure(problem): throw fail("\(label): \"shape\" \(problem)")
            }
            let offsets: [Int]
            switch Self.naturals(fields["data_offsets"]) {
            case let .success(values) where values.count == 2: offsets = values
            case .success: throw fail("\(label): \"data_offsets\" is not a pair [begin, end]")
            case let .failure(problem): throw fail("\(label): \"data_offsets\" \(problem)")
            }
            guard offsets[0] <= offsets[1] else {
                throw fail("\(label): data_offsets \(offsets) end before they begin")
            }
            var elementCount = 1
            for extent in shape {
                let (product, overflow) = elementCount.multipliedReportingOverflow(by: extent)
                guard !overflow else { throw fail("\(label): shape \(shape) has too many elements") }
                elementCount = product
            }
            let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow, byteCount == offsets[1] - offsets[0] else {
                throw fail("\(label): shape \(shape) of \(dtype.rawValue) needs \(overflow ? "too many" : String(byteCount)) bytes but data_offsets \(offsets) span \(offsets[1] - offsets[0])")
            }
            guard offsets[1] <= bufferLength else {
                throw fail("\(label): data_offsets \(offsets) extend past the end of the \(bufferLength)-byte data buffer")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1],
                                 elementCount: elementCount))
        }

        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0
        for (i, entry) in entries.enumerated() {
            if entry.begin < cursor {
                let previous = entries[i - 1]
                throw fail("tensors \(DataError.quoted(Substring(previous.name), limit: 64)) and \(DataError.quoted(Substring(entry.name), limit: 64)) overlap (data_offsets [\(previous.begin), \(previous.end)] and [\(entry.begin), \(entry.end)])")
            }
            if entry.begin > cursor {
                throw fail("bytes \(cursor)..<\(entry.begin) of the data buffer belong to no tensor")
            }
            cursor = entry.end
        }
        if cursor != bufferLength {
            throw fail("bytes \(cursor)..<\(bufferLength) of the data buffer belong to no tensor")
        }
    }

    /// `value` as an array of non-negative integer literals that fit in `Int`, or what is wrong.
    private static func naturals(_ value: StrictJSON.Value?) -> Result<[Int], NaturalsProblem> {
        guard let value else { return .failure(NaturalsProblem(text: "is missing")) }
        guard case let .array(items) = value else { return .failure(NaturalsProblem(text: "is \(value.kind), not an array")) }
        var result: [Int] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let n = item.natural else {
                return .failure(NaturalsProblem(text: "holds \(item.kind), not a non-negative integer"))
            }
            result.append(n)
        }
        return .success(result)
    }

    struct NaturalsProblem: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }
}
