import BackpropKernels

// Dropout: a random mask, held constant for the derivatives.

extension Tensor {
    /// Inverted dropout (PyTorch's `dropout` in training mode): each element is kept with
    /// probability 1 − p and scaled by 1/(1 − p), or set to 0, by a mask m drawn from
    /// `generator` (seeded, so the same seed gives the same mask): y = x ⊙ m, E[y] = x.
    /// p = 0 gives x itself; p = 1 gives zeros.
    ///
    /// With the mask held constant the map is linear and diagonal: VJP x̄ = Ȳ ⊙ m, JVP ẏ = ẋ ⊙ m.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func dropout(probability p: Double, generator: inout SeededGenerator) -> Tensor {
        require(p >= 0 && p <= 1, "dropout: probability must be in [0, 1], got \(p)")
        if p == 0 { return self }
        let scale = p == 1 ? 0 : Scalar(1 / (1 - p))
        var mask = [Scalar](repeating: 0, count: count)
        for i in 0..<count where generator.nextUnitDouble() >= p { mask[i] = scale }
        let m = Tensor(shape: shape, scalars: mask)
        let value = Tensor(shape: shape, scalars: ElementwiseKernels.binary(.multiply, scalars, shape, mask, shape, shape: shape))
        return Tensor.recordedElementwise("dropout", value: value, inputs: [self],
                                          pullback: { [$0.cotangent * m] },
                                          differential: { t, _ in t[0].map { $0 * m } })
    }
}
