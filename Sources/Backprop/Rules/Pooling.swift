import BackpropKernels

// Pooling over the spatial axes of NCHW tensors: maximum, average and global average.
// Max pooling is a gather at the windows' arg-max positions (held constant), average pooling a
// fixed linear map; each derivative is the adjoint movement, itself a recorded op.

extension Tensor {
    /// The checked window geometry of a pooling of this [N, C, H, W] tensor.
    func poolingGeometry(_ op: String, kernel: Size2D, stride: Size2D?, padding: Size2D) -> PoolingGeometry {
        require(rank == 4, "\(op): input must be [N, C, H, W], got shape \(shape)")
        let stride = stride ?? kernel
        require(kernel.height >= 1 && kernel.width >= 1 && stride.height >= 1 && stride.width >= 1,
                "\(op): kernel \(kernel) and stride \(stride) must be at least 1")
        require(padding.height >= 0 && padding.width >= 0 && 2 * padding.height <= kernel.height && 2 * padding.width <= kernel.width,
                "\(op): padding \(padding) must be at most half the kernel \(kernel)")
        let g = PoolingGeometry(planes: shape[0] * shape[1], height: shape[2], width: shape[3],
                                kernel: kernel, stride: stride, padding: padding)
        require(g.outHeight >= 1 && g.outWidth >= 1,
                "\(op): the \(kernel) window does not fit the \(shape[2])×\(shape[3]) input with padding \(padding)")
        return g
    }

    /// Max pooling (PyTorch's `max_pool2d`): y[n,c,i,j] = max of x[n,c] over the window of rows
    /// i·s_h − p_h ..< i·s_h − p_h + k_h and columns likewise (padding never wins). `stride`
    /// defaults to the kernel. Shapes [N, C, H, W] → [N, C, H′, W′], H′ = ⌊(H + 2p_h − k_h)/s_h⌋ + 1.
    ///
    /// With a* the flat index of each window's first maximum (a constant), y = x[a*]: a gather.
    /// VJP: x̄ = Ȳ scattered (added) onto the positions a* — the only input of a window that
    /// moves its maximum. JVP: ẏ = ẋ[a*]. (At ties the derivative goes to the first maximum, a
    /// subgradient, as PyTorch.)
    public func maxPool2d(kernel: Size2D, stride: Size2D? = nil, padding: Size2D = 0) -> Tensor {
        let g = poolingGeometry("maxPool2d", kernel: kernel, stride: stride, padding: padding)
        let outShape = [shape[0], shape[1], g.outHeight, g.outWidth]
        let (values, indices) = PoolingKernels.maxPool(scalars, g)
        return Tensor.gathering(self, at: indices, geometry: g, outShape: outShape, value: values, op: "maxPool2d")
    }

    /// y = x[indices] (flat), the forward of max pooling; `value` when the caller has it already.
    static func gathering(_ x: Tensor, at indices: [Int32], geometry g: PoolingGeometry, outShape: [Int],
                          value: [Scalar]? = nil, op: String = "gather") -> Tensor {
        let y = Tensor(shape: outShape, scalars: value ?? PoolingKernels.gather(x.scalars, indices))
        let inShape = x.shape
        return recorded(op, value: y, inputs: [x],
                        pullback: { p in [scattering(p.cotangent, at: indices, geometry: g, inShape: inShape)] },
                        differential: { t, _ in t[0].map { gathering($0, at: indices, geometry: g, outShape: outShape) } })
    }

    /// The adjoint of `gathering`: zeros of `inShape` with Ȳ[o] added at indices[o].
    /// VJP: the gather at the same indices. JVP: the scatter of the tangent.
    static func scattering(_ gy: Tensor, at indices: [Int32], geometry g: PoolingGeometry, inShape: [Int]) -> Tensor {
        let value = Tensor(shape: inShape, scalars: PoolingKernels.scatterAdd(gy.scalars, indices, g))
        let outShape = gy.shape
        return recorded("scatter", value: value, inputs: [gy],
                        pullback: { p in [gathering(p.cotangent, at: indices, geometry: g, outShape: outShape)] },
                        differential: { t, _ in t[0].map { scattering($0, at: indices, geometry: g, inShape: inShape) } })
    }

    /// Average pooling (PyTorch's `avg_pool2d` with `count_include_pad=True`): the mean of each
    /// k_h×k_w window, padding counted as zeros. `stride` defaults to the kernel.
    ///
    /// A fixed linear map A: y = A x with A[o, i] = 1/(k_h k_w) for each input i of window o.
    /// VJP: x̄ = Aᵀ Ȳ, each Ȳ[o]/(k_h k_w) added to every input of its window. JVP: ẏ = A ẋ.
    public func avgPool2d(kernel: Size2D, stride: Size2D? = nil, padding: Size2D = 0) -> Tensor {
        let g = poolingGeometry("avgPool2d", kernel: kernel, stride: stride, padding: padding)
        return Tensor.averagePooling(self, geometry: g)
    }

    static func averagePooling(_ x: Tensor, geometry g: PoolingGeometry) -> Tensor {
        let outShape = [x.shape[0], x.shape[1], g.outHeight, g.outWidth]
        let inShape = x.shape
        let value = Tensor(shape: outShape, scalars: PoolingKernels.averagePool(x.scalars, g))
        return recorded("avgPool2d", value: value, inputs: [x],
                        pullback: { p in [averagePoolingTransposed(p.cotangent, geometry: g, inShape: inShape)] },
                        differential: { t, _ in t[0].map { averagePooling($0, geometry: g) } })
    }

    /// Aᵀ Ȳ of average pooling. VJP: A (the pooling). JVP: Aᵀ of the tangent.
    static func averagePoolingTransposed(_ gy: Tensor, geometry g: PoolingGeometry, inShape: [Int]) -> Tensor {
        let value = Tensor(shape: inShape, scalars: PoolingKernels.averagePoolTransposed(gy.scalars, g))
        return recorded("avgPool2dTransposed", value: value, inputs: [gy],
                        pullback: { p in [averagePooling(p.cotangent, geometry: g)] },
                        differential: { t, _ in t[0].map { averagePoolingTransposed($0, geometry: g, inShape: inShape) } })
    }

    /// Global average pooling (PyTorch's `adaptive_avg_pool2d(x, 1)`): [N, C, H, W] → [N, C, 1, 1],
    /// y[n,c] = (1/HW) Σ_{i,j} x[n,c,i,j]. A composite of reshape and mean, so its VJP spreads
    /// Ȳ[n,c]/(HW) over the plane and its JVP is the mean of ẋ.
    public func globalAvgPool2d() -> Tensor {
        require(rank == 4, "globalAvgPool2d: input must be [N, C, H, W], got shape \(shape)")
        let (n, c) = (shape[0], shape[1])
        return reshaped([n, c, shape[2] * shape[3]]).mean(alongAxis: 2).reshaped([n, c, 1, 1])
    }
}
