/// Matrix multiply on raw row-major buffers — no graph, no shapes, no checks.
///
/// Computes C = op(A)·op(B) (or C += op(A)·op(B) when `accumulate`), where op(A) is m×k and
/// op(B) is k×n. `transposeA` means A is stored k×m (row-major, leading dimension `lda`) and
/// read as its transpose; likewise `transposeB` means B is stored n×k. These are the three
/// forms backpropagation needs: A·B (forward), Aᵀ·B (weight gradient), A·Bᵀ (input gradient).
public enum Gemm {
    /// C[m×n] (+)= op(A)[m×k] · op(B)[k×n] on row-major buffers with leading dimensions.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func multiply<T: TensorScalar>(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
    ) {
        if !accumulate {
            for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
        }
        if m == 0 || n == 0 || k == 0 { return }
        switch (transposeA, transposeB) {
        case (false, false):
            for i in 0..<m {
                let ci = c + i * ldc
                for p in 0..<k {
                    let aip = a[i * lda + p]
                    let bp = b + p * ldb
                    for j in 0..<n { ci[j] += aip * bp[j] }
                }
            }
        case (true, false):
            for p in 0..<k {
                let bp = b + p * ldb
                for i in 0..<m {
                    let api = a[p * lda + i]
                    let ci = c + i * ldc
                    for j in 0..<n { ci[j] += api * bp[j] }
                }
            }
        case (false, true):
            for i in 0..<m {
                let ai = a + i * lda
                for j in 0..<n {
                    let bj = b + j * ldb
                    var s: T = 0
                    for p in 0..<k { s += ai[p] * bj[p] }
                    c[i * ldc + j] += s
                }
            }
        case (true, true):
            for i in 0..<m {
                for j in 0..<n {
                    var s: T = 0
                    for p in 0..<k { s += a[p * lda + i] * b[j * ldb + p] }
                    c[i * ldc + j] += s
                }
            }
        }
    }
}
