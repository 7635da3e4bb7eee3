import BackpropKernels

// 2-D convolution in NCHW (PyTorch's `conv2d`) and its two adjoints, each a recorded op, so
// every derivative of a convolution is again a convolution-family op and nests (Hessians).

extension Tensor {
    /// The checked geometry of conv2d(x, weight).
    static func convolutionGeometry(_ op: String, input: [Int], weight: [Int], stride: Size2D, padding: Size2D,
                                    dilation: Size2D, groups: Int) -> ConvolutionGeometry {
        require(input.count == 4, "\(op): input must be [N, C, H, W], got shape \(input)")
        require(weight.count == 4, "\(op): weight must be [out, in/groups, kh, kw], got shape \(weight)")
        require(groups >= 1, "\(op): groups must be at least 1, got \(groups)")
        require(stride.height >= 1 && stride.width >= 1 && dilation.height >= 1 && dilation.width >= 1
                    && padding.height >= 0 && padding.width >= 0,
                "\(op): stride \(stride) and dilation \(dilation) must be ≥ 1, padding \(padding) ≥ 0")
        let (c, o) = (input[1], weight[0])
        require(c % groups == 0 && o % groups == 0,
                "\(op): \(groups) groups must divide the input channels \(c) and the output channels \(o)")
        require(weight[1] * groups == c,
                "\(op): weight shape \(weight) takes \(weight[1]) channels per group, input shape \(input) has \(c) channels in \(groups) group(s)")
        require(weight[2] >= 1 && weight[3] >= 1, "\(op): empty kernel in weight shape \(weight)")
        let g = ConvolutionGeometry(batch: input[0], inChannels: c, height: input[2], width: input[3], outChannels: o,
                                    groups: groups, kernel: Size2D(weight[2], weight[3]), stride: stride,
                                    padding: padding, dilation: dilation)
        require(g.outHeight >= 1 && g.outWidth >= 1,
                "\(op): the \(weight[2])×\(weight[3]) kernel (dilation \(dilation)) does not fit the \(input[2])×\(input[3]) input with padding \(padding)")
        return g
    }

    /// y = conv2d(x, W) + b: PyTorch's `torch.nn.functional.conv2d` (a cross-correlation).
    ///
    /// Shapes: x [N, C, H, W]; W [O, C/G, kh, kw] (G = `groups`); b [O]; y [N, O, H′, W′] with
    /// H′ = ⌊(H + 2p_h − d_h(kh − 1) − 1)/s_h⌋ + 1 and W′ likewise (s stride, p zero padding,
    /// d dilation). Output channel o of group γ = ⌊o/(O/G)⌋ reads the input channels of that group:
    ///
    ///     y[n,o,i,j] = b[o] + Σ_{c<C/G} Σ_{u<kh} Σ_{v<kw} W[o,c,u,v] · x[n, γC/G + c, i·s_h − p_h + u·d_h, j·s_w − p_w + v·d_w]
    ///
    /// (x read as 0 outside the image). The map is linear in x and in W, so with Ȳ = ∂L/∂y:
    /// - ∂L/∂x = conv2dTransposed(Ȳ, W): each Ȳ[n,o,i,j]·W[o,c,u,v] added back where x was read —
    ///   for stride 1 the full convolution of Ȳ with the flipped kernel;
    /// - ∂L/∂W = conv2dWeightGradient(x, Ȳ): ∂L/∂W[o,c,u,v] = Σ_{n,i,j} Ȳ[n,o,i,j] · x[n, γC/G + c, i·s_h − p_h + u·d_h, …],
    ///   the correlation of the input with the output gradient;
    /// - ∂L/∂b[o] = Σ_{n,i,j} Ȳ[n,o,i,j].
    /// JVP: ẏ = conv2d(ẋ, W) + conv2d(x, Ẇ) + ḃ.
    ///
    ///     let y = Tensor.conv2d(x, weight: w, bias: b, stride: 2, padding: 1)   // x [N, C, H, W]
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1, padding: Size2D = 0,
                              dilation: Size2D = 1, groups: Int = 1) -> Tensor {
        let g = convolutionGeometry("conv2d", input: x.shape, weight: weight.shape, stride: stride, padding: padding,
                                    dilation: dilation, groups: groups)
        if let bias {
            require(bias.shape == [g.outChannels], "conv2d: bias shape \(bias.shape) does not match the \(g.outChannels) output channels of weight shape \(weight.shape)")
        }
        let value = Tensor(shape: g.outputShape, scalars: ConvolutionKernels.forward(x.scalars, weight.scalars, bias: bias?.scalars, g))
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return recorded("conv2d", value: value, inputs: inputs,
                        pullback: { p in
                            let gy = p.cotangent
                            var result: [Tensor?] = [
                                p.needs[0] ? conv2dTransposed(gy, weight: weight, geometry: g) : nil,   // ∂L/∂x
                                p.needs[1] ? conv2dWeightGradient(x, outputGradient: gy, geometry: g) : nil,   // ∂L/∂W
                            ]
                            if bias != nil { result.append(p.needs[2] ? convolutionBiasGradient(gy) : nil) }   // ∂L/∂b
                            return result
                        },
                        differential: { t, _ in
                            var sum = sumOfTangents(t[0].map { conv2d($0, weight: weight, geometry: g) },
                                                    t[1].map { conv2d(x, weight: $0, geometry: g) })
                            if t.count > 2, let db = t[2] { sum = sumOfTangents(sum, db.reshaped([1, g.outChannels, 1, 1])) }
                            return sum
                        })
    }

    /// conv2d without bias on a known geometry (the derivatives' own forward map).
    static func conv2d(_ x: Tensor, weight: Tensor, geometry g: ConvolutionGeometry) -> Tensor {
        conv2d(x, weight: weight, stride: g.stride, padding: g.padding, dilation: g.dilation, groups: g.groups)
    }

    /// ∂L/∂b of a convolution: Ȳ summed over images and pixels, [O] (a composite of sums).
    static func convolutionBiasGradient(_ gy: Tensor) -> Tensor {
        let s = gy.shape
        if !DifferentiationContext.isRecording {
            return Tensor(shape: [s[1]], scalars: ConvolutionKernels.channelSums(gy.scalars, batch: s[0], channels: s[1], pixels: s[2] * s[3]))
        }
        return gy.reshaped([s[0], s[1], s[2] * s[3]]).sum(alongAxis: 2).sum(alongAxis: 0)
    }

    /// The adjoint of x ↦ conv2d(x, W) applied to Ȳ [N, O, H′, W′], giving [N, C, H, W]:
    /// x̄[n, γC/G + c, i·s_h − p_h + u·d_h, j·s_w − p_w + v·d_w] += Σ_o W[o,c,u,v] Ȳ[n,o,i,j]
    /// (PyTorch's `conv_transpose2d` with the same stride, padding, dilation and groups).
    ///
    /// Bilinear in (Ȳ, W). With Z̄ = ∂L/∂x̄ [N, C, H, W]:
    /// - ∂L/∂Ȳ = conv2d(Z̄, W) (the forward map: ⟨Z̄, Aᵀ Ȳ⟩ = ⟨A Z̄, Ȳ⟩);
    /// - ∂L/∂W = conv2dWeightGradient(Z̄, Ȳ).
    /// JVP: conv2dTransposed(Ȳ̇, W) + conv2dTransposed(Ȳ, Ẇ).
    static func conv2dTransposed(_ gy: Tensor, weight: Tensor, geometry g: ConvolutionGeometry) -> Tensor {
        var g = g
        g.batch = gy.shape[0]
        require(gy.shape == g.outputShape && weight.shape == g.weightShape,
                "conv2dTransposed: gradient shape \(gy.shape) and weight shape \(weight.shape) do not fit the convolution \(g.inputShape) → \(g.outputShape)")
        let value = Tensor(shape: g.inputShape, scalars: ConvolutionKernels.backwardInput(gy.scalars, weight.scalars, g))
        return recorded("conv2dTransposed", value: value, inputs: [gy, weight],
                        pullback: { p in
                            let z = p.cotangent
                            return [p.needs[0] ? conv2d(z, weight: weight, geometry: g) : nil,
                                    p.needs[1] ? conv2dWeightGradient(z, outputGradient: gy, geometry: g) : nil]
                        },
                        differential: { t, _ in
                            sumOfTangents(t[0].map { conv2dTransposed($0, weight: weight, geometry: g) },
                                          t[1].map { conv2dTransposed(gy, weight: $0, geometry: g) })
                        })
    }

    /// The adjoint of W ↦ conv2d(x, W) applied to Ȳ: ∂L/∂W of a convolution, [O, C/G, kh, kw],
    /// W̄[o,c,u,v] = Σ_{n,i,j} Ȳ[n,o,i,j] · x[n, γC/G + c, i·s_h − p_h + u·d_h, j·s_w − p_w + v·d_w]:
    /// the correlation of the input with the output gradient.
    ///
    /// Bilinear in (x, Ȳ). With V̄ = ∂L/∂W̄ [O, C/G, kh, kw]:
    /// - ∂L/∂x = conv2dTransposed(Ȳ, V̄) (⟨V̄, B_x Ȳ⟩ = ⟨conv2d(x, V̄), Ȳ⟩, transposed in x);
    /// - ∂L/∂Ȳ = conv2d(x, V̄).
    /// JVP: conv2dWeightGradient(ẋ, Ȳ) + conv2dWeightGradient(x, Ȳ̇).
    static func conv2dWeightGradient(_ x: Tensor, outputGradient gy: Tensor, geometry g: ConvolutionGeometry) -> Tensor {
        var g = g
        g.batch = x.shape[0]
        require(x.shape == g.inputShape && gy.shape == g.outputShape,
                "conv2dWeightGradient: input shape \(x.shape) and gradient shape \(gy.shape) do not fit the convolution \(g.inputShape) → \(g.outputShape)")
        let value = Tensor(shape: g.weightShape, scalars: ConvolutionKernels.backwardWeight(x.scalars, gy.scalars, g))
        return recorded("conv2dWeightGradient", value: value, inputs: [x, gy],
                        pullback: { p in
                            let v = p.cotangent
                            return [p.needs[0] ? conv2dTransposed(gy, weight: v, geometry: g) : nil,
                                    p.needs[1] ? conv2d(x, weight: v, geometry: g) : nil]
                        },
                        differential: { t, _ in
                            sumOfTangents(t[0].map { conv2dWeightGradient($0, outputGradient: gy, geometry: g) },
                                          t[1].map { conv2dWeightGradient(x, outputGradient: $0, geometry: g) })
                        })
    }

    /// ∂L/∂x of conv2d(x, W) for Ȳ = ∂L/∂y (PyTorch's `conv_transpose2d` of Ȳ with W, plus the
    /// rows or columns of x that no window reached): the input-gradient fast path as a public op.
    public static func conv2dInputGradient(_ gy: Tensor, weight: Tensor, inputShape: [Int], stride: Size2D = 1,
                                           padding: Size2D = 0, dilation: Size2D = 1, groups: Int = 1) -> Tensor {
        let g = convolutionGeometry("conv2dInputGradient", input: inputShape, weight: weight.shape, stride: stride,
                                    padding: padding, dilation: dilation, groups: groups)
        return conv2dTransposed(gy, weight: weight, geometry: g)
    }

    /// ∂L/∂W of conv2d(x, W) for Ȳ = ∂L/∂y, [O, C/G, kh, kw]: the weight-gradient fast path as
    /// a public op.
    public static func conv2dWeightGradient(_ x: Tensor, outputGradient gy: Tensor, kernel: Size2D, stride: Size2D = 1,
                                            padding: Size2D = 0, dilation: Size2D = 1, groups: Int = 1) -> Tensor {
        require(gy.rank == 4, "conv2dWeightGradient: output gradient must be [N, O, H′, W′], got shape \(gy.shape)")
        let weightShape = [gy.shape[1], x.rank == 4 ? x.shape[1] / Swift.max(groups, 1) : 0, kernel.height, kernel.width]
        let g = convolutionGeometry("conv2dWeightGradient", input: x.shape, weight: weightShape, stride: stride,
                                    padding: padding, dilation: dilation, groups: groups)
        return conv2dWeightGradient(x, outputGradient: gy, geometry: g)
    }
}
