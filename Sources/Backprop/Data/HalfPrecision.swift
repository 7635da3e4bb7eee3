/// Widening the 16-bit float formats found in safetensors files to `Float`, exactly.
///
/// - IEEE 754 binary16 (`F16`): 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
///   Normal values become `Float`s with the exponent rebiased (15 → 127) and the fraction
///   shifted up 13 bits; subnormals are `fraction · 2⁻²⁴`; infinities and NaNs (payload kept)
///   map to their binary32 counterparts.
/// - bfloat16 (`BF16`): the top 16 bits of a binary32, so widening is a 16-bit shift.
enum HalfPrecision {
    /// The `Float` with the same value as the binary16 bit pattern `bits`.
    static func floatFromF16(_ bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = UInt32((bits >> 10) & 0x1F)
        let fraction = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: fraction · 2⁻²⁴, exact in binary32.
            let magnitude = Float(fraction) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | (fraction << 13))
        default:
            return Float(bitPattern: sign | ((exponent + 127 - 15) << 23) | (fraction << 13))
        }
    }

    /// The `Float` with the same value as the bfloat16 bit pattern `bits`.
    static func floatFromBF16(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
