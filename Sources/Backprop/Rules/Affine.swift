import BackpropKernels

// The affine map y = Wx + b, the seed derivation's first half (docs/derivations.md §1).

extension Tensor {
    /// y = x·Wᵀ + b: a dense layer's map, with PyTorch's weight layout.
    ///
    /// Shapes: `weight` W is [T, N] (outputs × inputs), `bias` b is [T]; x is one example [N]
    /// (giving y [T]) or a batch with examples as rows, X [B, N] (giving Y = X·Wᵀ + b, [B, T]).
    ///
    /// With G = ∂L/∂Y [B, T]:
    /// - ∂L/∂W = Gᵀ·X   [T, N]  (one example: g xᵀ, the outer product)
    /// - ∂L/∂b = Σ_rows G  [T]  (one example: g)
    /// - ∂L/∂X = G·W    [B, N]  (one example: Wᵀ g)
    /// JVP: Ẏ = Ẋ·Wᵀ + X·Ẇᵀ + ḃ.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func affine(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        require(weight.rank == 2, "affine: weight must be [out, in], got shape \(weight.shape)")
        let outputs = weight.shape[0], inputs = weight.shape[1]
        require((x.rank == 1 || x.rank == 2) && x.shape.last == inputs,
                     "affine: input shape \(x.shape) does not match weight shape \(weight.shape) (expects [\(inputs)] or [batch, \(inputs)])")
        if let bias {
            require(bias.shape == [outputs], "affine: bias shape \(bias.shape) does not match weight shape \(weight.shape) (expects [\(outputs)])")
        }
        let vector = x.rank == 1
        let batch = vector ? 1 : x.shape[0]
        var value = gemmValue(x, false, weight, true, m: batch, n: outputs, k: inputs, bias: bias?.scalars)
        let outShape = vector ? [outputs] : [batch, outputs]
        value = Tensor(shape: outShape, scalars: value.scalars)
        let inputsList = bias.map { [x, weight, $0] } ?? [x, weight]
        return recorded("affine", value: value, inputs: inputsList,
                        pullback: { p in
                            let g = vector ? p.cotangent.reshaped([1, outputs]) : p.cotangent
                            let x2 = vector ? x.reshaped([1, inputs]) : x
                            var result: [Tensor?] = [
                                p.needs[0] ? matmul(g, weight).reshaped(x.shape) : nil,   // ∂L/∂X = G·W
                                p.needs[1] ? matmul(g, transposed: true, x2) : nil,       // ∂L/∂W = Gᵀ·X
                            ]
                            if bias != nil { result.append(p.needs[2] ? g.sum(alongAxis: 0) : nil) }  // ∂L/∂b = Σ_rows G
                            return result
                        },
                        differential: { t, _ in
                            var sum = sumOfTangents(t[0].map { affine($0, weight: weight) },
                                                    t[1].map { affine(x, weight: $0) })
                            if t.count > 2 { sum = sumOfTangents(sum, t[2]) }
                            return sum
                        },
                        batchedPullback: { p in
                            // k cotangents [k, B, T] as one [k·B, T] matrix: ∂L/∂X = G·W for all k in
                            // one product. Weight and bias cotangents go one cotangent at a time.
                            guard !p.needs[1], bias == nil || !p.needs[2] else { return nil }
                            let g = p.cotangent.reshaped([p.batchCount * batch, outputs])
                            let gx = matmul(g, weight).reshaped([p.batchCount] + x.shape)
                            return bias == nil ? [gx, nil] : [gx, nil, nil]
                        },
                        deferredPullback: { i, cotangent in
                            // ∂L/∂W = Gᵀ·X as the product itself, for plain SGD to apply in place.
                            guard i == 1, PullbackInput<Scalar>.mayFuse else { return nil }
                            return DeferredProduct(vector ? cotangent.reshaped([1, outputs]) : cotangent, transposed: true,
                                                   vector ? x.reshaped([1, inputs]) : x, transposed: false)
                        })
    }
}

/// Closed-form Jacobians, computed directly from their formulas, for checking and teaching.
public enum ClosedForm {
    /// ∂y/∂x of y = Wx + b: W itself, [T, N].
    public static func affineJacobianWithRespectToInput<S>(weight: Tensor<S>) -> Tensor<S> {
        weight.detached
    }

    /// ∂y/∂b of y = Wx + b: the identity I_T.
    public static func affineJacobianWithRespectToBias<S>(outputs: Int) -> Tensor<S> {
        .identity(outputs)
    }

    /// ∂y/∂W of y = Wx + b with W flattened row-major: [T, T·N], ∂y_t/∂W_ij = δ_ti x_j.
    public static func affineJacobianWithRespectToWeight<S>(input x: Tensor<S>, outputs: Int) -> Tensor<S> {
        require(x.rank == 1, "affineJacobianWithRespectToWeight: expects one example [N], got \(x.shape)")
        let n = x.count
        var j = Tensor<S>.zeros([outputs, outputs * n])
        for t in 0..<outputs { for i in 0..<n { j.scalars[t * outputs * n + t * n + i] = x.scalars[i] } }
        return j
    }

    /// ∂y/∂x of y = softmax(βx): β(diag(y) − y yᵀ), [n, n], symmetric; entry (j, i) is β y_j(δ_ij − y_i).
    public static func softmaxJacobian<S>(output y: Tensor<S>, inverseTemperature beta: S) -> Tensor<S> {
        require(y.rank == 1, "softmaxJacobian: expects one row [n], got \(y.shape)")
        let n = y.count
        var j = Tensor<S>.zeros([n, n])
        for r in 0..<n {
            for c in 0..<n {
                j.scalars[r * n + c] = beta * ((r == c ? y.scalars[r] : 0) - y.scalars[r] * y.scalars[c])
            }
        }
        return j
    }

    /// ∂y/∂β of y = softmax(βx): y ⊙ (x − ⟨y, x⟩), [n].
    public static func softmaxDerivativeWithRespectToBeta<S>(input x: Tensor<S>, output y: Tensor<S>) -> Tensor<S> {
        let mean = zip(x.scalars, y.scalars).reduce(S(0)) { $0 + $1.0 * $1.1 }
        return Tensor(shape: y.shape, scalars: zip(x.scalars, y.scalars).map { $1 * ($0 - mean) })
    }
}
