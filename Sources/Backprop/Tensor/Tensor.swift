import BackpropKernels

/// An n-dimensional array of `Float` or `Double`, stored contiguously in row-major order.
///
/// `Tensor` has value semantics: its scalars live in a copy-on-write `Array`, so copies are
/// cheap until one of them is written to. A tensor produced by a differentiable operation
/// while a derivative is being taken also carries a reference to its node in the recorded
/// graph (see `Autodiff/`); the node never changes the value.
///
/// Shapes are `[Int]`, outermost dimension first; a scalar tensor has shape `[]` and one
/// element. Matrices are `[rows, columns]`, and a batch of examples has examples as rows.
public struct Tensor<Scalar: TensorScalar>: Sendable {
    /// The extent of each dimension, outermost first.
    public let shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public internal(set) var scalars: [Scalar]
    /// The node that produced this tensor in the active derivative graph, if any.
    var node: GraphNode<Scalar>? = nil

    /// A tensor with the given shape and row-major scalars.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`, and no extent is negative.
    public init(shape: [Int], scalars: [Scalar]) {
        require(shape.allSatisfy { $0 >= 0 }, "Tensor: negative extent in shape \(shape)")
        let count = shape.reduce(1, *)
        require(scalars.count == count,
                     "Tensor: \(scalars.count) scalars do not fill shape \(shape) (needs \(count))")
        self.shape = shape
        self.scalars = scalars
        self.node = nil
    }

    init(shape: [Int], scalars: [Scalar], node: GraphNode<Scalar>?) {
        self.shape = shape
        self.scalars = scalars
        self.node = node
    }

    /// A rank-0 tensor holding `value`.
    public init(_ value: Scalar) {
        self.init(shape: [], scalars: [value])
    }

    /// A rank-1 tensor holding `values`.
    public init(_ values: [Scalar]) {
        self.init(shape: [values.count], scalars: values)
    }

    /// A rank-2 tensor from rows of equal length.
    public init(rows: [[Scalar]]) {
        let columns = rows.first?.count ?? 0
        require(rows.allSatisfy { $0.count == columns }, "Tensor(rows:): ragged rows")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { scalars.count }

    /// The single element of a tensor with one element (any rank).
    public var scalar: Scalar {
        require(scalars.count == 1, "Tensor.scalar: tensor of shape \(shape) has \(scalars.count) elements")
        return scalars[0]
    }

    /// The element at a full multi-index.
    public subscript(index: Int...) -> Scalar {
        require(index.count == rank, "Tensor subscript: \(index.count) indices for shape \(shape)")
        var offset = 0
        for (i, extent) in zip(index, shape) {
            require(i >= 0 && i < extent, "Tensor subscript: index \(index) out of range for shape \(shape)")
            offset = offset * extent + i
        }
        return scalars[offset]
    }

    /// The same values, detached from any derivative graph: a constant.
    public var detached: Tensor { Tensor(shape: shape, scalars: scalars, node: nil) }

    /// Whether this tensor is tracked by an active derivative.
    public var isTracked: Bool { node != nil }
}

// Constructors that fill their scalars one by one are specialised for Float and Double: called
// from another module, or from generic code, the unspecialised loop copies each element through
// the type's value witness (a 1000×1000 identity took 3 ms instead of 0.2).
extension Tensor {
    /// A tensor of zeros.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: Array(repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor of ones.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func ones(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: Array(repeating: 1, count: shape.reduce(1, *)))
    }

    /// A tensor with every element equal to `value`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func full(_ shape: [Int], _ value: Scalar) -> Tensor {
        Tensor(shape: shape, scalars: Array(repeating: value, count: shape.reduce(1, *)))
    }

    /// The n×n identity matrix.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func identity(_ n: Int) -> Tensor {
        var s = [Scalar](repeating: 0, count: n * n)
        for i in 0..<n { s[i * n + i] = 1 }
        return Tensor(shape: [n, n], scalars: s)
    }

    /// Elements drawn from N(mean, std²) with a seeded generator.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func randomNormal(_ shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1,
                                    generator: inout SeededGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        var s = [Scalar](repeating: 0, count: n)
        for i in 0..<n { s[i] = mean + standardDeviation * Scalar(generator.nextGaussian()) }
        return Tensor(shape: shape, scalars: s)
    }

    /// Elements drawn uniformly from [lower, upper) with a seeded generator.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func randomUniform(_ shape: [Int], lower: Scalar = 0, upper: Scalar = 1,
                                     generator: inout SeededGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        var s = [Scalar](repeating: 0, count: n)
        for i in 0..<n { s[i] = lower + (upper - lower) * Scalar(generator.nextUnitDouble()) }
        return Tensor(shape: shape, scalars: s)
    }

    /// The same scalars converted to another scalar type (a constant).
    @_specialize(where Scalar == Float, Other == Double)
    @_specialize(where Scalar == Double, Other == Float)
    @_specialize(where Scalar == Float, Other == Float)
    @_specialize(where Scalar == Double, Other == Double)
    public func converted<Other: TensorScalar>(to: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(shape: shape, scalars: scalars.map { Other($0) })
    }
}

extension Tensor: CustomStringConvertible {
    /// The values as text: a scalar as its number, a vector as `[1.0, 2.0]`, a matrix as one
    /// bracketed row per line, and higher ranks as `Tensor(shape: …, scalars: …)`.
    public var description: String {
        switch rank {
        case 0: return "\(scalars[0])"
        case 1: return "[" + scalars.map { "\($0)" }.joined(separator: ", ") + "]"
        case 2:
            let c = shape[1]
            let rows = (0..<shape[0]).map { r in
                "[" + scalars[(r * c)..<((r + 1) * c)].map { "\($0)" }.joined(separator: ", ") + "]"
            }
            return "[" + rows.joined(separator: ",\n ") + "]"
        default: return "Tensor(shape: \(shape), scalars: \(scalars))"
        }
    }
}

extension Tensor: Equatable {
    /// Equal shapes and bit-for-bit equal values (graph membership is ignored).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}
