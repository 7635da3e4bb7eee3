/// A pair of extents along (height, width): a kernel size, stride, padding or dilation.
/// An integer literal means the same value along both axes (`stride: 2`).
public struct Size2D: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// Along the rows (H).
    public var height: Int
    /// Along the columns (W).
    public var width: Int

    /// The pair (`height`, `width`).
    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    /// The same `value` along both axes (`stride: 2` is (2, 2)).
    /// The same `value` along both axes (`stride: 2` is (2, 2)).
    public init(integerLiteral value: Int) { self.init(value, value) }

    /// `3` for a square value, `(3, 5)` otherwise (PyTorch's repr).
    public var description: String { height == width ? "\(height)" : "(\(height), \(width))" }
}
