/// The windows of a 2-D pooling over NCHW planes: window (oh, ow) covers input rows
/// oh·sH − pH ..< oh·sH − pH + kH and columns likewise, clipped to the image (padding
/// positions take no part: −∞ for the maximum, 0 for the sum).
struct PoolingGeometry: Equatable, Sendable {
    /// N·C planes of height × width.
    var planes: Int, height: Int, width: Int
    var kernel: Size2D, stride: Size2D, padding: Size2D

    var outHeight: Int { (height + 2 * padding.height - kernel.height) / stride.height + 1 }
    var outWidth: Int { (width + 2 * padding.width - kernel.width) / stride.width + 1 }
    var inPixels: Int { height * width }
    var outPixels: Int { outHeight * outWidth }

    /// The input rows of output row oh (or columns of output column ow), clipped.
    @inline(__always)
    func rows(_ oh: Int) -> Range<Int> {
        let start = oh * stride.height - padding.height
        return Swift.max(start, 0)..<Swift.min(start + kernel.height, height)
    }

    @inline(__always)
    func columns(_ ow: Int) -> Range<Int> {
        let start = ow * stride.width - padding.width
        return Swift.max(start, 0)..<Swift.min(start + kernel.width, width)
    }
}

/// Max pooling (values and the flat input index of each window's first maximum), the gather
/// and scatter-add by those indices that are its derivatives, and average pooling with its
/// adjoint. Planes are split over the threads when the input is large; no result depends on
/// the split.
enum PoolingKernels {
    static var parallelThreshold: Int { ElementwiseKernels.parallelThreshold }

    @inline(__always)
    static func forEachPlaneRange(_ g: PoolingGeometry, _ body: (Range<Int>) -> Void) {
        forEachRange(g.planes, threads: g.planes * g.inPixels >= parallelThreshold ? threadCount : 1, threshold: 2, body)
    }

    /// The maximum of each window and the flat index into x of its first occurrence (row-major
    /// within the window). A NaN in a window makes its maximum NaN.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func maxPool<T: TensorScalar>(_ x: [T], _ g: PoolingGeometry) -> (values: [T], indices: [Int32]) {
        let count = g.planes * g.outPixels
        var values = [T](repeating: 0, count: count)
        var indices = [Int32](repeating: 0, count: count)
        x.withUnsafeBufferPointer { px in
            values.withUnsafeMutableBufferPointer { pv in
                indices.withUnsafeMutableBufferPointer { pi in
                    guard let xp = px.baseAddress, let vp = pv.baseAddress, let ip = pi.baseAddress else { return }
                    forEachPlaneRange(g) { planes in
                        for plane in planes {
                            let base = plane * g.inPixels
                            var o = plane * g.outPixels
                            for oh in 0..<g.outHeight {
                                let rows = g.rows(oh)
                                for ow in 0..<g.outWidth {
                                    let columns = g.columns(ow)
                                    var best = -T.infinity, bestIndex = base + rows.lowerBound * g.width + columns.lowerBound
                                    search: for r in rows {
                                        for c in columns {
                                            let i = base + r * g.width + c
                                            let v = xp[i]
                                            if v > best { best = v; bestIndex = i }
                                            if v.isNaN { best = v; bestIndex = i; break search }
                                        }
                                    }
                                    vp[o] = best
                                    ip[o] = Int32(truncatingIfNeeded: bestIndex)
                                    o += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return (values, indices)
    }

    /// y[o] = x[indices[o]].
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func gather<T: TensorScalar>(_ x: [T], _ indices: [Int32]) -> [T] {
        x.withUnsafeBufferPointer { px in
            indices.map { px[Int($0)] }
        }
    }

    /// x̄ of `count` zeros plus ȳ[o] added at indices[o]: the adjoint of `gather`. Each plane's
    /// indices stay in the plane, so planes split over the threads.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func scatterAdd<T: TensorScalar>(_ gy: [T], _ indices: [Int32], _ g: PoolingGeometry) -> [T] {
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
    static func averagePool<T: TensorScalar>(_ x: [T], _ g: PoolingGeometry) -> [T] {
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
    static func averagePoolTransposed<T: TensorScalar>(_ gy: [T], _ g: PoolingGeometry) -> [T] {
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
