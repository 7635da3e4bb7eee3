import BackpropKernels

// Convolutional layers on NCHW batches, named and shaped as PyTorch's modules.

/// A 2-D convolution (PyTorch `nn.Conv2d`): x [N, C, H, W] → [N, O, H′, W′].
///
/// `weight` is [O, C/groups, kh, kw] and `bias` [O] (absent with `bias: false`); see
/// `Tensor.conv2d` for the map and its derivatives. The default initialisation is PyTorch's:
/// weight and bias ~ U(−1/√fan_in, 1/√fan_in) with fan_in = (C/groups)·kh·kw.
///
///     var rng = SeededGenerator(seed: 0)
///     let conv = Conv2d<Float>(inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1, generator: &rng)
///     let y = conv(x)   // [N, 16, H, W]
public struct Conv2d<Scalar: TensorScalar>: Layer {
    /// W, [out, in/groups, kh, kw].
    public var weight: Tensor<Scalar>
    /// b, [out], or nil.
    public var bias: Tensor<Scalar>?
    /// The step between windows, the zeros added on each side, and the spacing of the kernel's taps
    /// (defaults 1, 0, 1), as (height, width).
    public let stride: Size2D, padding: Size2D, dilation: Size2D
    /// The number of channel groups (default 1): each group of C/groups input channels gives
    /// O/groups outputs.
    public let groups: Int

    /// A layer with the given weight [out, in/groups, kh, kw] and bias [out].
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?, stride: Size2D = 1, padding: Size2D = 0,
                dilation: Size2D = 1, groups: Int = 1) {
        require(weight.rank == 4 && groups >= 1 && weight.shape[0] % groups == 0,
                "Conv2d: weight \(weight.shape) must be [out, in/groups, kh, kw] with out divisible by groups \(groups)")
        if let bias { require(bias.shape == [weight.shape[0]], "Conv2d: bias \(bias.shape) does not fit weight \(weight.shape)") }
        self.weight = weight
        self.bias = bias
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    /// A freshly initialised layer (weight first, then bias, from `generator`).
    public init(inChannels: Int, outChannels: Int, kernelSize: Size2D, stride: Size2D = 1, padding: Size2D = 0,
                dilation: Size2D = 1, groups: Int = 1, bias: Bool = true, generator: inout SeededGenerator) {
        require(inChannels > 0 && outChannels > 0 && groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                "Conv2d: \(inChannels) → \(outChannels) channels must be positive and divisible by groups \(groups)")
        require(kernelSize.height > 0 && kernelSize.width > 0, "Conv2d: kernel size \(kernelSize) must be positive")
        let fanIn = inChannels / groups * kernelSize.height * kernelSize.width
        let bound = Scalar(1 / Double(fanIn).squareRoot())
        let w = Tensor<Scalar>.randomUniform([outChannels, inChannels / groups, kernelSize.height, kernelSize.width],
                                             lower: -bound, upper: bound, generator: &generator)
        let b: Tensor<Scalar>? = bias ? .randomUniform([outChannels], lower: -bound, upper: bound, generator: &generator) : nil
        self.init(weight: w, bias: b, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    /// C, the number of input channels.
    public var inChannels: Int { weight.shape[1] * groups }
    /// O, the number of output channels.
    public var outChannels: Int { weight.shape[0] }
    /// (kh, kw), the kernel's size.
    public var kernelSize: Size2D { Size2D(weight.shape[2], weight.shape[3]) }

    /// Declares `weight` and then `bias` (when present) as parameters.
    public mutating func visitTensors(with visitor: inout some TensorVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
        if var b = bias {
            visitor.parameter("bias", &b)
            bias = b
        }
    }

    /// y[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, c] (a cross-correlation, within the channel group of o):
    /// x [N, C, H, W] → [N, O, H′, W′] with H′ = ⌊(H + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1
    /// (W′ likewise).
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        .conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// Max pooling (PyTorch `nn.MaxPool2d`): the largest value of each window; `stride` defaults
/// to the kernel size. See `Tensor.maxPool2d`.
public struct MaxPool2d<Scalar: TensorScalar>: ParameterlessLayer {
    /// The window's size, the step between windows and the padding (with −∞, so it never wins) on
    /// each side, as (height, width).
    public let kernelSize: Size2D, stride: Size2D, padding: Size2D

    /// Windows of `kernelSize`, moved by `stride` (default: the kernel size), over x padded by
    /// `padding` (default 0, at most half the kernel) on each side.
    public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// The maximum of each window: [N, C, H, W] → [N, C, H′, W′], H′ = ⌊(H + 2·padding − kh)/stride⌋ + 1
    /// (W′ likewise).
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        x.maxPool2d(kernel: kernelSize, stride: stride, padding: padding)
    }
}

/// Average pooling (PyTorch `nn.AvgPool2d`, padding counted as zeros); `stride` defaults to the
/// kernel size. See `Tensor.avgPool2d`.
public struct AvgPool2d<Scalar: TensorScalar>: ParameterlessLayer {
    /// The window's size, the step between windows and the zero padding on each side, as (height,
    /// width).
    public let kernelSize: Size2D, stride: Size2D, padding: Size2D

    /// Windows of `kernelSize`, moved by `stride` (default: the kernel size), over x padded with
    /// zeros by `padding` (default 0, at most half the kernel) on each side.
    public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// The mean of each window (padding included in the count): [N, C, H, W] → [N, C, H′, W′],
    /// H′ = ⌊(H + 2·padding − kh)/stride⌋ + 1 (W′ likewise).
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        x.avgPool2d(kernel: kernelSize, stride: stride, padding: padding)
    }
}

/// The mean of each channel (PyTorch `nn.AdaptiveAvgPool2d(1)`): [N, C, H, W] → [N, C, 1, 1].
/// Follow it with `Flatten` for [N, C], as in PyTorch.
public struct GlobalAvgPool2d<Scalar: TensorScalar>: ParameterlessLayer {
    /// The layer; it has no settings and no tensors.
    public init() {}
    /// y[n, c, 0, 0] = mean over h, w of x[n, c, h, w].
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> { x.globalAvgPool2d() }
}

/// Flattens every axis from `startAxis` on into one (PyTorch `nn.Flatten`, default start 1):
/// [N, C, H, W] → [N, C·H·W].
public struct Flatten<Scalar: TensorScalar>: ParameterlessLayer {
    /// The first axis flattened (default 1, keeping the batch axis).
    public let startAxis: Int

    /// A layer flattening the axes from `startAxis` (default 1) on.
    public init(startAxis: Int = 1) { self.startAxis = startAxis }

    /// x reshaped to its axes before `startAxis` followed by the product of the rest; x itself when
    /// at most one axis remains from `startAxis` on. Stops with a message when `startAxis` is not an
    /// axis of x.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        require(startAxis >= 0 && startAxis < Swift.max(x.rank, 1), "Flatten: start axis \(startAxis) out of range for shape \(x.shape)")
        if x.rank <= startAxis + 1 { return x }
        return x.reshaped(Array(x.shape[..<startAxis]) + [x.shape[startAxis...].reduce(1, *)])
    }
}
