import Synchronization
import BackpropKernels

/// A gradient held as the matrix product that defines it, op(A)·op(B), until it is first read.
///
/// A dense layer's weight gradient is ∂L/∂W = Gᵀ·X ([T, B]·[B, N] = [T, N]). The reverse walk
/// of `valueWithGradient(at: model)` hands it over unevaluated, as G and X, so that plain SGD can
/// apply it to the weight in one product, W += (−η)·Gᵀ·X (`Gemm.multiplyAdd`), and ∂L/∂W is never
/// written out and read back. Anything that reads the gradient gets `value`: computed once, on
/// first read, by the same product the eager rule runs, so it is the eager gradient bit for bit.
///
/// A and B are detached copies (no graph is kept alive) and never change, so a product read
/// later equals one read at once.
final class DeferredProduct<Scalar: TensorScalar>: Sendable {
    let a: Tensor<Scalar>
    let transposeA: Bool
    let b: Tensor<Scalar>
    let transposeB: Bool
    /// [m, n]: the rows of op(A) and the columns of op(B).
    let shape: [Int]
    private let evaluated = Mutex<Tensor<Scalar>?>(nil)

    /// op(A)·op(B) for matrices `a` and `b` (`transposeA`: A is read as Aᵀ; likewise B).
    init(_ a: Tensor<Scalar>, transposed transposeA: Bool, _ b: Tensor<Scalar>, transposed transposeB: Bool) {
        require(a.rank == 2 && b.rank == 2, "DeferredProduct: expects matrices, got shapes \(a.shape) and \(b.shape)")
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        require(k == kb, "DeferredProduct: inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
        self.a = a.detached
        self.transposeA = transposeA
        self.b = b.detached
        self.transposeB = transposeB
        self.shape = [transposeA ? a.shape[1] : a.shape[0], transposeB ? b.shape[0] : b.shape[1]]
    }

    private var k: Int { transposeA ? a.shape[0] : a.shape[1] }

    /// The product, computed on first read (as `Tensor.matmul` computes it).
    var value: Tensor<Scalar> {
        evaluated.withLock { cached in
            if let cached { return cached }
            let product = Tensor.gemmValue(a, transposeA, b, transposeB, m: shape[0], n: shape[1], k: k)
            cached = product
            return product
        }
    }

    /// Whether `value` has been computed (then reusing it is cheaper than another product).
    var isEvaluated: Bool { evaluated.withLock { $0 != nil } }

    /// c += α·op(A)·op(B), with c the scalars of a tensor of this product's shape
    /// (`Gemm.multiplyAdd`: its rounding is documented there).
    func addScaled(_ alpha: Scalar, to c: inout [Scalar]) {
        require(c.count == shape[0] * shape[1], "DeferredProduct.addScaled: \(c.count) scalars for a product of shape \(shape)")
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    guard let ap = pa.baseAddress, let bp = pb.baseAddress, let cp = pc.baseAddress else { return }
                    Gemm.multiplyAdd(scale: alpha, transposeA: transposeA, transposeB: transposeB,
                                     m: shape[0], n: shape[1], k: k, a: ap, lda: a.shape[1], b: bp, ldb: b.shape[1],
                                     c: cp, ldc: shape[1])
                }
            }
        }
    }
}

/// A variable's cotangent as a reverse walk returns it: computed, or a product not yet evaluated.
enum Cotangent<Scalar: TensorScalar>: Sendable {
    case tensor(Tensor<Scalar>)
    case product(DeferredProduct<Scalar>)

    /// The cotangent's value (evaluating a deferred product).
    var tensor: Tensor<Scalar> {
        switch self {
        case .tensor(let t): t
        case .product(let p): p.value
        }
    }
}
