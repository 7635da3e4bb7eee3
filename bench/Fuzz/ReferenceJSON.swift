/// An independent reading of RFC 8259 JSON for the reference validators: a tokenizer, then a
/// parser over the tokens. It reports duplicate keys (compared as unescaped bytes) instead of
/// merging them, keeps numbers as text and refuses nesting past 128 levels, as serde_json does.
enum RefJSON: Equatable {
    case object([(key: [UInt8], value: RefJSON)])
    case array([RefJSON])
    case string([UInt8])
    case number(String)
    case literal(String)

    static func == (a: RefJSON, b: RefJSON) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.literal(x), .literal(y)): return x == y
        default: return false
        }
    }

    enum Token: Equatable { case punct(UInt8), string([UInt8]), number(String), literal(String) }

    /// Why the text was refused (duplicate keys are told apart for the statistics).
    enum Problem: Error { case syntax, duplicateKey, tooDeep }

    static func parse(_ bytes: [UInt8]) throws -> RefJSON {
        let tokens = try tokenize(bytes)
        var index = 0
        let value = try parseValue(tokens, &index, depth: 0)
        guard index == tokens.count else { throw Problem.syntax }
        return value
    }

    private static func parseValue(_ t: [Token], _ i: inout Int, depth: Int) throws -> RefJSON {
        guard i < t.count else { throw Problem.syntax }
        let token = t[i]
        i += 1
        switch token {
        case let .string(s): return .string(s)
        case let .number(n): return .number(n)
        case let .literal(l): return .literal(l)
        case .punct(UInt8(ascii: "[")):
            guard depth < 128 else { throw Problem.tooDeep }
            var items: [RefJSON] = []
            if i < t.count, t[i] == .punct(UInt8(ascii: "]")) { i += 1; return .array(items) }
            while true {
                items.append(try parseValue(t, &i, depth: depth + 1))
                guard i < t.count else { throw Problem.syntax }
                if t[i] == .punct(UInt8(ascii: ",")) { i += 1; continue }
                guard t[i] == .punct(UInt8(ascii: "]")) else { throw Problem.syntax }
                i += 1
                return .array(items)
            }
        case .punct(UInt8(ascii: "{")):
            guard depth < 128 else { throw Problem.tooDeep }
            var members: [(key: [UInt8], value: RefJSON)] = []
            if i < t.count, t[i] == .punct(UInt8(ascii: "}")) { i += 1; return .object(members) }
            while true {
                guard i + 1 < t.count, case let .string(key) = t[i], t[i + 1] == .punct(UInt8(ascii: ":")) else { throw Problem.syntax }
                i += 2
                let value = try parseValue(t, &i, depth: depth + 1)
                if members.contains(where: { $0.key == key }) { throw Problem.duplicateKey }
                members.append((key, value))
                guard i < t.count else { throw Problem.syntax }
                if t[i] == .punct(UInt8(ascii: ",")) { i += 1; continue }
                guard t[i] == .punct(UInt8(ascii: "}")) else { throw Problem.syntax }
                i += 1
                return .object(members)
            }
        default:
            throw Problem.syntax
        }
    }

    private static func tokenize(_ b: [UInt8]) throws -> [Token] {
        var tokens: [Token] = []
        var i = 0
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        while i < b.count {
            let c = b[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1; continue }
            if "{}[]:,".utf8.contains(c) { tokens.append(.punct(c)); i += 1; continue }
            if c == UInt8(ascii: "\"") {
                i += 1
                var s: [UInt8] = []
                var closed = false
                while i < b.count {
                    let d = b[i]
                    if d == UInt8(ascii: "\"") { i += 1; closed = true; break }
                    if d < 0x20 { throw Problem.syntax }
                    if d != UInt8(ascii: "\\") { s.append(d); i += 1; continue }
                    guard i + 1 < b.count else { throw Problem.syntax }
                    let e = b[i + 1]
                    i += 2
                    let simple: [UInt8: UInt8] = [0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 8, 0x66: 12, 0x6E: 10, 0x72: 13, 0x74: 9]
                    if let v = simple[e] { s.append(v); continue }
                    guard e == UInt8(ascii: "u") else { throw Problem.syntax }
                    func hex() throws -> UInt32 {
                        guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<(i + 4)], as: UTF8.self), radix: 16),
                              b[i..<(i + 4)].allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) })
                        else { throw Problem.syntax }
                        i += 4
                        return v
                    }
                    var u = try hex()
                    if u >= 0xDC00 && u < 0xE000 { throw Problem.syntax }
                    if u >= 0xD800 && u < 0xDC00 {
                        guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else { throw Problem.syntax }
                        i += 2
                        let low = try hex()
                        guard low >= 0xDC00 && low < 0xE000 else { throw Problem.syntax }
                        u = 0x10000 + (u - 0xD800) * 0x400 + (low - 0xDC00)
                    }
                    s += Array(String(Unicode.Scalar(u)!).utf8)
                }
                guard closed else { throw Problem.syntax }
                tokens.append(.string(s))
                continue
            }
            if c == UInt8(ascii: "-") || digits.contains(c) {
                let start = i
                if c == UInt8(ascii: "-") { i += 1 }
                let intStart = i
                while i < b.count, digits.contains(b[i]) { i += 1 }
                let intDigits = i - intStart
                guard intDigits > 0, !(intDigits > 1 && b[intStart] == UInt8(ascii: "0")) else { throw Problem.syntax }
                if i < b.count, b[i] == UInt8(ascii: ".") {
                    i += 1
                    let f = i
                    while i < b.count, digits.contains(b[i]) { i += 1 }
                    guard i > f else { throw Problem.syntax }
                }
                if i < b.count, b[i] | 0x20 == UInt8(ascii: "e") {
                    i += 1
                    if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
                    let e = i
                    while i < b.count, digits.contains(b[i]) { i += 1 }
                    guard i > e else { throw Problem.syntax }
                }
                tokens.append(.number(String(decoding: b[start..<i], as: UTF8.self)))
                continue
            }
            var matched = false
            for word in ["true", "false", "null"] where b[i...].starts(with: word.utf8) {
                tokens.append(.literal(word))
                i += word.utf8.count
                matched = true
                break
            }
            guard matched else { throw Problem.syntax }
        }
        return tokens
    }

    /// Compact JSON text of the value (for rebuilding mutated headers).
    var text: String {
        switch self {
        case let .object(members):
            return "{" + members.map { RefJSON.quote($0.key) + ":" + $0.value.text }.joined(separator: ",") + "}"
        case let .array(items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case let .string(s): return RefJSON.quote(s)
        case let .number(n): return n
        case let .literal(l): return l
        }
    }

    static func quote(_ bytes: [UInt8]) -> String {
        var out = "\""
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF.
func isStrictUTF8(_ b: [UInt8]) -> Bool {
    var i = 0
    while i < b.count {
        let c = b[i]
        let (length, low, high): (Int, UInt8, UInt8)
        switch c {
        case 0x00...0x7F: i += 1; continue
        case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
        case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
        case 0xED: (length, low, high) = (3, 0x80, 0x9F)
        case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
        case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
        case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
        default: return false
        }
        guard i + length <= b.count, b[i + 1] >= low, b[i + 1] <= high else { return false }
        for k in 2..<max(length, 2) where !(b[i + k] >= 0x80 && b[i + k] <= 0xBF) { return false }
        i += length
    }
    return true
}
