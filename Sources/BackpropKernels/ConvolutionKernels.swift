/// The index arithmetic of a 2-D convolution in NCHW with PyTorch's weight layout
/// [out, in/groups, kh, kw].
///
/// Output extent along each spatial axis: ⌊(in + 2·pad − dil·(k − 1) − 1) / stride⌋ + 1.
package struct ConvolutionGeometry: Equatable, Sendable {
    package var batch: Int, inChannels: Int, height: Int, width: Int
    package var outChannels: Int, groups: Int
    package var kernel: Size2D, stride: Size2D, padding: Size2D, dilation: Size2D

    package init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int, groups: Int,
                 kernel: Size2D, stride: Size2D, padding: Size2D, dilation: Size2D) {
        (self.batch, self.inChannels, self.height, self.width) = (batch, inChannels, height, width)
        (self.outChannels, self.groups) = (outChannels, groups)
        (self.kernel, self.stride, self.padding, self.dilation) = (kernel, stride, padding, dilation)
    }

    package var outHeight: Int { (height + 2 * padding.height - dilation.height * (kernel.height - 1) - 1) / stride.height + 1 }
    package var outWidth: Int { (width + 2 * padding.width - dilation.width * (kernel.width - 1) - 1) / stride.width + 1 }
    package var inChannelsPerGroup: Int { inChannels / groups }
    package var outChannelsPerGroup: Int { outChannels / groups }
    /// Rows of the column matrix of one group: K = (C/groups)·kh·kw.
    package var columnRows: Int { inChannelsPerGroup * kernel.height * kernel.width }
    /// Output pixels per channel: P = outH·outW.
    package var outPixels: Int { outHeight * outWidth }
    package var inPixels: Int { height * width }
    /// A 1×1 kernel with stride 1 and no padding: the input planes are the column matrix.
    package var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    package var inputShape: [Int] { [batch, inChannels, height, width] }
    package var weightShape: [Int] { [outChannels, inChannelsPerGroup, kernel.height, kernel.width] }
    package var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }
    /// Multiply-adds of the forward pass.
    package var multiplyAdds: Int { batch * outChannels * outPixels * columnRows }
}

/// Convolution as packing plus GEMM (im2col): for image n and group g, the receptive fields are
/// copied into a column matrix X_col [K, P] (K = (C/groups)·kh·kw, P = outH·outW, zeros where
/// the window covers padding), and
///
///     forward           Y[n, g]  = W_g · X_col               [O/g, K]·[K, P]
///     ∂L/∂x (fast path)  X̄_col   = W_gᵀ · Ȳ[n, g], then col2im scatters X̄_col back onto x̄
///     ∂L/∂W (fast path)  W̄_g    += Ȳ[n, g] · X_colᵀ          summed over the images
///
/// with the library's GEMM. Images run in parallel (one column buffer per worker, from
/// `ScratchBuffer`, so nothing is allocated per call in the steady state) and each worker's GEMMs
/// on one thread; a single image runs its GEMMs on every thread instead. ∂L/∂W sums the images
/// in fixed chunks whose partial sums are added in chunk order, so every result is the same
/// for any thread count.
package enum ConvolutionKernels {
    /// Below this many multiply-adds a call stays on one thread.
    package static let parallelThreshold = 1 << 18
    /// ∂L/∂W sums the batch in at most this many chunks (independent of the thread count).
    package static let weightChunks = 8

    /// ⌈a / b⌉ for b > 0 and any a.
    @inline(__always)
    package static func ceilDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? (a + b - 1) / b : -((-a) / b) }

    /// The range of output columns ow whose input column ow·s + offset lies in 0..<width.
    @inline(__always)
    package static func validColumns(offset: Int, stride s: Int, width: Int, outWidth: Int) -> Range<Int> {
        let lower = Swift.min(Swift.max(0, ceilDiv(-offset, s)), outWidth)
        let upper = Swift.min(Swift.max(lower, ceilDiv(width - offset, s)), outWidth)
        return lower..<upper
    }

    /// The column matrix [K, P] of one group of one image; `x` points at the group's first
    /// input channel.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func im2col<T: TensorScalar>(_ x: UnsafePointer<T>, _ g: ConvolutionGeometry, into cols: UnsafeMutablePointer<T>) {
        let kh = g.kernel.height, kw = g.kernel.width, outH = g.outHeight, outW = g.outWidth
        let h = g.height, w = g.width, sH = g.stride.height, sW = g.stride.width
        let p = g.outPixels
        for c in 0..<g.inChannelsPerGroup {
            let plane = x + c * h * w
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = cols + ((c * kh + i) * kw + j) * p
                    let offset = j * g.dilation.width - g.padding.width
                    let valid = validColumns(offset: offset, stride: sW, width: w, outWidth: outW)
                    // Rows of a few dozen values: plain loops (a memset or memcpy call per
                    // row segment, often of one value at a padded edge, cost more than the copy).
                    for oh in 0..<outH {
                        let ih = oh * sH - g.padding.height + i * g.dilation.height
                        let dst = row + oh * outW
                        guard ih >= 0 && ih < h else {
                            for ow in 0..<outW { dst[ow] = 0 }
                            continue
                        }
                        let src = plane + ih * w + offset
                        for ow in 0..<valid.lowerBound { dst[ow] = 0 }
                        if sW == 1 {
                            for ow in valid { dst[ow] = src[ow] }
                        } else {
                            for ow in valid { dst[ow] = src[ow * sW] }
                        }
                        for ow in valid.upperBound..<outW { dst[ow] = 0 }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds each entry of the column matrix [K, P] onto the input
    /// position it was copied from (padding positions are dropped). `x` points at the group's
    /// first input channel.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func col2im<T: TensorScalar>(_ cols: UnsafePointer<T>, _ g: ConvolutionGeometry, addingInto x: UnsafeMutablePointer<T>) {
        let kh = g.kernel.height, kw = g.kernel.width, outH = g.outHeight, outW = g.outWidth
        let h = g.height, w = g.width, sH = g.stride.height, sW = g.stride.width
        let p = g.outPixels
        for c in 0..<g.inChannelsPerGroup {
            let plane = x + c * h * w
            for i in 0..<kh {
                for j in 0..<kw {
                    let row = cols + ((c * kh + i) * kw + j) * p
                    let offset = j * g.dilation.width - g.padding.width
                    let valid = validColumns(offset: offset, stride: sW, width: w, outWidth: outW)
                    if valid.isEmpty { continue }
                    for oh in 0..<outH {
                        let ih = oh * sH - g.padding.height + i * g.dilation.height
                        guard ih >= 0 && ih < h else { continue }
                        let src = row + oh * outW
                        let dst = plane + ih * w + offset
                        if sW == 1 {
                            for ow in valid { dst[ow] += src[ow] }
                        } else {
                            for ow in valid { dst[ow * sW] += src[ow] }
                        }
                    }
                }
            }
        }
    }

    /// Runs `body(image, threadsForGEMM)` for every image: in parallel with one-thread GEMMs
    /// when the work is large and there are several images, otherwise in order with GEMMs on
    /// every thread.
    package static func forEachImage(_ g: ConvolutionGeometry, _ body: (Int, Int) -> Void) {
        let threads = kernelThreadCount
        let workers = g.multiplyAdds < parallelThreshold ? 1 : Swift.min(threads, g.batch)
        if workers <= 1 {
            let gemmThreads = g.multiplyAdds < parallelThreshold ? 1 : threads
            for n in 0..<g.batch { body(n, gemmThreads) }
            return
        }
        parallelFor(workers) { w in
            for n in (w * g.batch / workers)..<((w + 1) * g.batch / workers) { body(n, 1) }
        }
    }

    /// y = conv(x, w) + bias, [N, O, outH, outW].
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func forward<T: TensorScalar>(_ x: [T], _ w: [T], bias: [T]?, _ g: ConvolutionGeometry) -> [T] {
        let k = g.columnRows, p = g.outPixels, og = g.outChannelsPerGroup
        let count = g.batch * g.outChannels * p
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            x.withUnsafeBufferPointer { px in
                w.withUnsafeBufferPointer { pw in
                    guard let xp = px.baseAddress, let wp = pw.baseAddress, let yp = out.baseAddress else { return }
                    forEachImage(g) { n, gemmThreads in
                        let withColumns = { (cols: UnsafeMutablePointer<T>?) in
                            for group in 0..<g.groups {
                                let xg = xp + (n * g.inChannels + group * g.inChannelsPerGroup) * g.inPixels
                                let yg = yp + (n * g.outChannels + group * og) * p
                                if let cols { im2col(xg, g, into: cols) }
                                if let bias {
                                    for o in 0..<og { (yg + o * p).update(repeating: bias[group * og + o], count: p) }
                                }
                                Gemm.multiply(threads: gemmThreads, transposeA: false, transposeB: false, m: og, n: p, k: k,
                                              a: wp + group * og * k, lda: k, b: UnsafePointer(cols ?? UnsafeMutablePointer(mutating: xg)), ldb: p,
                                              c: yg, ldc: p, accumulate: bias != nil)
                            }
                        }
                        if g.isPointwise { withColumns(nil) } else { ScratchBuffer.withBuffer(T.self, count: k * p) { withColumns($0) } }
                    }
                }
            }
            initialized = count
        }
    }

    /// x̄ = convᵀ(ȳ, w): the adjoint of the forward map in x, [N, C, H, W].
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func backwardInput<T: TensorScalar>(_ gy: [T], _ w: [T], _ g: ConvolutionGeometry) -> [T] {
        let k = g.columnRows, p = g.outPixels, og = g.outChannelsPerGroup
        let count = g.batch * g.inChannels * g.inPixels
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            gy.withUnsafeBufferPointer { pg in
                w.withUnsafeBufferPointer { pw in
                    guard let gp = pg.baseAddress, let wp = pw.baseAddress, let xp = out.baseAddress else { return }
                    forEachImage(g) { n, gemmThreads in
                        for group in 0..<g.groups {
                            let xg = xp + (n * g.inChannels + group * g.inChannelsPerGroup) * g.inPixels
                            let gyg = gp + (n * g.outChannels + group * og) * p
                            if g.isPointwise {
                                Gemm.multiply(threads: gemmThreads, transposeA: true, transposeB: false, m: k, n: p, k: og,
                                              a: wp + group * og * k, lda: k, b: gyg, ldb: p, c: xg, ldc: p, accumulate: false)
                                continue
                            }
                            xg.update(repeating: 0, count: g.inChannelsPerGroup * g.inPixels)
                            ScratchBuffer.withBuffer(T.self, count: k * p) { cols in
                                Gemm.multiply(threads: gemmThreads, transposeA: true, transposeB: false, m: k, n: p, k: og,
                                              a: wp + group * og * k, lda: k, b: gyg, ldb: p, c: cols, ldc: p, accumulate: false)
                                col2im(cols, g, addingInto: xg)
                            }
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// w̄ = Σ_n ȳ[n] ⋆ x[n]: the adjoint of the forward map in w, [O, C/groups, kh, kw].
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func backwardWeight<T: TensorScalar>(_ x: [T], _ gy: [T], _ g: ConvolutionGeometry) -> [T] {
        let k = g.columnRows, p = g.outPixels, og = g.outChannelsPerGroup
        let size = g.outChannels * k
        let chunks = Swift.max(1, Swift.min(g.batch, weightChunks))
        // Chunk c sums images c·N/chunks ..< (c+1)·N/chunks into partial c; chunk 0 writes the result.
        if g.batch == 0 { return [T](repeating: 0, count: size) }
        var result = [T](unsafeUninitializedCapacity: size) { _, initialized in initialized = size }   // every entry written below
        let threads = kernelThreadCount
        let workers = g.multiplyAdds < parallelThreshold ? 1 : Swift.min(threads, chunks)
        let gemmThreads = workers == 1 && g.multiplyAdds >= parallelThreshold ? threads : 1
        x.withUnsafeBufferPointer { px in
            gy.withUnsafeBufferPointer { pg in
                result.withUnsafeMutableBufferPointer { pr in
                    guard let xp = px.baseAddress, let gp = pg.baseAddress, let rp = pr.baseAddress else { return }
                    ScratchBuffer.withBuffer(T.self, count: Swift.max(1, chunks - 1) * size) { partials in
                        let runChunk = { (c: Int) in
                            let target = c == 0 ? rp : partials + (c - 1) * size
                            let first = c * g.batch / chunks, last = (c + 1) * g.batch / chunks
                            let withColumns = { (cols: UnsafeMutablePointer<T>?) in
                                for n in first..<last {
                                    for group in 0..<g.groups {
                                        let xg = xp + (n * g.inChannels + group * g.inChannelsPerGroup) * g.inPixels
                                        let gyg = gp + (n * g.outChannels + group * og) * p
                                        if let cols { im2col(xg, g, into: cols) }
                                        Gemm.multiply(threads: gemmThreads, transposeA: false, transposeB: true, m: og, n: k, k: p,
                                                      a: gyg, lda: p, b: UnsafePointer(cols ?? UnsafeMutablePointer(mutating: xg)), ldb: p,
                                                      c: target + group * og * k, ldc: k, accumulate: n > first)
                                    }
                                }
                            }
                            if g.isPointwise { withColumns(nil) } else { ScratchBuffer.withBuffer(T.self, count: k * p) { withColumns($0) } }
                        }
                        if workers <= 1 {
                            for c in 0..<chunks { runChunk(c) }
                        } else {
                            parallelFor(workers) { w in
                                for c in (w * chunks / workers)..<((w + 1) * chunks / workers) { runChunk(c) }
                            }
                        }
                        for c in 1..<chunks {
                            let partial = partials + (c - 1) * size
                            for i in 0..<size { rp[i] += partial[i] }
                        }
                    }
                }
            }
        }
        return result
    }

    /// b̄[o] = Σ over images and pixels of ȳ[n, o, ·], ȳ viewed as [batch, channels, pixels].
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func channelSums<T: TensorScalar>(_ gy: [T], batch: Int, channels: Int, pixels: Int) -> [T] {
        var result = [T](repeating: 0, count: channels)
        gy.withUnsafeBufferPointer { pg in
            guard let gp = pg.baseAddress else { return }
            // Eight running sums per plane (a single sum waits on each add's latency).
            for n in 0..<batch {
                for o in 0..<channels {
                    let src = gp + (n * channels + o) * pixels
                    var lanes = SIMD8<T>()
                    var i = 0
                    while i + 8 <= pixels {
                        lanes += UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<T>.self)
                        i += 8
                    }
                    var total = lanes.sum()
                    while i < pixels { total += src[i]; i += 1 }
                    result[o] += total
                }
            }
        }
        return result
    }
}

extension Gemm {
    /// `multiply` on the route it would choose, with an explicit thread count (kernels that
    /// already run in parallel call their GEMMs on one thread each).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func multiply<T: TensorScalar>(
        threads: Int, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool
    ) {
        multiply(route: .chosen(m: m, n: n, k: k), threads: threads, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                 a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
    }
}
