/// Plain loops for problems too small to pay for packing (and the reference the fast paths
/// were first checked against). Same contract as `Gemm.multiply`.
package enum GemmSmall {
    /// Problems with m·n·k at or below this many multiply-adds take the plain loops.
    package static let threshold = 24 * 24 * 24

    package static func multiply<T: TensorScalar>(
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
