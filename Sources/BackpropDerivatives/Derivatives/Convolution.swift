// Derivatives of the convolution ops (Rules/Convolution.swift), routed to the library's rules:
// conv2d with a VJP and a JVP per subset of (x, W, b) a model differentiates (a first layer's
// input is a constant, so ∂L/∂x — one more transposed convolution — is skipped), and the two
// adjoint ops, bilinear in their operands.

import Backprop
import _Differentiation

extension Tensor {
    // MARK: conv2d(_:weight:bias:…) with the library's optional bias

    /// The library's conv2d on `p` = [x, W] or [x, W, b] (b present exactly when `p` has three).
    static func conv2d(_ p: [Tensor], _ stride: Size2D, _ padding: Size2D, _ dilation: Size2D, _ groups: Int) -> Tensor {
        conv2d(p[0], weight: p[1], bias: p.count > 2 ? Optional(p[2]) : nil, stride: stride, padding: padding,
               dilation: dilation, groups: groups)
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: (x, weight, bias))
    public static func _vjpConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D,
                                  dilation: Size2D, groups: Int)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Optional<Tensor>.TangentVector)) {
        let (value, pullback) = LibraryRule.vjp([x, weight] + (bias.map { [$0] } ?? [])) {
            conv2d($0, stride, padding, dilation, groups)
        }
        return (value, { let g = pullback($0); return (g[0], g[1], .init(g.count > 2 ? g[2] : nil)) })
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: (weight, bias))
    public static func _vjpConv2dParameters(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D,
                                            dilation: Size2D, groups: Int)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Optional<Tensor>.TangentVector)) {
        let (value, pullback) = LibraryRule.vjp([weight] + (bias.map { [$0] } ?? [])) {
            conv2d([x] + $0, stride, padding, dilation, groups)
        }
        return (value, { let g = pullback($0); return (g[0], .init(g.count > 1 ? g[1] : nil)) })
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: (x, weight))
    public static func _vjpConv2dInputAndWeight(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D,
                                                dilation: Size2D, groups: Int)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(x, weight) {
            conv2d($0, weight: $1, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: x)
    public static func _vjpConv2dInput(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D,
                                       dilation: Size2D, groups: Int)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(x) { conv2d($0, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups) }
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: (x, weight, bias))
    public static func _jvpConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D,
                                  dilation: Size2D, groups: Int)
        -> (value: Tensor, differential: (Tensor, Tensor, Optional<Tensor>.TangentVector) -> Tensor) {
        let (value, differential) = LibraryRule.jvp([x, weight] + (bias.map { [$0] } ?? [])) {
            conv2d($0, stride, padding, dilation, groups)
        }
        return (value, { dx, dw, db in differential([dx, dw] + (bias == nil ? [] : [db.value ?? .zero])) })
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: (weight, bias))
    public static func _jvpConv2dParameters(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D,
                                            dilation: Size2D, groups: Int)
        -> (value: Tensor, differential: (Tensor, Optional<Tensor>.TangentVector) -> Tensor) {
        let (value, differential) = LibraryRule.jvp([weight] + (bias.map { [$0] } ?? [])) {
            conv2d([x] + $0, stride, padding, dilation, groups)
        }
        return (value, { dw, db in differential([dw] + (bias == nil ? [] : [db.value ?? .zero])) })
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: (x, weight))
    public static func _jvpConv2dInputAndWeight(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D,
                                                dilation: Size2D, groups: Int)
        -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(x, weight) {
            conv2d($0, weight: $1, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: x)
    public static func _jvpConv2dInput(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D,
                                       dilation: Size2D, groups: Int)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(x) { conv2d($0, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups) }
    }

    // MARK: conv2d(_:weight:bias:…) with a bias that is always there

    /// y = conv2d(x, W) + b with a bias that is not optional: the library's `conv2d`, for
    /// differentiable code. Shapes: x [N, C, H, W], W [O, C/groups, kh, kw], b [O] → y [N, O, H′, W′]
    /// (see the library's `conv2d` for the map and its derivatives). Calls with a non-optional
    /// bias resolve here and their derivatives skip the `Optional` tangent, the form an
    /// optimised build of a `@differentiable` caller needs (as `affine`'s; see the article's
    /// known limits).
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor, stride: Size2D = 1, padding: Size2D = 0,
                              dilation: Size2D = 1, groups: Int = 1) -> Tensor {
        conv2d(x, weight: weight, bias: Optional(bias), stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: (x, weight, bias))
    public static func _vjpConv2dWithBias(_ x: Tensor, weight: Tensor, bias: Tensor, stride: Size2D, padding: Size2D,
                                          dilation: Size2D, groups: Int)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor, Tensor)) {
        let (value, pullback) = LibraryRule.vjp([x, weight, bias]) { conv2d($0, stride, padding, dilation, groups) }
        return (value, { let g = pullback($0); return (g[0], g[1], g[2]) })
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: (weight, bias))
    public static func _vjpConv2dWithBiasParameters(_ x: Tensor, weight: Tensor, bias: Tensor, stride: Size2D, padding: Size2D,
                                                    dilation: Size2D, groups: Int)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(weight, bias) { conv2d([x, $0, $1], stride, padding, dilation, groups) }
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: x)
    public static func _vjpConv2dWithBiasInput(_ x: Tensor, weight: Tensor, bias: Tensor, stride: Size2D, padding: Size2D,
                                               dilation: Size2D, groups: Int)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(x) { conv2d([$0, weight, bias], stride, padding, dilation, groups) }
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: (x, weight, bias))
    public static func _jvpConv2dWithBias(_ x: Tensor, weight: Tensor, bias: Tensor, stride: Size2D, padding: Size2D,
                                          dilation: Size2D, groups: Int)
        -> (value: Tensor, differential: (Tensor, Tensor, Tensor) -> Tensor) {
        let (value, differential) = LibraryRule.jvp([x, weight, bias]) { conv2d($0, stride, padding, dilation, groups) }
        return (value, { differential([$0, $1, $2]) })
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: (weight, bias))
    public static func _jvpConv2dWithBiasParameters(_ x: Tensor, weight: Tensor, bias: Tensor, stride: Size2D, padding: Size2D,
                                                    dilation: Size2D, groups: Int)
        -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(weight, bias) { conv2d([x, $0, $1], stride, padding, dilation, groups) }
    }

    @derivative(of: conv2d(_:weight:bias:stride:padding:dilation:groups:), wrt: x)
    public static func _jvpConv2dWithBiasInput(_ x: Tensor, weight: Tensor, bias: Tensor, stride: Size2D, padding: Size2D,
                                               dilation: Size2D, groups: Int)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(x) { conv2d([$0, weight, bias], stride, padding, dilation, groups) }
    }

    // MARK: The adjoint ops (bilinear: one derivative for both operands)

    @derivative(of: conv2dInputGradient(_:weight:inputShape:stride:padding:dilation:groups:), wrt: (gy, weight))
    public static func _vjpConv2dInputGradient(_ gy: Tensor, weight: Tensor, inputShape: [Int], stride: Size2D, padding: Size2D,
                                               dilation: Size2D, groups: Int)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(gy, weight) {
            conv2dInputGradient($0, weight: $1, inputShape: inputShape, stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
    }

    @derivative(of: conv2dInputGradient(_:weight:inputShape:stride:padding:dilation:groups:), wrt: (gy, weight))
    public static func _jvpConv2dInputGradient(_ gy: Tensor, weight: Tensor, inputShape: [Int], stride: Size2D, padding: Size2D,
                                               dilation: Size2D, groups: Int)
        -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(gy, weight) {
            conv2dInputGradient($0, weight: $1, inputShape: inputShape, stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
    }

    @derivative(of: conv2dWeightGradient(_:outputGradient:kernel:stride:padding:dilation:groups:), wrt: (x, gy))
    public static func _vjpConv2dWeightGradient(_ x: Tensor, outputGradient gy: Tensor, kernel: Size2D, stride: Size2D,
                                                padding: Size2D, dilation: Size2D, groups: Int)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(x, gy) {
            conv2dWeightGradient($0, outputGradient: $1, kernel: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
    }

    @derivative(of: conv2dWeightGradient(_:outputGradient:kernel:stride:padding:dilation:groups:), wrt: (x, gy))
    public static func _jvpConv2dWeightGradient(_ x: Tensor, outputGradient gy: Tensor, kernel: Size2D, stride: Size2D,
                                                padding: Size2D, dilation: Size2D, groups: Int)
        -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(x, gy) {
            conv2dWeightGradient($0, outputGradient: $1, kernel: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
    }
}
