/// The element types a safetensors file may declare, as the strings in its `"dtype"` fields.
///
/// `Backprop` reads the four floating-point types below and `I64` (PyTorch's integer buffers,
/// such as batch norm's `num_batches_tracked`), widening or narrowing them to the requested
/// `Float` or `Double`, and writes `F32` and `F64`. The other types of the format
/// (integers, `BOOL`, 8-bit floats) are recognised and rejected with a clear message.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    /// IEEE 754 binary16.
    case f16 = "F16"
    /// bfloat16: the top half of a binary32.
    case bf16 = "BF16"
    /// IEEE 754 binary32 (`Float`).
    case f32 = "F32"
    /// IEEE 754 binary64 (`Double`).
    case f64 = "F64"
    /// Signed 64-bit integers (read as the nearest floating-point value).
    case i64 = "I64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .f16, .bf16: return 2
        case .f32: return 4
        case .f64, .i64: return 8
        }
    }

    /// Dtype names of the format that `Backprop` does not read.
    static let unsupportedNames: Set<String> = [
        "BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64",
        "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64",
    ]
}
