/// Batch and layer normalisation in one pass each way: statistics (accumulated in Double),
/// x̂ = (x − μ)·σ⁻¹ with σ⁻¹ = 1/√(σ² + ε), y = γ x̂ + β, and the fused backward
/// x̄ = σ⁻¹ (ĝ − mean(ĝ) − x̂ · mean(ĝ x̂)) with ĝ = γ ȳ, γ̄ = Σ ȳ x̂, β̄ = Σ ȳ.
///
/// Batch norm sees x as [N, C, L] and normalises each channel c over its N·L values; layer norm
/// sees x as [R, D] and normalises each row over its D values. Channels (rows) split over the
/// threads when the tensor is large; no result depends on the split.
package enum NormalizationKernels {
    package static var parallelThreshold: Int { ElementwiseKernels.parallelThreshold }

    /// The per-channel results of a batch-norm forward pass.
    package struct BatchStatistics<T> {
        package var output: [T]
        /// μ and the biased σ² per channel.
        package var mean: [T], variance: [T]
        /// 1/√(σ² + ε) per channel.
        package var inverseStd: [T]
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func batchForward<T: TensorScalar>(_ x: [T], n: Int, c: Int, l: Int, weight: [T]?, bias: [T]?,
                                              epsilon: T) -> BatchStatistics<T> {
        var y = [T](repeating: 0, count: x.count)
        var mean = [T](repeating: 0, count: c), variance = [T](repeating: 0, count: c), inverse = [T](repeating: 0, count: c)
        let m = Double(n * l)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                mean.withUnsafeMutableBufferPointer { pm in
                    variance.withUnsafeMutableBufferPointer { pv in
                        inverse.withUnsafeMutableBufferPointer { pi in
                            guard let xp = px.baseAddress, let yp = py.baseAddress else { return }
                            forEachRange(c, threads: x.count >= parallelThreshold ? kernelThreadCount : 1, threshold: 2) { channels in
                                for ch in channels {
                                    var sum = 0.0
                                    for b in 0..<n { let s = xp + (b * c + ch) * l; for i in 0..<l { sum += Double(s[i]) } }
                                    let mu = sum / m
                                    var squares = 0.0
                                    for b in 0..<n { let s = xp + (b * c + ch) * l; for i in 0..<l { let d = Double(s[i]) - mu; squares += d * d } }
                                    let v = squares / m
                                    let inv = 1 / (v + Double(epsilon)).squareRoot()
                                    pm[ch] = T(mu); pv[ch] = T(v); pi[ch] = T(inv)
                                    let scale = T(inv) * (weight?[ch] ?? 1), shift = (bias?[ch] ?? 0) - T(mu) * scale
                                    for b in 0..<n {
                                        let s = xp + (b * c + ch) * l, d = yp + (b * c + ch) * l
                                        for i in 0..<l { d[i] = s[i] * scale + shift }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return BatchStatistics(output: y, mean: mean, variance: variance, inverseStd: inverse)
    }

    /// x̄, γ̄ and β̄ of batch norm from ȳ, the input and the forward statistics.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func batchBackward<T: TensorScalar>(_ gy: [T], _ x: [T], n: Int, c: Int, l: Int, mean: [T], inverseStd: [T],
                                               weight: [T]?) -> (input: [T], weight: [T], bias: [T]) {
        var gx = [T](repeating: 0, count: x.count)
        var gw = [T](repeating: 0, count: c), gb = [T](repeating: 0, count: c)
        let m = Double(n * l)
        gy.withUnsafeBufferPointer { pg in
            x.withUnsafeBufferPointer { px in
                gx.withUnsafeMutableBufferPointer { pgx in
                    gw.withUnsafeMutableBufferPointer { pw in
                        gb.withUnsafeMutableBufferPointer { pb in
                            guard let gp = pg.baseAddress, let xp = px.baseAddress, let dp = pgx.baseAddress else { return }
                            forEachRange(c, threads: x.count >= parallelThreshold ? kernelThreadCount : 1, threshold: 2) { channels in
                                for ch in channels {
                                    let mu = Double(mean[ch]), inv = Double(inverseStd[ch])
                                    var sumG = 0.0, sumGX = 0.0
                                    for b in 0..<n {
                                        let s = xp + (b * c + ch) * l, g = gp + (b * c + ch) * l
                                        for i in 0..<l { let gi = Double(g[i]); sumG += gi; sumGX += gi * (Double(s[i]) - mu) * inv }
                                    }
                                    pw[ch] = T(sumGX); pb[ch] = T(sumG)
                                    let gamma = Double(weight?[ch] ?? 1)
                                    let k = gamma * inv, meanG = sumG / m, meanGX = sumGX / m
                                    for b in 0..<n {
                                        let s = xp + (b * c + ch) * l, g = gp + (b * c + ch) * l, d = dp + (b * c + ch) * l
                                        for i in 0..<l {
                                            let xh = (Double(s[i]) - mu) * inv
                                            d[i] = T(k * (Double(g[i]) - meanG - xh * meanGX))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (gx, gw, gb)
    }

    /// Layer norm of each row of x [rows, d]: y, and μ and σ⁻¹ per row.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func layerForward<T: TensorScalar>(_ x: [T], rows: Int, d: Int, weight: [T]?, bias: [T]?,
                                              epsilon: T) -> (output: [T], mean: [T], inverseStd: [T]) {
        var y = [T](repeating: 0, count: x.count)
        var mean = [T](repeating: 0, count: rows), inverse = [T](repeating: 0, count: rows)
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                mean.withUnsafeMutableBufferPointer { pm in
                    inverse.withUnsafeMutableBufferPointer { pi in
                        guard let xp = px.baseAddress, let yp = py.baseAddress else { return }
                        forEachRange(rows, threads: x.count >= parallelThreshold ? kernelThreadCount : 1, threshold: 2) { range in
                            for r in range {
                                let s = xp + r * d, o = yp + r * d
                                var sum = 0.0
                                for i in 0..<d { sum += Double(s[i]) }
                                let mu = sum / Double(d)
                                var squares = 0.0
                                for i in 0..<d { let v = Double(s[i]) - mu; squares += v * v }
                                let inv = 1 / (squares / Double(d) + Double(epsilon)).squareRoot()
                                pm[r] = T(mu); pi[r] = T(inv)
                                let (tm, ti) = (T(mu), T(inv))
                                for i in 0..<d { o[i] = (s[i] - tm) * ti * (weight?[i] ?? 1) + (bias?[i] ?? 0) }
                            }
                        }
                    }
                }
            }
        }
        return (y, mean, inverse)
    }

    /// x̄, γ̄ and β̄ of layer norm.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func layerBackward<T: TensorScalar>(_ gy: [T], _ x: [T], rows: Int, d: Int, mean: [T], inverseStd: [T],
                                               weight: [T]?) -> (input: [T], weight: [T], bias: [T]) {
        var gx = [T](repeating: 0, count: x.count)
        var gw = [Double](repeating: 0, count: d), gb = [Double](repeating: 0, count: d)
        for r in 0..<rows {
            let mu = Double(mean[r]), inv = Double(inverseStd[r])
            var sumG = 0.0, sumGX = 0.0
            for i in 0..<d {
                let g = Double(gy[r * d + i]), xh = (Double(x[r * d + i]) - mu) * inv
                let gg = g * Double(weight?[i] ?? 1)
                sumG += gg; sumGX += gg * xh
                gw[i] += g * xh; gb[i] += g
            }
            let meanG = sumG / Double(d), meanGX = sumGX / Double(d)
            for i in 0..<d {
                let xh = (Double(x[r * d + i]) - mu) * inv
                let gg = Double(gy[r * d + i]) * Double(weight?[i] ?? 1)
                gx[r * d + i] = T(inv * (gg - meanG - xh * meanGX))
            }
        }
        return (gx, gw.map { T($0) }, gb.map { T($0) })
    }
}
