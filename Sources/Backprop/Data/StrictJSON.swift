/// JSON read the way the safetensors reference implementation reads it (Rust's `serde_json`):
/// strict RFC 8259 grammar, and nothing that grammar lets a lenient reader paper over.
///
/// - A key repeated within one object is an error (compared byte for byte after unescaping).
/// - Numbers keep their literal text, so an integer field can refuse `128.0` and `1e2`.
/// - Strings may not hold raw control characters, unknown escapes or lone UTF-16 surrogates.
/// - Nesting deeper than `maximumDepth` is an error (no unbounded recursion on `[[[[…`).
/// - Whitespace (space, tab, line feed, carriage return) may follow the value; nothing else.
///
/// The caller has checked that the bytes are valid UTF-8.
struct StrictJSON {
    /// A parsed value. Objects keep their keys in file order.
    indirect enum Value {
        case object([(key: String, value: Value)])
        case array([Value])
        case string(String)
        /// The number's literal text, e.g. `"128"`, `"-0.5"`, `"1e2"`.
        case number(String)
        case bool(Bool)
        case null

        /// The value as a natural number written as an integer literal (no sign, fraction or
        /// exponent) that fits in `Int`; nil otherwise.
        var natural: Int? {
            guard case let .number(text) = self, !text.isEmpty,
                  text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int(text)  // nil past Int.max
        }

        /// A short name of the value's kind, for messages.
        var kind: String {
            switch self {
            case .object: return "an object"
            case .array: return "an array"
            case .string: return "a string"
            case let .number(text): return "the number \(text)"
            case .bool: return "a boolean"
            case .null: return "null"
            }
        }
    }

    /// Why the bytes are not acceptable JSON, and where (byte offset within the parsed bytes).
    struct Failure: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "\(reason) at byte \(offset)" }
    }

    /// serde_json's recursion limit.
    static let maximumDepth = 128

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    private var depth = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses `bytes` as one JSON value followed only by whitespace.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> Value {
        var parser = StrictJSON(bytes)
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.failure("unexpected text after the JSON value") }
        return value
    }

    private func failure(_ reason: String) -> Failure { Failure(offset: position, reason: reason) }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let b = current, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { position += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard current == byte else { throw failure(current == nil ? "unexpected end, expected \(what)" : "expected \(what)") }
        position += 1
    }

    private mutating func value() throws -> Value {
        guard let b = current else { throw failure("unexpected end, expected a value") }
        switch b {
        case UInt8(ascii: "{"): return try nested { try $0.object() }
        case UInt8(ascii: "["): return try nested { try $0.array() }
        case UInt8(ascii: "\""): return .string(String(decoding: try string(), as: UTF8.self))
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("unexpected character")
        }
    }

    private mutating func nested(_ body: (inout StrictJSON) throws -> Value) throws -> Value {
        depth += 1
        guard depth <= Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth) levels") }
        defer { depth -= 1 }
        return try body(&self)
    }

    private mutating func object() throws -> Value {
        position += 1  // {
        var members: [(key: String, value: Value)] = []
        var seen = Set<[UInt8]>()
        skipWhitespace()
        if current == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            let keyStart = position
            guard current == UInt8(ascii: "\"") else { throw failure("expected a string key") }
            let key = try string()
            guard seen.insert(key).inserted else {
                throw Failure(offset: keyStart, reason: "duplicate key \(DataError.quoted(Substring(String(decoding: key, as: UTF8.self))))")
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':'")
            skipWhitespace()
            members.append((key: String(decoding: key, as: UTF8.self), value: try value()))
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "}"), "',' or '}'")
            return .object(members)
        }
    }

    private mutating func array() throws -> Value {
        position += 1  // [
        var items: [Value] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value())
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "]"), "',' or ']'")
            return .array(items)
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let start = position
        for byte in UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount) {
            guard current == byte else { throw Failure(offset: start, reason: "unexpected character") }
            position += 1
        }
    }

    /// The literal text of a number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func number() throws -> String {
        let start = position
        func digits(_ parser: inout StrictJSON) -> Int {
            var n = 0
            while let b = parser.current, b >= 0x30 && b <= 0x39 { parser.position += 1; n += 1 }
            return n
        }
        if current == UInt8(ascii: "-") { position += 1 }
        if current == UInt8(ascii: "0") {
            position += 1
            if let b = current, b >= 0x30 && b <= 0x39 { throw failure("number with a leading zero") }
        } else if digits(&self) == 0 {
            throw failure("expected a digit")
        }
        if current == UInt8(ascii: ".") {
            position += 1
            guard digits(&self) > 0 else { throw failure("expected a digit after the decimal point") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard digits(&self) > 0 else { throw failure("expected a digit in the exponent") }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    /// A string's UTF-8 bytes after unescaping; `position` is at the opening quote.
    private mutating func string() throws -> [UInt8] {
        position += 1  // "
        var out: [UInt8] = []
        while true {
            guard let b = current else { throw failure("unterminated string") }
            position += 1
            switch b {
            case UInt8(ascii: "\""):
                return out
            case 0x00..<0x20:
                position -= 1
                throw failure("control character in a string")
            case UInt8(ascii: "\\"):
                guard let e = current else { throw failure("unterminated string") }
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                            throw failure("lone leading surrogate in a \\u escape")
                        }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("lone leading surrogate in a \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw failure("lone trailing surrogate in a \\u escape")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default:
                    position -= 1
                    throw failure("invalid escape")
                }
            default:
                out.append(b)
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let b = current else { throw failure("unterminated \\u escape") }
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw failure("invalid hex digit in a \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
