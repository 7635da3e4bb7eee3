import BackpropKernels

// Batch and layer normalisation: forward, VJP and JVP side by side. The VJPs run the fused
// kernels when the backward pass is not itself recorded, and otherwise the same formulas
// composed of differentiable ops (so second derivatives work).

extension Tensor {
    /// Batch normalisation with batch statistics (PyTorch's `batch_norm` in training mode).
    ///
    /// x is [N, C] or [N, C, …]; each channel c is normalised over its M = N·(product of the
    /// trailing extents) values:
    ///
    ///     μ_c = (1/M) Σ x,   σ²_c = (1/M) Σ (x − μ_c)²   (biased),   x̂ = (x − μ_c)/√(σ²_c + ε),
    ///     y = γ_c x̂ + β_c
    ///
    /// (`weight` γ and `bias` β are [C], both given or both nil: γ = 1, β = 0). Returns y and,
    /// as constants, μ and the biased σ² ([C]) for updating running statistics.
    ///
    /// Every x̂ depends on every x of its channel through μ and σ. With Ȳ = ∂L/∂y and ĝ = γ_c Ȳ,
    /// means over the channel's M values:
    /// - ∂L/∂x = (1/√(σ²_c + ε)) · (ĝ − mean(ĝ) − x̂ · mean(ĝ x̂));
    /// - ∂L/∂γ_c = Σ Ȳ x̂,  ∂L/∂β_c = Σ Ȳ.
    /// JVP: ẏ = γ_c · (1/√(σ²_c + ε)) · (ẋ − mean(ẋ) − x̂ · mean(ẋ x̂)) + γ̇_c x̂ + β̇_c.
    public static func batchNormalization(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil,
                                          epsilon: Scalar = 1e-5) -> (output: Tensor, mean: Tensor, variance: Tensor) {
        require(x.rank >= 2, "batchNormalization: input must be [N, C] or [N, C, …], got shape \(x.shape)")
        let n = x.shape[0], c = x.shape[1], l = x.shape[2...].reduce(1, *)
        require(n * l > 1, "batchNormalization: needs more than one value per channel, got input shape \(x.shape)")
        require((weight == nil) == (bias == nil), "batchNormalization: weight and bias must be given together")
        if let weight, let bias {
            require(weight.shape == [c] && bias.shape == [c],
                    "batchNormalization: weight \(weight.shape) and bias \(bias.shape) must be [\(c)] for input shape \(x.shape)")
        }
        let stats = NormalizationKernels.batchForward(x.scalars, n: n, c: c, l: l, weight: weight?.scalars, bias: bias?.scalars,
                                                      epsilon: epsilon)
        let value = Tensor(shape: x.shape, scalars: stats.output)
        let view = [n, c, l], perChannel = [1, c, 1], shape = x.shape
        let inputs = [x] + (weight.map { [$0, bias!] } ?? [])
        // The channel mean of a [N, C, L] tensor, as [1, C, 1].
        func channelMean(_ t: Tensor) -> Tensor {
            t.sum(alongAxis: 2, keepingDimension: true).sum(alongAxis: 0, keepingDimension: true) / Scalar(n * l)
        }
        // x̂ and 1/√(σ² + ε) composed of differentiable ops on x (tracked when x is).
        func standardized() -> (Tensor, Tensor) {
            let x3 = x.reshaped(view)
            let centered = x3 - channelMean(x3)
            let inverse = 1 / (channelMean(centered * centered) + epsilon).sqrt()
            return (centered * inverse, inverse)
        }
        let output = recorded("batchNormalization", value: value, inputs: inputs,
                              pullback: { p in
                                  if PullbackInput<Scalar>.mayFuse {
                                      let g = NormalizationKernels.batchBackward(p.cotangent.scalars, x.scalars, n: n, c: c, l: l,
                                                                                 mean: stats.mean, inverseStd: stats.inverseStd,
                                                                                 weight: weight?.scalars)
                                      let dx = p.needs[0] ? Tensor(shape: shape, scalars: g.input) : nil
                                      guard weight != nil else { return [dx] }
                                      return [dx, p.needs[1] ? Tensor(shape: [c], scalars: g.weight) : nil,
                                              p.needs[2] ? Tensor(shape: [c], scalars: g.bias) : nil]
                                  }
                                  let g3 = p.cotangent.reshaped(view)
                                  let (xh, inverse) = standardized()
                                  let gh = weight.map { g3 * $0.reshaped(perChannel) } ?? g3
                                  let dx = inverse * (gh - channelMean(gh) - xh * channelMean(gh * xh))
                                  let sums = { (t: Tensor) in t.sum(alongAxis: 2).sum(alongAxis: 0) }
                                  guard weight != nil else { return [dx.reshaped(shape)] }
                                  return [p.needs[0] ? dx.reshaped(shape) : nil, p.needs[1] ? sums(g3 * xh) : nil,
                                          p.needs[2] ? sums(g3) : nil]
                              },
                              differential: { t, _ in
                                  let (xh, inverse) = standardized()
                                  var sum: Tensor? = t[0].map { dx in
                                      let d3 = dx.reshaped(view)
                                      let dxh = inverse * (d3 - channelMean(d3) - xh * channelMean(d3 * xh))
                                      return weight.map { dxh * $0.reshaped(perChannel) } ?? dxh
                                  }
                                  if t.count > 1 {
                                      sum = sumOfTangents(sum, t[1].map { xh * $0.reshaped(perChannel) })
                                      sum = sumOfTangents(sum, t[2].map { $0.reshaped(perChannel) })
                                  }
                                  return sum.map { $0.broadcast(to: view).reshaped(shape) }
                              })
        return (output, Tensor(shape: [c], scalars: stats.mean), Tensor(shape: [c], scalars: stats.variance))
    }

    /// Layer normalisation over the trailing axes (PyTorch's `layer_norm`): x is [..., D₁, …, D_k]
    /// with `normalizedShape` = [D₁, …, D_k]; each of the R leading positions is normalised over
    /// its D = D₁⋯D_k values,
    ///
    ///     μ = (1/D) Σ x,   σ² = (1/D) Σ (x − μ)²,   x̂ = (x − μ)/√(σ² + ε),   y = γ ⊙ x̂ + β
    ///
    /// with `weight` γ and `bias` β of `normalizedShape` (both given or both nil).
    ///
    /// With Ȳ = ∂L/∂y and ĝ = γ ⊙ Ȳ, means over each row's D values:
    /// - ∂L/∂x = (1/√(σ² + ε)) · (ĝ − mean(ĝ) − x̂ · mean(ĝ x̂));
    /// - ∂L/∂γ = Σ_rows Ȳ ⊙ x̂,  ∂L/∂β = Σ_rows Ȳ.
    /// JVP: ẏ = γ ⊙ (1/√(σ² + ε)) · (ẋ − mean(ẋ) − x̂ · mean(ẋ x̂)) + γ̇ ⊙ x̂ + β̇.
    public static func layerNormalization(_ x: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                                          epsilon: Scalar = 1e-5) -> Tensor {
        let k = normalizedShape.count
        require(k >= 1 && x.rank >= k && Array(x.shape.suffix(k)) == normalizedShape,
                "layerNormalization: normalized shape \(normalizedShape) is not the trailing shape of input \(x.shape)")
        require((weight == nil) == (bias == nil), "layerNormalization: weight and bias must be given together")
        if let weight, let bias {
            require(weight.shape == normalizedShape && bias.shape == normalizedShape,
                    "layerNormalization: weight \(weight.shape) and bias \(bias.shape) must be \(normalizedShape)")
        }
        let d = normalizedShape.reduce(1, *), rows = x.count / Swift.max(d, 1)
        require(d >= 1, "layerNormalization: empty normalized shape \(normalizedShape)")
        let forward = NormalizationKernels.layerForward(x.scalars, rows: rows, d: d, weight: weight?.scalars, bias: bias?.scalars,
                                                        epsilon: epsilon)
        let value = Tensor(shape: x.shape, scalars: forward.output)
        let view = [rows, d], shape = x.shape
        let inputs = [x] + (weight.map { [$0, bias!] } ?? [])
        func rowMean(_ t: Tensor) -> Tensor { t.mean(alongAxis: 1, keepingDimension: true) }
        func standardized() -> (Tensor, Tensor) {
            let x2 = x.reshaped(view)
            let centered = x2 - rowMean(x2)
            let inverse = 1 / (rowMean(centered * centered) + epsilon).sqrt()
            return (centered * inverse, inverse)
        }
        return recorded("layerNormalization", value: value, inputs: inputs,
                        pullback: { p in
                            if PullbackInput<Scalar>.mayFuse {
                                let g = NormalizationKernels.layerBackward(p.cotangent.scalars, x.scalars, rows: rows, d: d,
                                                                           mean: forward.mean, inverseStd: forward.inverseStd,
                                                                           weight: weight?.scalars)
                                let dx = p.needs[0] ? Tensor(shape: shape, scalars: g.input) : nil
                                guard weight != nil else { return [dx] }
                                return [dx, p.needs[1] ? Tensor(shape: normalizedShape, scalars: g.weight) : nil,
                                        p.needs[2] ? Tensor(shape: normalizedShape, scalars: g.bias) : nil]
                            }
                            let g2 = p.cotangent.reshaped(view)
                            let (xh, inverse) = standardized()
                            let gh = weight.map { g2 * $0.reshaped([1, d]) } ?? g2
                            let dx = (inverse * (gh - rowMean(gh) - xh * rowMean(gh * xh))).reshaped(shape)
                            guard weight != nil else { return [dx] }
                            return [p.needs[0] ? dx : nil, p.needs[1] ? (g2 * xh).sum(alongAxis: 0).reshaped(normalizedShape) : nil,
                                    p.needs[2] ? g2.sum(alongAxis: 0).reshaped(normalizedShape) : nil]
                        },
                        differential: { t, _ in
                            let (xh, inverse) = standardized()
                            var sum: Tensor? = t[0].map { dx in
                                let d2 = dx.reshaped(view)
                                let dxh = inverse * (d2 - rowMean(d2) - xh * rowMean(d2 * xh))
                                return weight.map { dxh * $0.reshaped([1, d]) } ?? dxh
                            }
                            if t.count > 1 {
                                sum = sumOfTangents(sum, t[1].map { xh * $0.reshaped([1, d]) })
                                sum = sumOfTangents(sum, t[2].map { $0.reshaped([1, d]) })
                            }
                            return sum.map { $0.broadcast(to: view).reshaped(shape) }
                        })
    }
}
