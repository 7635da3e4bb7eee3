import Backprop
import Foundation

/// The rules of the format's reference implementation (Python's `safetensors`, Rust's
/// `safetensors` crate with serde_json), applied independently of Backprop's reader:
/// header length ≤ 100 MB and inside the file, UTF-8, starts with `{`, strict JSON with no
/// repeated key, `__metadata__` null or an object of strings, every entry an object with a
/// known dtype, an integer shape and exactly two integer offsets, the entries sorted by
/// offsets tiling the data buffer exactly (no overlap, no gap, no trailing bytes).
enum SafeTensorsReference {
    static let dtypeSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8,
    ]

    struct Entry { var name: [UInt8]; var dtype: String; var shape: [UInt64]; var begin: UInt64; var end: UInt64 }

    enum Verdict {
        case valid(entries: [Entry], bufferStart: Int)
        case invalid(String)
    }

    static func natural(_ value: RefJSON) -> UInt64? {
        guard case let .number(text) = value, !text.contains(where: { !$0.isASCII || !$0.isNumber }) else { return nil }
        return UInt64(text)
    }

    static func check(_ file: [UInt8]) -> Verdict {
        guard file.count >= 8 else { return .invalid("short") }
        let n = file[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= 100_000_000 else { return .invalid("header too large") }
        guard n <= UInt64(file.count - 8) else { return .invalid("header length") }
        let header = Array(file[8..<(8 + Int(n))])
        guard isStrictUTF8(header) else { return .invalid("utf8") }
        guard header.first == UInt8(ascii: "{") else { return .invalid("start") }
        guard let json = try? RefJSON.parse(header), case let .object(members) = json else { return .invalid("json") }
        var entries: [Entry] = []
        for (key, value) in members {
            if key == Array("__metadata__".utf8) {
                if value == .literal("null") { continue }
                guard case let .object(items) = value else { return .invalid("metadata") }
                for item in items { guard case .string = item.value else { return .invalid("metadata value") } }
                continue
            }
            guard case let .object(fields) = value else { return .invalid("entry") }
            func field(_ name: String) -> RefJSON? { fields.first { $0.key == Array(name.utf8) }?.value }
            guard case let .string(dtypeBytes)? = field("dtype"), let dtype = Optional(String(decoding: dtypeBytes, as: UTF8.self)),
                  dtypeSizes[dtype] != nil else { return .invalid("dtype") }
            guard case let .array(shapeItems)? = field("shape") else { return .invalid("shape") }
            let shape = shapeItems.compactMap(natural)
            guard shape.count == shapeItems.count else { return .invalid("shape item") }
            guard case let .array(offsetItems)? = field("data_offsets"), offsetItems.count == 2,
                  let begin = natural(offsetItems[0]), let end = natural(offsetItems[1]) else { return .invalid("offsets") }
            entries.append(Entry(name: key, dtype: dtype, shape: shape, begin: begin, end: end))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var start: UInt64 = 0
        for entry in entries {
            guard entry.begin == start, entry.end >= entry.begin else { return .invalid("offset order") }
            start = entry.end
            var count: UInt64 = 1
            for extent in entry.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: extent)
                guard !overflow else { return .invalid("overflow") }
                count = product
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(dtypeSizes[entry.dtype]!))
            guard !overflow, bytes == entry.end - entry.begin else { return .invalid("size") }
        }
        guard start == UInt64(file.count - 8 - Int(n)) else { return .invalid("incomplete buffer") }
        return .valid(entries: entries, bufferStart: 8 + Int(n))
    }
}

/// Safetensors inputs: valid seeds (a model file, mixed dtypes, empty), mutated through their
/// parsed headers — numbers in shapes, offsets and metadata, dtypes, duplicate and missing keys,
/// reordering, nesting, the length field — then at the byte level.
struct SafeTensorsFuzzer {
    let seeds: [[UInt8]]

    init() {
        var rng = SeededGenerator(seed: 7)
        let model = Classifier(layerSizes: [6, 5, 3], activation: .tanh, generator: &rng)
        // Seeds encoded from valid tensors: encoding them cannot fail.
        let modelFile = [UInt8](try! model.safeTensors().encoded())
        let doubles = [UInt8](try! SafeTensors<Double>(tensors: [("a", Tensor([1, -2, 3])), ("b", Tensor(shape: [2, 0], scalars: []))],
                                                       metadata: ["k": "v"]).encoded())
        var half = Array(#"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"g":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]},"s":{"dtype":"F32","shape":[],"data_offsets":[6,10]}}"#.utf8)
        while (8 + half.count) % 8 != 0 { half.append(0x20) }
        let halfFile = SafeTensorsFuzzer.frame(half, buffer: [0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F, 0, 0, 0x80, 0x3F])
        seeds = [modelFile, doubles, halfFile, SafeTensorsFuzzer.frame(Array("{}".utf8), buffer: [])]
    }

    static func frame(_ header: [UInt8], buffer: [UInt8], declared: UInt64? = nil) -> [UInt8] {
        let n = declared ?? UInt64(header.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + header + buffer
    }

    func input(_ rng: inout FuzzRandom) -> [UInt8] {
        let seed = rng.pick(seeds)
        let n = Int(seed[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var buffer = Array(seed[(8 + n)...])
        // Every seed's header is JSON this fuzzer wrote (or the encoder did), so it parses.
        var header = try! RefJSON.parse(Array(seed[8..<(8 + n)]))
        for _ in 0..<rng.below(3) { header = mutate(header, &rng, depth: 0) }
        var text = Array(header.text.utf8)
        switch rng.below(12) {
        case 0: text = Array(" ".utf8) + text
        case 1: text += Array(String(repeating: " ", count: rng.below(9)).utf8)
        case 2: text += Array("\n\t\r".utf8)
        default: break
        }
        switch rng.below(10) {
        case 0: buffer = Array(buffer.prefix(rng.below(buffer.count + 1)))
        case 1: buffer += rng.bytes(1 + rng.below(8))
        default: break
        }
        var declared: UInt64? = nil
        if rng.oneIn(12) {
            declared = rng.pick([UInt64(text.count) &+ 1, UInt64(text.count) &- 1, 100_000_001, UInt64.max, 0, UInt64(text.count + buffer.count)])
        }
        let file = Self.frame(text, buffer: buffer, declared: declared)
        return rng.oneIn(5) ? flipBytes(file, &rng, edits: 1 + rng.below(3)) : file
    }

    /// One structural edit somewhere in the value.
    func mutate(_ value: RefJSON, _ rng: inout FuzzRandom, depth: Int) -> RefJSON {
        switch value {
        case var .object(members):
            if members.isEmpty || rng.oneIn(3) {
                switch rng.below(9) {
                case 0 where !members.isEmpty: members.append(rng.pick(members))  // duplicate key
                case 1 where !members.isEmpty: members.remove(at: rng.below(members.count))
                case 2 where members.count > 1: members.swapAt(rng.below(members.count), rng.below(members.count))
                case 3: members.append((Array(rng.pick(["__metadata__", "extra", "0.weight", "dtype", "shape", "data_offsets", "é", "\u{1}"]).utf8),
                                        randomValue(&rng, depth: depth)))
                case 4 where !members.isEmpty:
                    let i = rng.below(members.count)
                    members[i].key = Array(rng.pick(["__metadata__", "a", "0.bias", "", "x\u{0}", "shape"]).utf8)
                case 5:
                    // A consistent extra tensor appended to the layout: keeps files valid.
                    let end = members.compactMap { m -> UInt64? in
                        guard case let .object(f) = m.value, case let .array(o)? = f.first(where: { $0.key == Array("data_offsets".utf8) })?.value,
                              o.count == 2 else { return nil }
                        return SafeTensorsReference.natural(o[1])
                    }.max() ?? 0
                    members.append((Array("z\(rng.below(9))".utf8), .object([
                        (Array("dtype".utf8), .string(Array("F32".utf8))), (Array("shape".utf8), .array([.number("0")])),
                        (Array("data_offsets".utf8), .array([.number(String(end)), .number(String(end))])),
                    ])))
                default:
                    if !members.isEmpty {
                        let i = rng.below(members.count)
                        members[i].value = mutate(members[i].value, &rng, depth: depth + 1)
                    }
                }
                return .object(members)
            }
            let i = rng.below(members.count)
            members[i].value = mutate(members[i].value, &rng, depth: depth + 1)
            return .object(members)
        case var .array(items):
            if items.isEmpty || rng.oneIn(3) {
                switch rng.below(5) {
                case 0: items.append(rng.oneIn(2) ? .number(rng.pick(hostileNumbers)) : randomValue(&rng, depth: depth))
                case 1 where !items.isEmpty: items.removeLast()
                case 2 where items.count > 1: items.swapAt(0, items.count - 1)
                case 3: return .array([value])
                default: items = items.map { _ in .number(String(rng.below(70))) }
                }
                return .array(items)
            }
            let i = rng.below(items.count)
            items[i] = mutate(items[i], &rng, depth: depth + 1)
            return .array(items)
        case let .number(text):
            switch rng.below(6) {
            case 0: return .number(String(rng.below(100)))
            case 1: return .number(text + ".0")
            case 2: return .number((UInt64(text).map { String($0 &+ UInt64(rng.below(9)) &- 4) }) ?? text)
            case 3: return .string(Array(text.utf8))
            case 4: return .number(text + "e0")
            default: return .number(rng.pick(hostileNumbers))
            }
        case let .string(bytes):
            let text = String(decoding: bytes, as: UTF8.self)
            if text.hasPrefix("[") || text.hasPrefix("{") {
                // Metadata holding JSON (architecture, input_mean, training): mutate inside it.
                if let inner = try? RefJSON.parse(bytes) { return .string(Array(mutate(inner, &rng, depth: depth + 1).text.utf8)) }
            }
            switch rng.below(5) {
            case 0: return .string(Array(rng.pick(["F32", "F64", "F16", "BF16", "I32", "BOOL", "F7", "f32", "", "relu", "1e39", "nan"]).utf8))
            case 1: return .number(rng.pick(hostileNumbers))
            case 2: return .literal(rng.pick(["null", "true"]))
            case 3: return .string(Array(rng.pick(["[64,128,1e20]", "[1e308,128,10]", "[6,5,3.5]", "[6,5,3]", "[0,1e39,0,0,0,0]", "[1,1e-50,1,1,1,1]"]).utf8))
            default: return .string(bytes + Array(rng.pick(["\u{0}", "é", "\\", "\""]).utf8))
            }
        case .literal:
            return randomValue(&rng, depth: depth)
        }
    }

    func randomValue(_ rng: inout FuzzRandom, depth: Int) -> RefJSON {
        switch rng.below(depth > 3 ? 4 : 7) {
        case 0: return .number(rng.pick(hostileNumbers))
        case 1: return .string(Array(rng.pick(["F32", "x", "", "__metadata__"]).utf8))
        case 2: return .literal(rng.pick(["true", "false", "null"]))
        case 3: return .array([])
        case 4: return .array((0..<rng.below(4)).map { _ in randomValue(&rng, depth: depth + 1) })
        case 5: return .object([])
        default:
            var nested = RefJSON.array([])
            for _ in 0..<rng.pick([2, 10, 127, 128, 129, 300]) { nested = .array([nested]) }
            return nested
        }
    }

    /// Runs Backprop's reader (and, on what it accepts, the model loader) and compares with
    /// the reference: returns the outcome for the statistics.
    func run(_ input: [UInt8]) -> Outcome {
        let verdict = SafeTensorsReference.check(input)
        let parsed: SafeTensors<Float>
        do {
            parsed = try SafeTensors<Float>(decoding: Data(input), source: "fuzz")
        } catch is DataError {
            if case let .valid(entries, _) = verdict {
                let unsupported = entries.contains { !["F16", "BF16", "F32", "F64"].contains($0.dtype) }
                return unsupported ? .rejectedUnsupported : .rejectedValid
            }
            return .rejected
        } catch {
            return .foreignError("\(error)")
        }
        guard case let .valid(entries, bufferStart) = verdict else {
            if case let .invalid(reason) = verdict { return .acceptedInvalid(reason) }
            return .acceptedInvalid("?")
        }
        // Same tensors, shapes and (for F32) bits as the reference reads.
        guard parsed.tensors.count == entries.count else { return .wrongResult("tensor count") }
        for entry in entries {
            guard let tensor = parsed.tensors.first(where: { Array($0.name.utf8) == entry.name })?.tensor else { return .wrongResult("missing tensor") }
            guard tensor.shape.map(UInt64.init) == entry.shape else { return .wrongResult("shape") }
            if entry.dtype == "F32" {
                let start = bufferStart + Int(entry.begin)
                for (i, value) in tensor.scalars.enumerated() {
                    let bits = (0..<4).reduce(UInt32(0)) { $0 | UInt32(input[start + 4 * i + $1]) << (8 * UInt32($1)) }
                    if value.bitPattern != bits { return .wrongResult("F32 bits") }
                }
            }
        }
        do { _ = try Classifier(safeTensors: parsed, source: "fuzz") } catch is DataError {} catch {
            return .foreignError("model: \(error)")
        }
        return .accepted
    }
}
