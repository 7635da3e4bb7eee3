/// SplitMix64: the harness's own generator, so an input depends only on (seed, parser,
/// iteration) and any one can be replayed alone.
struct FuzzRandom {
    private var state: UInt64

    init(seed: UInt64, stream: UInt64, index: UInt64) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 ^ stream &* 0xD1B5_4A32_D192_ED03 ^ index &* 0xBF58_476D_1CE4_E5B9
        _ = next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n (n > 0).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// True with probability 1/n.
    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// Byte-level mutations, applied after the structure-aware ones: flips, overwrites with
/// boundary bytes, truncation, insertion, deletion and duplication of a run.
func flipBytes(_ input: [UInt8], _ rng: inout FuzzRandom, edits: Int) -> [UInt8] {
    var out = input
    for _ in 0..<edits {
        let position = out.isEmpty ? 0 : rng.below(out.count)
        switch rng.below(6) {
        case 0 where !out.isEmpty: out[position] ^= UInt8(1 << rng.below(8))
        case 1 where !out.isEmpty: out[position] = rng.pick([0x00, 0xFF, 0x7F, 0x80, 0x2C, 0x0A, 0x22, 0x7B, UInt8(truncatingIfNeeded: rng.next())])
        case 2: out = Array(out.prefix(position))
        case 3: out.insert(contentsOf: rng.bytes(1 + rng.below(8)), at: position)
        case 4 where !out.isEmpty: out.remove(at: position)
        default:
            let end = min(out.count, position + rng.below(16))
            out.insert(contentsOf: out[position..<end], at: position)
        }
    }
    return out
}

/// Number texts that stress a reader: boundaries, huge and tiny magnitudes, non-integers
/// written like integers and the reverse, signs, exponents and non-numbers.
let hostileNumbers = [
    "0", "1", "-1", "-0", "2", "7", "255", "65535", "65536", "2147483647", "4294967295", "4294967296",
    "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
    "99999999999999999999999", "1e20", "1e308", "1e309", "-1e308", "1e-50", "4.0", "4.5", "1E2", "0.0",
    "-0.0", "01", "+1", ".5", "5.", "1e", "0x10", "NaN", "nan", "inf", "-inf", "Infinity", "true", "null",
    "3.4028235e38", "3.5e38", "1.401298464324817e-45", "123456789012345678901234567890",
]
