import RealModule

/// The element types a `Tensor` can hold: `Float` and `Double`.
///
/// `Real` (swift-numerics) supplies `exp`, `log`, `tanh`, … generically; the kernels
/// are specialised for both conforming types, so generic code stays fast.
public protocol TensorScalar: Real, BinaryFloatingPoint, SIMDScalar, Sendable, Codable, LosslessStringConvertible
where RawSignificand: FixedWidthInteger {
    /// The safetensors dtype name of this scalar (`"F32"` or `"F64"`).
    static var dtypeName: String { get }
}

extension Float: TensorScalar {
    /// `"F32"`, the safetensors name of 32-bit IEEE floats.
    public static var dtypeName: String { "F32" }
}

extension Double: TensorScalar {
    /// `"F64"`, the safetensors name of 64-bit IEEE floats.
    public static var dtypeName: String { "F64" }
}
