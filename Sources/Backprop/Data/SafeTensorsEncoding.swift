import Foundation

extension SafeTensors {
    /// The file's bytes: header length, JSON header, data buffer.
    ///
    /// The header is compact JSON written by hand so that it is deterministic:
    /// `{"__metadata__":{…sorted keys…},"<name>":{"dtype":"F32","shape":[…],"data_offsets":[b,e]},…}`
    /// with tensors sorted by name (byte-wise on UTF-8) and the data laid out in the same order,
    /// `"__metadata__"` omitted when empty, and trailing spaces padding `8 + N` to a multiple of 8.
    ///
    /// - Parameter source: the file name used in error messages.
    /// - Throws: `DataError` for a repeated tensor name or a tensor named `__metadata__`.
    public func encoded(source: String = "<data>") throws -> Data {
        let dtype: SafeTensorsDType = MemoryLayout<Scalar>.size == 4 ? .f32 : .f64
        let sorted = tensors.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        for (i, item) in sorted.enumerated() {
            if item.name == "__metadata__" {
                throw DataError(file: source, problem: "a tensor cannot be named \"__metadata__\"")
            }
            if i > 0, sorted[i - 1].name == item.name {
                throw DataError(file: source, problem: "tensor name \"\(item.name)\" appears more than once")
            }
        }

        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
                .map { "\(Self.jsonString($0.key)):\(Self.jsonString($0.value))" }
            parts.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in sorted {
            let end = offset + tensor.count * dtype.byteCount
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            parts.append("\(Self.jsonString(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while (8 + header.count) % 8 != 0 { header.append(0x20) }

        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for (_, tensor) in sorted {
            #if _endian(little)
            tensor.scalars.withUnsafeBytes { data.append(contentsOf: $0) }
            #else
            for scalar in tensor.scalars {
                withUnsafeBytes(of: scalar) { data.append(contentsOf: $0.reversed()) }
            }
            #endif
        }
        return data
    }

    /// Writes the file to `path` atomically (see `AtomicFile`): on failure any existing file
    /// at `path` is left unchanged.
    ///
    /// - Throws: `DataError` naming `path`.
    public func write(to path: String) throws {
        try AtomicFile.write(try encoded(source: path), to: path)
    }

    /// `text` as a JSON string literal: `"` and `\` escaped, control characters as `\n`, `\t`,
    /// … or `\u00XX`, everything else (including non-ASCII) written as UTF-8.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
