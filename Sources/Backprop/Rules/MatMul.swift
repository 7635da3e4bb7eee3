// Matrix multiplication, the one primitive behind every dense layer.

extension Tensor {
    /// C = op(A)·op(B) for matrices, where op transposes when asked (without copying).
    ///
    /// Shapes: op(A) is [m, k] and op(B) is [k, n]; C is [m, n].
    /// For C = A·B with cotangent G: ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G; the transposed forms follow
    /// by transposing those. JVP: Ċ = op(Ȧ)·op(B) + op(A)·op(Ḃ).
    public static func matmul(_ a: Tensor, transposed ta: Bool = false, _ b: Tensor, transposed tb: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul: expects matrices, got shapes \(a.shape) and \(b.shape)")
        let m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1]
        let kb = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1]
        precondition(k == kb, "matmul: inner dimensions differ: \(a.shape)\(ta ? "ᵀ" : "") · \(b.shape)\(tb ? "ᵀ" : "")")
        let value = gemmValue(a, ta, b, tb, m: m, n: n, k: k)
        return recorded("matmul", value: value, inputs: [a, b],
                        pullback: { p in
                            let g = p.cotangent
                            var ga: Tensor? = nil, gb: Tensor? = nil
                            if p.needs[0] {
                                ga = switch (ta, tb) {
                                case (false, false): matmul(g, b, transposed: true)
                                case (false, true): matmul(g, b)
                                case (true, false): matmul(b, g, transposed: true)
                                case (true, true): matmul(b, transposed: true, g, transposed: true)
                                }
                            }
                            if p.needs[1] {
                                gb = switch (ta, tb) {
                                case (false, false): matmul(a, transposed: true, g)
                                case (false, true): matmul(g, transposed: true, a)
                                case (true, false): matmul(a, g)
                                case (true, true): matmul(g, transposed: true, a, transposed: true)
                                }
                            }
                            return [ga, gb]
                        },
                        differential: { t, _ in
                            sumOfTangents(t[0].map { matmul($0, transposed: ta, b, transposed: tb) },
                                          t[1].map { matmul(a, transposed: ta, $0, transposed: tb) })
                        })
    }

    /// The kernel call: op(A)·op(B) as an untracked tensor.
    static func gemmValue(_ a: Tensor, _ ta: Bool, _ b: Tensor, _ tb: Bool, m: Int, n: Int, k: Int) -> Tensor {
        var c = [Scalar](repeating: 0, count: m * n)
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    guard let ap = pa.baseAddress, let bp = pb.baseAddress, let cp = pc.baseAddress else { return }
                    Gemm.multiply(transposeA: ta, transposeB: tb, m: m, n: n, k: k,
                                  a: ap, lda: a.shape[a.rank - 1], b: bp, ldb: b.shape[b.rank - 1], c: cp, ldc: n, accumulate: false)
                }
            }
        }
        return Tensor(shape: [m, n], scalars: c)
    }

    /// Matrix product self·other.
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }

    static func matmul(_ a: Tensor, _ b: Tensor, transposed tb: Bool) -> Tensor { matmul(a, transposed: false, b, transposed: tb) }
}
