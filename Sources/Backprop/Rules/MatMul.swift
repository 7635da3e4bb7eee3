import BackpropKernels

// Matrix multiplication, the one primitive behind every dense layer.

extension Tensor {
    /// C = op(A)·op(B) for matrices, where op transposes when asked (without copying).
    ///
    /// Shapes: op(A) is [m, k] and op(B) is [k, n]; C is [m, n].
    /// For C = A·B with cotangent G: ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G; the transposed forms follow
    /// by transposing those. JVP: Ċ = op(Ȧ)·op(B) + op(A)·op(Ḃ).
    public static func matmul(_ a: Tensor, transposed ta: Bool = false, _ b: Tensor, transposed tb: Bool = false) -> Tensor {
        require(a.rank == 2 && b.rank == 2, "matmul: expects matrices, got shapes \(a.shape) and \(b.shape)")
        let m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1]
        let kb = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1]
        require(k == kb, "matmul: inner dimensions differ: \(a.shape)\(ta ? "ᵀ" : "") · \(b.shape)\(tb ? "ᵀ" : "")")
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
                        },
                        batchedPullback: { p in
                            // k cotangents [k, m, n] stacked as one [k·m, n] matrix: ∂L/∂A = G·op(B)ᵀ
                            // for all k in one product. (The other forms go one cotangent at a time.)
                            guard !ta, !p.needs[1] else { return nil }
                            let g = p.cotangent.reshaped([p.batchCount * m, n])
                            return [matmul(g, b, transposed: !tb).reshaped([p.batchCount, m, k]), nil]
                        })
    }

    /// The kernel call: op(A)·op(B) as an untracked tensor, plus `bias` (length n) on every row
    /// when given — written into C before the product accumulates onto it, so the bias costs no
    /// extra pass over the result.
    static func gemmValue(_ a: Tensor, _ ta: Bool, _ b: Tensor, _ tb: Bool, m: Int, n: Int, k: Int,
                          bias: [Scalar]? = nil) -> Tensor {
        let c = [Scalar](unsafeUninitializedCapacity: m * n) { pc, initialized in
            if let bias {
                bias.withUnsafeBufferPointer { pb in
                    for r in 0..<m { (pc.baseAddress! + r * n).update(from: pb.baseAddress!, count: n) }
                }
            } else if k == 0 || m * n == 0 {
                pc.initialize(repeating: 0)
            }
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    guard let ap = pa.baseAddress, let bp = pb.baseAddress, let cp = pc.baseAddress else { return }
                    Gemm.multiply(transposeA: ta, transposeB: tb, m: m, n: n, k: k,
                                  a: ap, lda: a.shape[a.rank - 1], b: bp, ldb: b.shape[b.rank - 1], c: cp, ldc: n,
                                  accumulate: bias != nil)
                }
            }
            initialized = m * n
        }
        return Tensor(shape: [m, n], scalars: c)
    }

    /// Matrix product self·other.
    public func matmul(_ other: Tensor) -> Tensor { Tensor.matmul(self, other) }

    static func matmul(_ a: Tensor, _ b: Tensor, transposed tb: Bool) -> Tensor { matmul(a, transposed: false, b, transposed: tb) }
}
