/// The cache-blocked, packed GEMM (the Goto/BLIS loop nest) and its split across threads.
///
///     for jc in 0..<n step NC            B block (KC×NC) lives in L3
///       for pc in 0..<k step KC           pack op(B)[pc.., jc..]
///         for ic in 0..<m step MC         pack op(A)[ic.., pc..]  (MC×KC, lives in L2)
///           for jr in 0..<NC step NR      B micro-panel (KC×NR) stays in L1
///             for ir in 0..<MC step MR    micro-kernel: MR×NR tile of C in registers
///
/// (or, for kernels with `rowPanelsOuter`, ir outside jr: the A micro-panel stays in L1)
///
/// The first KC block overwrites C unless the caller accumulates; later blocks add to it, so
/// each C entry is Σ over KC blocks (in order) of an in-register sum (in order of p).
package enum GemmBlocked {
    /// Below this many multiply-adds (m·n·k) a call stays on one thread.
    package static let parallelThreshold = 1 << 19

    /// C (+)= op(A)·op(B) with the work split over up to `threads` threads.
    ///
    /// The split is along N when op(B) has at least `threads` micro-panels and m ≤ n
    /// (each thread then packs all of op(A), the smaller operand), otherwise along M.
    /// Chunk edges fall on micro-tile boundaries, so the result is bitwise independent of
    /// `threads` (see `GemmMicroKernel`).
    package static func multiply<K: GemmMicroKernel>(
        _ kernel: K.Type, threads: Int, parallelThreshold: Int = GemmBlocked.parallelThreshold,
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<K.Scalar>, lda: Int, b: UnsafePointer<K.Scalar>, ldb: Int,
        c: UnsafeMutablePointer<K.Scalar>, ldc: Int, accumulate: Bool
    ) {
        let rowTiles = (m + K.mr - 1) / K.mr
        let colTiles = (n + K.nr - 1) / K.nr
        var workers = m * n * k < parallelThreshold ? 1 : threads
        let splitN = (m <= n && colTiles >= workers) || rowTiles < workers
        workers = min(workers, splitN ? colTiles : rowTiles)

        if workers <= 1 {
            single(kernel, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                   a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
            return
        }
        let tiles = splitN ? colTiles : rowTiles
        let step = splitN ? K.nr : K.mr
        parallelFor(workers) { w in
            // Tiles w·tiles/workers ..< (w+1)·tiles/workers: balanced to within one tile.
            let first = w * tiles / workers * step
            let last = min((w + 1) * tiles / workers * step, splitN ? n : m)
            if first >= last { return }
            if splitN {
                single(kernel, transposeA: transposeA, transposeB: transposeB,
                       m: m, n: last - first, k: k, a: a, lda: lda,
                       b: transposeB ? b + first * ldb : b + first, ldb: ldb,
                       c: c + first, ldc: ldc, accumulate: accumulate)
            } else {
                single(kernel, transposeA: transposeA, transposeB: transposeB,
                       m: last - first, n: n, k: k,
                       a: transposeA ? a + first : a + first * lda, lda: lda, b: b, ldb: ldb,
                       c: c + first * ldc, ldc: ldc, accumulate: accumulate)
            }
        }
    }

    /// The loop nest on the calling thread, with a workspace from the pool; `fewRows` when m is
    /// at most `fewRowsLimit` (tests pass 0 to compare the general nest).
    package static func single<K: GemmMicroKernel>(
        _ kernel: K.Type,
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<K.Scalar>, lda: Int, b: UnsafePointer<K.Scalar>, ldb: Int,
        c: UnsafeMutablePointer<K.Scalar>, ldc: Int, accumulate: Bool,
        fewRowsLimit: Int = GemmBlocked.fewRowsLimit
    ) {
        typealias T = K.Scalar
        let mr = K.mr, nr = K.nr
        let mcMax = K.mc, kcMax = K.kc, ncMax = K.nc
        // K in equal blocks of at most KC (784 → 392 + 392, not 384 + 384 + 16): a thin last
        // block would cost a whole pass over C for a few steps of p. Depends on k only, so the
        // summation order is still the same for every thread count.
        let kBlocks = (k + kcMax - 1) / kcMax
        let kcStep = (k + kBlocks - 1) / kBlocks
        if K.rowPanelsOuter && m <= fewRowsLimit {
            fewRows(kernel, kcStep: kcStep, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                    a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
            return
        }
        GemmWorkspace.withWorkspace { workspace in
            let packedA = workspace.aBuffer(T.self, count: mcMax * kcMax)
            let packedB = workspace.bBuffer(T.self, count: kcMax * ncMax)
            // An edge tile is computed whole into `edge`, then its valid part copied out.
            withUnsafeTemporaryAllocation(of: T.self, capacity: mr * nr) { edgeBuffer in
                let edge = edgeBuffer.baseAddress!
                var jc = 0
                while jc < n {
                    let nc = min(ncMax, n - jc)
                    var pc = 0
                    while pc < k {
                        let kc = min(kcStep, k - pc)
                        let addToC = accumulate || pc > 0
                        K.packB(
                            transposed: transposeB, depth: kc, cols: nc,
                            b: transposeB ? b + jc * ldb + pc : b + pc * ldb + jc, ldb: ldb,
                            into: packedB)
                        var ic = 0
                        while ic < m {
                            let mc = min(mcMax, m - ic)
                            K.packA(
                                transposed: transposeA, rows: mc, depth: kc,
                                a: transposeA ? a + pc * lda + ic : a + ic * lda + pc, lda: lda,
                                into: packedA)
                            blockTiles(kernel, kc: kc, mc: mc, nc: nc, packedA: packedA, packedB: packedB,
                                       c: c + ic * ldc + jc, ldc: ldc, addToC: addToC, edge: edge)
                            ic += mc
                        }
                        pc += kc
                    }
                    jc += nc
                }
            }
        }
    }

    /// At most this many rows of C (a batch of examples) take `fewRows`.
    package static let fewRowsLimit = 192
    /// The packed op(B) column chunk of `fewRows`, in bytes: it stays in L2 beside op(A).
    package static let fewRowsChunkBytes = 160 << 10

    /// The loop nest for few rows (`rowPanelsOuter` kernels): for each K block all of op(A)
    /// is packed once (m×kc, at most 192×384 Floats, in L2), then op(B) in column chunks of
    /// `fewRowsChunkBytes` that stay in L2 beside it while every A micro-panel walks them. The
    /// general nest packs B blocks of up to KC×NC, which for a 128-row product leaves B in L3
    /// for each of the 32 A micro-panels. Same K blocks, same tiles: the same result, bit for bit.
    package static func fewRows<K: GemmMicroKernel>(
        _ kernel: K.Type, kcStep: Int,
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<K.Scalar>, lda: Int, b: UnsafePointer<K.Scalar>, ldb: Int,
        c: UnsafeMutablePointer<K.Scalar>, ldc: Int, accumulate: Bool
    ) {
        typealias T = K.Scalar
        let mr = K.mr, nr = K.nr
        let rowsPadded = (m + mr - 1) / mr * mr
        let chunk = Swift.max(nr, fewRowsChunkBytes / (kcStep * MemoryLayout<T>.stride) / nr * nr)
        GemmWorkspace.withWorkspace { workspace in
            let packedA = workspace.aBuffer(T.self, count: Swift.max(K.mc * K.kc, rowsPadded * kcStep))
            let packedB = workspace.bBuffer(T.self, count: K.kc * K.nc)
            withUnsafeTemporaryAllocation(of: T.self, capacity: mr * nr) { edgeBuffer in
                let edge = edgeBuffer.baseAddress!
                var pc = 0
                while pc < k {
                    let kc = Swift.min(kcStep, k - pc)
                    let addToC = accumulate || pc > 0
                    K.packA(transposed: transposeA, rows: m, depth: kc,
                            a: transposeA ? a + pc * lda : a + pc, lda: lda, into: packedA)
                    var jc = 0
                    while jc < n {
                        let nc = Swift.min(chunk, n - jc)
                        K.packB(transposed: transposeB, depth: kc, cols: nc,
                                b: transposeB ? b + jc * ldb + pc : b + pc * ldb + jc, ldb: ldb, into: packedB)
                        blockTiles(kernel, kc: kc, mc: m, nc: nc, packedA: packedA, packedB: packedB,
                                   c: c + jc, ldc: ldc, addToC: addToC, edge: edge)
                        jc += nc
                    }
                    pc += kc
                }
            }
        }
    }

    /// Every mr×nr tile of an mc×nc block of C (at `c`) from its packed panels: the A
    /// micro-panel outside (it stays in L1) for `rowPanelsOuter` kernels, the B micro-panel
    /// outside otherwise.
    @inline(__always)
    package static func blockTiles<K: GemmMicroKernel>(
        _ kernel: K.Type, kc: Int, mc: Int, nc: Int,
        packedA: UnsafeMutablePointer<K.Scalar>, packedB: UnsafeMutablePointer<K.Scalar>,
        c: UnsafeMutablePointer<K.Scalar>, ldc: Int, addToC: Bool, edge: UnsafeMutablePointer<K.Scalar>
    ) {
        func tile(_ ir: Int, _ jr: Int) {
            microTile(kernel, kc: kc, mc: mc, nc: nc, ir: ir, jr: jr, packedA: packedA, packedB: packedB,
                      c: c + ir * ldc + jr, ldc: ldc, addToC: addToC, edge: edge)
        }
        if K.rowPanelsOuter {
            for ir in stride(from: 0, to: mc, by: K.mr) { for jr in stride(from: 0, to: nc, by: K.nr) { tile(ir, jr) } }
        } else {
            for jr in stride(from: 0, to: nc, by: K.nr) { for ir in stride(from: 0, to: mc, by: K.mr) { tile(ir, jr) } }
        }
    }

    /// One mr×nr tile of C at (ir, jr) of the current block; an edge tile is computed whole into
    /// `edge`, then its valid part copied (or added) out.
    @inline(__always)
    package static func microTile<K: GemmMicroKernel>(
        _ kernel: K.Type, kc: Int, mc: Int, nc: Int, ir: Int, jr: Int,
        packedA: UnsafeMutablePointer<K.Scalar>, packedB: UnsafeMutablePointer<K.Scalar>,
        c cTile: UnsafeMutablePointer<K.Scalar>, ldc: Int, addToC: Bool,
        edge: UnsafeMutablePointer<K.Scalar>
    ) {
        let mr = K.mr, nr = K.nr
        let width = min(nr, nc - jr), height = min(mr, mc - ir)
        let panelA = packedA + ir * kc, panelB = packedB + jr * kc
        if width == nr && height == mr {
            K.tile(kc: kc, a: panelA, b: panelB, c: cTile, ldc: ldc, accumulate: addToC)
        } else {
            K.tile(kc: kc, a: panelA, b: panelB, c: edge, ldc: nr, accumulate: false)
            for r in 0..<height {
                let src = edge + r * nr
                let dst = cTile + r * ldc
                if addToC {
                    for j in 0..<width { dst[j] = dst[j] + src[j] }
                } else {
                    for j in 0..<width { dst[j] = src[j] }
                }
            }
        }
    }
}
