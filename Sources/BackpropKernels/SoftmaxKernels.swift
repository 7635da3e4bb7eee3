import CBackpropKernels

/// Row-wise softmax, log-softmax and softmax cross-entropy with inverse temperature β: the
/// forward passes and their VJPs, each one or two passes over a row (a row of a few thousand
/// scalars stays in L1 between passes, so memory sees one read per input and one write).
/// While a row's in-cache passes compute, the next row is prefetched (`RowPrefetch`); a large
/// VJP output is written with streaming stores (`streamingThreshold`).
///
/// All are stable for any finite input: each row is shifted by max(βx), so no exponent is
/// positive. Large inputs are split by rows over `Backprop.threadCount` threads; the result
/// does not depend on the split.
///
/// Float rows run on the C target's AVX2 or AVX-512 kernels where the instruction set in use has
/// them (`KernelVariant`, CBackpropKernels/impl/vector_kernels.h: the same passes, with the
/// exponential in fused multiply-adds and each row's partial last vector through the vector
/// code); the Swift kernels below are the baseline variant and the Double path.
package enum SoftmaxKernels {
    /// Below this many elements a kernel stays on one thread.
    package static let parallelThreshold = 1 << 16

    /// A VJP output of at least this many bytes is written with streaming (non-temporal) stores:
    /// it cannot stay cached beside the arrays it is computed from, and a normal store would
    /// first read each of its lines from memory. (Measured on the 4096×1000 benchmark, 16 MB per
    /// array: the VJP took 2.8 instead of 3.3 ms on one thread. The forward's output is not
    /// streamed: the VJP reads it back, and streaming it measured slower.)
    package static let streamingThreshold = 8 << 20

    /// Runs `body(rows)` over chunks of `0..<rows` on up to `threadCount` threads.
    @inline(__always)
    package static func forEachRowChunk(rows: Int, rowLength n: Int, threads: Int = kernelThreadCount, _ body: (Range<Int>) -> Void) {
        let workers = rows * n < parallelThreshold ? 1 : min(threads, rows)
        if workers <= 1 { body(0..<rows); return }
        parallelFor(workers) { w in body((w * rows / workers)..<((w + 1) * rows / workers)) }
    }

    /// The row shift max(βx), made 0 for a row whose maximum is ±∞ (avoiding ∞ − ∞).
    @inline(__always)
    package static func shift<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int, _ beta: T) -> T {
        let m = RowKernels.maxScaled(x, n, beta)
        return !m.isFinite && !m.isNaN ? 0 : m
    }

    /// y = softmax(βx) (or log softmax(βx) when `log`) along rows of length `n`.
    ///
    /// softmax: y_j = e^{βx_j − m} / Σ_i e^{βx_i − m}; log: y_j = βx_j − (m + log Σ_i e^{βx_i − m}).
    ///
    /// `variant` picks the kernels (default: the instruction set in use); Float rows go to the C
    /// target's kernels where the variant has them.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func softmax<T: TensorScalar>(_ x: [T], rowLength n: Int, beta: T, log: Bool,
                                         threads: Int = kernelThreadCount, variant: KernelVariant = .active) -> [T] {
        let rows = n == 0 ? 0 : x.count / n
        let table = KernelVariant.floatTable(T.self, variant)
        return [T](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { px in
                guard let xp = px.baseAddress, let yp = out.baseAddress else { return }
                if let table {
                    let xf = RowKernels.float(xp), yf = RowKernels.float(yp), b = unsafeBitCast(beta, to: Float.self)
                    forEachRowChunk(rows: rows, rowLength: n, threads: threads) { chunk in
                        table.softmax_forward!(xf + chunk.lowerBound * n, yf + chunk.lowerBound * n, chunk.count, n, b, log ? 1 : 0)
                    }
                    return
                }
                forEachRowChunk(rows: rows, rowLength: n, threads: threads) { chunk in
                    for r in chunk {
                        let row = xp + r * n, y = yp + r * n
                        func forward<P: RowPrefetch>(_ next: P) {
                            let m = shift(row, n, beta)
                            if log {
                                let s = RowKernels.expShifted(row, nil, n, beta, m, prefetch: next)
                                RowKernels.affine(row, y, n, beta, -(m + T.log(s)))
                            } else {
                                let s = RowKernels.expShifted(row, y, n, beta, m, prefetch: next)
                                RowKernels.affine(UnsafePointer(y), y, n, 1 / s, 0)
                            }
                        }
                        if r + 1 < chunk.upperBound {
                            forward(PrefetchReadWrite(read: UnsafeRawPointer(row + n), write: UnsafeMutableRawPointer(y + n)))
                        } else {
                            forward(NoPrefetch())
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// The VJP with respect to x of softmax(βx) (y its output): ∂L/∂x = β·y ⊙ (g − ⟨g, y⟩), or of
    /// log softmax(βx) (y = log p) when `log`: ∂L/∂x = β(g − p·Σ_j g_j). Two passes per row.
    ///
    /// `g` may hold a batch of cotangents, k·y.count scalars: row r of g pairs with row
    /// r mod (y.count / n) of y. The result has g's layout. `streaming` (default: whether the
    /// result reaches `streamingThreshold` bytes) picks streaming stores; it changes no value.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func backward<T: TensorScalar>(_ g: [T], output y: [T], rowLength n: Int, beta: T, log: Bool,
                                          streaming: Bool? = nil, threads: Int = kernelThreadCount,
                                          variant: KernelVariant = .active) -> [T] {
        require(y.count == 0 ? g.count == 0 : g.count % y.count == 0, "SoftmaxKernels.backward: \(g.count) cotangents for \(y.count) outputs")
        let rows = n == 0 ? 0 : g.count / n, yRows = Swift.max(1, n == 0 ? 1 : y.count / n)
        let stream = T.self == Float.self && (streaming ?? (g.count * MemoryLayout<T>.stride >= streamingThreshold))
        let table = KernelVariant.floatTable(T.self, variant)
        return [T](unsafeUninitializedCapacity: g.count) { out, initialized in
            g.withUnsafeBufferPointer { pg in
                y.withUnsafeBufferPointer { py in
                    guard let gp = pg.baseAddress, let yp = py.baseAddress, let op = out.baseAddress else { return }
                    if let table {
                        let gf = RowKernels.float(gp), yf = RowKernels.float(yp), of = RowKernels.float(op)
                        let b = unsafeBitCast(beta, to: Float.self)
                        forEachRowChunk(rows: rows, rowLength: n, threads: threads) { chunk in
                            table.softmax_backward!(gf, yf, of, chunk.lowerBound, chunk.count, yRows, n, b, log ? 1 : 0, stream ? 1 : 0)
                        }
                        return
                    }
                    forEachRowChunk(rows: rows, rowLength: n, threads: threads) { chunk in
                        var streamed: StreamedRows? = stream ? StreamedRows() : nil
                        for r in chunk {
                            let gr = gp + r * n, yr = yp + (r % yRows) * n, o = op + r * n
                            func backward<P: RowPrefetch>(_ next: P) {
                                if log {
                                    RowKernels.logSoftmaxBackward(gr, yr, o, n, beta, RowKernels.sum(gr, n), prefetch: next, stream: &streamed)
                                } else {
                                    RowKernels.softmaxBackward(gr, yr, o, n, beta, RowKernels.dot(gr, yr, n), prefetch: next, stream: &streamed)
                                }
                            }
                            let reads = PrefetchTwoReads(read: UnsafeRawPointer(gr + n), secondRead: UnsafeRawPointer(yp + ((r + 1) % yRows) * n))
                            if r + 1 == chunk.upperBound {
                                backward(NoPrefetch())
                            } else if stream {
                                backward(reads)
                            } else {
                                backward(PrefetchTwoReadsWrite(reads: reads, write: UnsafeMutableRawPointer(o + n)))
                            }
                        }
                        streamed?.finish()
                    }
                }
            }
            initialized = g.count
        }
    }

    /// Softmax cross-entropy, forward, for logits z and targets t of the same shape (rows of `n`).
    ///
    /// Returns Σ_rows Σ_j −t_j·log softmax(βz)_j (terms with t_j = 0 skipped, so a class whose
    /// probability underflows costs nothing unless targeted), the probabilities p = softmax(βz)
    /// (kept for the VJP) and each row's target sum s = Σ_j t_j.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func crossEntropy<T: TensorScalar>(logits z: [T], targets t: [T], rowLength n: Int, beta: T,
                                              variant: KernelVariant = .active)
        -> (loss: T, probabilities: [T], targetSums: [T]) {
        let rows = n == 0 ? 0 : z.count / n
        var loss: T = 0
        var sums = [T](repeating: 0, count: rows)
        let table = KernelVariant.floatTable(T.self, variant)
        let p = [T](unsafeUninitializedCapacity: z.count) { out, initialized in
            z.withUnsafeBufferPointer { pz in
                t.withUnsafeBufferPointer { pt in
                    guard let zp = pz.baseAddress, let tp = pt.baseAddress, let pp = out.baseAddress else { return }
                    if let table {
                        sums.withUnsafeMutableBufferPointer { ps in
                            let total = table.cross_entropy_forward!(RowKernels.float(zp), RowKernels.float(tp), RowKernels.float(pp),
                                                                    RowKernels.float(ps.baseAddress!), rows, n,
                                                                    unsafeBitCast(beta, to: Float.self))
                            loss = unsafeBitCast(Float(total), to: T.self)
                        }
                        return
                    }
                    for r in 0..<rows {
                        let zr = zp + r * n, tr = tp + r * n, y = pp + r * n
                        let m = shift(zr, n, beta)
                        let s = RowKernels.expShifted(zr, y, n, beta, m)
                        RowKernels.affine(UnsafePointer(y), y, n, 1 / s, 0)
                        let logSum = m + T.log(s)
                        var rowLoss: T = 0, rowSum: T = 0
                        for j in 0..<n where tr[j] != 0 {
                            rowLoss += tr[j] * (logSum - beta * zr[j])
                            rowSum += tr[j]
                        }
                        loss += rowLoss
                        sums[r] = rowSum
                    }
                }
            }
            initialized = z.count
        }
        return (loss, p, sums)
    }

    /// Softmax cross-entropy, VJP with respect to the logits: out[k, r, j] = c_k·(s_r·p_rj − t_rj)
    /// for each coefficient c_k (one per cotangent in a batch; c = g·β/B for the mean loss).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func crossEntropyBackward<T: TensorScalar>(probabilities p: [T], targets t: [T], targetSums s: [T],
                                                      rowLength n: Int, coefficients c: [T],
                                                      variant: KernelVariant = .active) -> [T] {
        let rows = s.count, total = c.count * p.count
        let table = KernelVariant.floatTable(T.self, variant)
        return [T](unsafeUninitializedCapacity: total) { out, initialized in
            p.withUnsafeBufferPointer { pp in
                t.withUnsafeBufferPointer { pt in
                    guard let pb = pp.baseAddress, let tb = pt.baseAddress, let ob = out.baseAddress else { return }
                    for (k, ck) in c.enumerated() {
                        for r in 0..<rows {
                            let o = ob + (k * rows + r) * n, pr = pb + r * n, tr = tb + r * n
                            let a = ck * s[r]
                            if let table {
                                table.cross_entropy_backward!(RowKernels.float(pr), RowKernels.float(tr), RowKernels.float(o), n,
                                                             unsafeBitCast(a, to: Float.self), unsafeBitCast(ck, to: Float.self))
                                continue
                            }
                            for j in 0..<n { o[j] = a * pr[j] - ck * tr[j] }
                        }
                    }
                }
            }
            initialized = total
        }
    }
}
