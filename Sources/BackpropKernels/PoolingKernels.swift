/// The windows of a 2-D pooling over NCHW planes: window (oh, ow) covers input rows
/// oh·sH − pH ..< oh·sH − pH + kH and columns likewise, clipped to the image (padding
/// positions take no part: −∞ for the maximum, 0 for the sum).
package struct PoolingGeometry: Equatable, Sendable {
    /// N·C planes of height × width.
    package var planes: Int, height: Int, width: Int
    package var kernel: Size2D, stride: Size2D, padding: Size2D

    package init(planes: Int, height: Int, width: Int, kernel: Size2D, stride: Size2D, padding: Size2D) {
        (self.planes, self.height, self.width) = (planes, height, width)
        (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
    }

    package var outHeight: Int { (height + 2 * padding.height - kernel.height) / stride.height + 1 }
    package var outWidth: Int { (width + 2 * padding.width - kernel.width) / stride.width + 1 }
    package var inPixels: Int { height * width }
    package var outPixels: Int { outHeight * outWidth }

    /// The input rows of output row oh (or columns of output column ow), clipped.
    @inline(__always)
    package func rows(_ oh: Int) -> Range<Int> {
        let start = oh * stride.height - padding.height
        return Swift.max(start, 0)..<Swift.min(start + kernel.height, height)
    }

    @inline(__always)
    package func columns(_ ow: Int) -> Range<Int> {
        let start = ow * stride.width - padding.width
        return Swift.max(start, 0)..<Swift.min(start + kernel.width, width)
    }
}

/// Max pooling (values and the flat input index of each window's first maximum), the gather
/// and scatter-add by those indices that are its derivatives, and average pooling with its
/// adjoint. Planes are split over the threads when the input is large; no result depends on
/// the split.
package enum PoolingKernels {
    package static var parallelThreshold: Int { ElementwiseKernels.parallelThreshold }

    @inline(__always)
    package static func forEachPlaneRange(_ g: PoolingGeometry, _ body: (Range<Int>) -> Void) {
        forEachRange(g.planes, threads: g.planes * g.inPixels >= parallelThreshold ? kernelThreadCount : 1, threshold: 2, body)
    }

    /// The maximum of each window and the flat index into x of its first occurrence (row-major
    /// within the window). A NaN in a window makes its maximum NaN (and its index the last
    /// NaN's, as PyTorch).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func maxPool<T: TensorScalar>(_ x: [T], _ g: PoolingGeometry) -> (values: [T], indices: [Int32]) {
        let count = g.planes * g.outPixels
        let (outH, outW, h, w) = (g.outHeight, g.outWidth, g.height, g.width)
        let (kh, kw, sH, sW, pH, pW) = (g.kernel.height, g.kernel.width, g.stride.height, g.stride.width, g.padding.height, g.padding.width)
        // Every window writes its value and index: no need to clear the arrays first.
        var indices: [Int32] = []
        let values = [T](unsafeUninitializedCapacity: count) { pv, valuesInitialized in
            indices = [Int32](unsafeUninitializedCapacity: count) { pi, indicesInitialized in
                x.withUnsafeBufferPointer { px in
                    guard let xp = px.baseAddress, let vp = pv.baseAddress, let ip = pi.baseAddress else { return }
                    forEachPlaneRange(g) { planes in
                        for plane in planes {
                            let base = plane * h * w
                            var o = plane * outH * outW
                            if kh == 2 && kw == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0 {
                                for oh in 0..<outH {
                                    maxPool2x2Row(xp + base + 2 * oh * w, end: xp + x.count, rowIndex: base + 2 * oh * w, width: w, outWidth: outW,
                                                  values: vp + o, indices: ip + o)
                                    o += outW
                                }
                                continue
                            }
                            for oh in 0..<outH {
                                let r0 = oh * sH - pH
                                let rLow = Swift.max(r0, 0), rHigh = Swift.min(r0 + kh, h)
                                for ow in 0..<outW {
                                    let c0 = ow * sW - pW
                                    let cLow = Swift.max(c0, 0), cHigh = Swift.min(c0 + kw, w)
                                    var bestIndex = base + rLow * w + cLow
                                    var best = xp[bestIndex]
                                    var r = rLow
                                    while r < rHigh {
                                        let rowStart = base + r * w
                                        var c = cLow
                                        while c < cHigh {
                                            let v = xp[rowStart + c]
                                            let take = takes(v, over: best)
                                            best = take ? v : best
                                            bestIndex = take ? rowStart + c : bestIndex
                                            c += 1
                                        }
                                        r += 1
                                    }
                                    vp[o] = best
                                    ip[o] = Int32(truncatingIfNeeded: bestIndex)
                                    o += 1
                                }
                            }
                        }
                    }
                }
                indicesInitialized = count
            }
            valuesInitialized = count
        }
        return (values, indices)
    }

    /// One output row of a 2×2, stride-2 max pooling over input rows `top` and `top + width`,
    /// without branches on the data (a comparison of random values is mispredicted half the
    /// time, which cost more than the loads). `rowIndex` is the flat index of `top`.
    @inline(__always)
    package static func maxPool2x2Row<T: TensorScalar>(_ top: UnsafePointer<T>, end: UnsafePointer<T>, rowIndex: Int, width w: Int,
                                               outWidth: Int, values: UnsafeMutablePointer<T>, indices: UnsafeMutablePointer<Int32>) {
        var start = 0
        if T.self == Float.self {
            start = maxPool2x2RowFloat(UnsafeRawPointer(top).assumingMemoryBound(to: Float.self),
                                       end: UnsafeRawPointer(end).assumingMemoryBound(to: Float.self), rowIndex: rowIndex, width: w,
                                       outWidth: outWidth, values: UnsafeMutableRawPointer(values).assumingMemoryBound(to: Float.self),
                                       indices: indices)
        }
        let bottom = top + w
        for ow in start..<outWidth {
            let c = 2 * ow
            var best = top[c], offset = 0
            let v1 = top[c + 1], v2 = bottom[c], v3 = bottom[c + 1]
            var take = takes(v1, over: best)
            best = take ? v1 : best; offset = take ? 1 : offset
            take = takes(v2, over: best)
            best = take ? v2 : best; offset = take ? w : offset
            take = takes(v3, over: best)
            best = take ? v3 : best; offset = take ? w + 1 : offset
            values[ow] = best
            indices[ow] = Int32(truncatingIfNeeded: rowIndex + c + offset)
        }
    }

    /// The Float row eight windows at a time (the even and odd columns of 16 inputs per row as
    /// two vectors, a last partial block through a padded copy), so no comparison of the data
    /// becomes a branch: a comparison of random values is mispredicted half the time, and the
    /// compiler turns scalar selects in a loop into branches. Returns the windows it did (all).
    @inline(__always)
    package static func maxPool2x2RowFloat(_ top: UnsafePointer<Float>, end: UnsafePointer<Float>, rowIndex: Int, width w: Int,
                                   outWidth: Int, values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) -> Int {
        guard rowIndex + 2 * outWidth + w < Int(Int32.max) else { return 0 }
        let bottom = top + w
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        @inline(__always) func block(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ ow: Int) -> (SIMD8<Float>, SIMD8<Int32>) {
            var best = a.evenHalf
            var offset = SIMD8<Int32>(repeating: 0)
            // A later candidate wins when larger, or NaN (PyTorch's rule).
            var candidate = a.oddHalf
            var take = (candidate .> best) .| (candidate .!= candidate)
            best.replace(with: candidate, where: take)
            offset.replace(with: 1, where: take)
            candidate = b.evenHalf
            take = (candidate .> best) .| (candidate .!= candidate)
            best.replace(with: candidate, where: take)
            offset.replace(with: Int32(w), where: take)
            candidate = b.oddHalf
            take = (candidate .> best) .| (candidate .!= candidate)
            best.replace(with: candidate, where: take)
            offset.replace(with: Int32(w + 1), where: take)
            return (best, SIMD8<Int32>(repeating: Int32(rowIndex + 2 * ow)) &+ lanes &+ offset)
        }
        var ow = 0
        while ow + 8 <= outWidth {
            let (best, index) = block(UnsafeRawPointer(top + 2 * ow).loadUnaligned(as: SIMD16<Float>.self),
                                      UnsafeRawPointer(bottom + 2 * ow).loadUnaligned(as: SIMD16<Float>.self), ow)
            UnsafeMutableRawPointer(values + ow).storeBytes(of: best, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(indices + ow).storeBytes(of: index, as: SIMD8<Int32>.self)
            ow += 8
        }
        let rest = outWidth - ow
        guard rest > 0 else { return outWidth }
        let (best, index): (SIMD8<Float>, SIMD8<Int32>)
        if bottom + 2 * ow + 16 <= end {
            // Whole vectors: the lanes past the row read the next row or plane and are dropped.
            (best, index) = block(UnsafeRawPointer(top + 2 * ow).loadUnaligned(as: SIMD16<Float>.self),
                                  UnsafeRawPointer(bottom + 2 * ow).loadUnaligned(as: SIMD16<Float>.self), ow)
        } else {
            // At the end of the tensor: through a padded copy.
            (best, index) = withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { buffer in
                let p = buffer.baseAddress!
                p.initialize(repeating: -.infinity, count: 32)
                (p).update(from: top + 2 * ow, count: 2 * rest)
                (p + 16).update(from: bottom + 2 * ow, count: 2 * rest)
                return block(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self),
                             UnsafeRawPointer(p + 16).loadUnaligned(as: SIMD16<Float>.self), ow)
            }
        }
        for l in 0..<rest {
            values[ow + l] = best[l]
            indices[ow + l] = index[l]
        }
        return outWidth
    }

    /// Whether a later value `v` of a window replaces the maximum so far: larger, or NaN
    /// (PyTorch's rule, so a NaN anywhere in the window is the result).
    @inline(__always)
    package static func takes<T: TensorScalar>(_ v: T, over best: T) -> Bool {
        (v > best) != (v != v)   // the two never hold together; `!=` evaluates both, so no branch
    }

    /// y[o] = x[indices[o]].
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func gather<T: TensorScalar>(_ x: [T], _ indices: [Int32]) -> [T] {
        x.withUnsafeBufferPointer { px in
            indices.map { px[Int($0)] }
        }
    }

    /// x̄ of `count` zeros plus ȳ[o] added at indices[o]: the adjoint of `gather`. Each plane's
    /// indices stay in the plane, so planes split over the threads.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func scatterAdd<T: TensorScalar>(_ gy: [T], _ indices: [Int32], _ g: PoolingGeometry) -> [T] {
        var out = [T](repeating: 0, count: g.planes * g.inPixels)
        gy.withUnsafeBufferPointer { pg in
            indices.withUnsafeBufferPointer { pi in
                out.withUnsafeMutableBufferPointer { po in
                    guard let gp = pg.baseAddress, let ip = pi.baseAddress, let op = po.baseAddress else { return }
                    forEachPlaneRange(g) { planes in
                        for o in (planes.lowerBound * g.outPixels)..<(planes.upperBound * g.outPixels) {
                            op[Int(ip[o])] += gp[o]
                        }
                    }
                }
            }
        }
        return out
    }

    /// The mean of each window over kH·kW positions, padding counted as zeros (PyTorch's
    /// `count_include_pad=True`).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func averagePool<T: TensorScalar>(_ x: [T], _ g: PoolingGeometry) -> [T] {
        let scale = 1 / T(g.kernel.height * g.kernel.width)
        var out = [T](repeating: 0, count: g.planes * g.outPixels)
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                guard let xp = px.baseAddress, let op = po.baseAddress else { return }
                forEachPlaneRange(g) { planes in
                    for plane in planes {
                        let base = xp + plane * g.inPixels
                        var o = plane * g.outPixels
                        for oh in 0..<g.outHeight {
                            let rows = g.rows(oh)
                            for ow in 0..<g.outWidth {
                                let columns = g.columns(ow)
                                var total: T = 0
                                for r in rows { for c in columns { total += base[r * g.width + c] } }
                                op[o] = total * scale
                                o += 1
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The adjoint of `averagePool`: each ȳ[o]/(kH·kW) added to every input of its window.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func averagePoolTransposed<T: TensorScalar>(_ gy: [T], _ g: PoolingGeometry) -> [T] {
        let scale = 1 / T(g.kernel.height * g.kernel.width)
        var out = [T](repeating: 0, count: g.planes * g.inPixels)
        gy.withUnsafeBufferPointer { pg in
            out.withUnsafeMutableBufferPointer { po in
                guard let gp = pg.baseAddress, let op = po.baseAddress else { return }
                forEachPlaneRange(g) { planes in
                    for plane in planes {
                        let base = op + plane * g.inPixels
                        var o = plane * g.outPixels
                        for oh in 0..<g.outHeight {
                            let rows = g.rows(oh)
                            for ow in 0..<g.outWidth {
                                let columns = g.columns(ow)
                                let v = gp[o] * scale
                                for r in rows { for c in columns { base[r * g.width + c] += v } }
                                o += 1
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
