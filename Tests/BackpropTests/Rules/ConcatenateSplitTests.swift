import Testing
@testable import Backprop

/// Concatenation, slicing, padding and splitting along any axis: values against arrays written
/// out by hand, split ∘ concatenate = identity, the VJP of a concatenation by hand, and the
/// batched Jacobian against the row-by-row one.
@Suite("Concatenate and split")
struct ConcatenateSplitTests {
    /// a = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]], shape [2, 2, 2].
    static func a<S: TensorScalar>(_: S.Type) -> Tensor<S> { Tensor(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8]) }

    func values<S: TensorScalar>(_: S.Type) {
        let a = Self.a(S.self)
        // Axis 0: b = [[[9, 10], [11, 12]]] goes after both blocks of a.
        let b0 = Tensor<S>(shape: [1, 2, 2], scalars: [9, 10, 11, 12])
        #expect(Tensor.concatenating([a, b0], alongAxis: 0) == Tensor(shape: [3, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))
        #expect(Tensor.concatenatingRows([a, b0]) == Tensor(shape: [3, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))
        // Axis 1: b = [[[9, 10]], [[11, 12]]] becomes the third row of each block:
        // [[[1, 2], [3, 4], [9, 10]], [[5, 6], [7, 8], [11, 12]]].
        let b1 = Tensor<S>(shape: [2, 1, 2], scalars: [9, 10, 11, 12])
        let along1 = Tensor<S>(shape: [2, 3, 2], scalars: [1, 2, 3, 4, 9, 10, 5, 6, 7, 8, 11, 12])
        #expect(Tensor.concatenating([a, b1], alongAxis: 1) == along1)
        #expect(Tensor.concatenating([a, .zeros([2, 0, 2]), b1], alongAxis: -2) == along1, "empty part, negative axis")
        // Axis 2: b = [[[9], [10]], [[11], [12]]] becomes the third column of every row:
        // [[[1, 2, 9], [3, 4, 10]], [[5, 6, 11], [7, 8, 12]]].
        let b2 = Tensor<S>(shape: [2, 2, 1], scalars: [9, 10, 11, 12])
        let along2 = Tensor<S>(shape: [2, 2, 3], scalars: [1, 2, 9, 3, 4, 10, 5, 6, 11, 7, 8, 12])
        #expect(Tensor.concatenating([a, b2], alongAxis: 2) == along2)
        #expect(Tensor.concatenating([a, b2], alongAxis: -1) == along2)
        // Three parts along the last axis of a matrix: [[1], [2]] | [[3, 4], [5, 6]] | [[7], [8]].
        let three = Tensor.concatenating([Tensor<S>(rows: [[1], [2]]), Tensor(rows: [[3, 4], [5, 6]]), Tensor(rows: [[7], [8]])], alongAxis: 1)
        #expect(three == Tensor(rows: [[1, 3, 4, 7], [2, 5, 6, 8]]))

        // Slicing and padding by hand: a[:, 1:2, :] = [[[3, 4]], [[7, 8]]]; a[..., 1:] = [[[2], [4]], [[6], [8]]].
        #expect(a.slice(1..<2, alongAxis: 1) == Tensor(shape: [2, 1, 2], scalars: [3, 4, 7, 8]))
        #expect(a.slice(1..<2, alongAxis: -1) == Tensor(shape: [2, 2, 1], scalars: [2, 4, 6, 8]))
        #expect(a.slice(1..<2, alongAxis: 0) == Tensor(shape: [1, 2, 2], scalars: [5, 6, 7, 8]))
        #expect(a.rows(0..<1) == Tensor(shape: [1, 2, 2], scalars: [1, 2, 3, 4]))
        #expect(Tensor<S>(rows: [[1, 2], [3, 4]]).padded(before: 1, after: 2, alongAxis: 1)
                == Tensor(rows: [[0, 1, 2, 0, 0], [0, 3, 4, 0, 0]]))
        #expect(Tensor<S>(rows: [[1, 2], [3, 4]]).padded(rowsBefore: 1, rowsAfter: 0) == Tensor(rows: [[0, 0], [1, 2], [3, 4]]))
        #expect(a.split(sizes: [1, 0, 1], alongAxis: 2).map(\.shape) == [[2, 2, 1], [2, 2, 0], [2, 2, 1]])
    }

    @Test("values along axes 0, 1, 2 and −1, by hand") func valuesFloat() { values(Float.self) }
    @Test("values along axes 0, 1, 2 and −1, by hand (Double)") func valuesDouble() { values(Double.self) }

    @Test("split ∘ concatenate and concatenate ∘ split are the identity", arguments: [0, 1, 2, -1])
    func splitInvertsConcatenate(axis: Int) {
        var g = SeededGenerator(seed: 5)
        let sizes = [2, 5, 1, 3]
        let parts = sizes.map { size -> Tensor<Double> in
            var shape = [3, 2, 4]
            shape[axis < 0 ? axis + 3 : axis] = size
            return .randomNormal(shape, generator: &g)
        }
        let joined = Tensor.concatenating(parts, alongAxis: axis)
        #expect(joined.split(sizes: sizes, alongAxis: axis) == parts)
        #expect(Tensor.concatenating(joined.split(sizes: [4, 0, 7], alongAxis: axis), alongAxis: axis) == joined)
    }

    /// x₁ = [[1], [2]] and x₂ = [[3, 4], [5, 6]] joined along axis 1 give y = [[1, 3, 4], [2, 5, 6]].
    /// With ȳ = [[10, 20, 30], [40, 50, 60]], x̄₁ = ȳ[:, 0:1] = [[10], [40]] and
    /// x̄₂ = ȳ[:, 1:3] = [[20, 30], [50, 60]]; the JVP joins the tangents, zeros for a constant.
    @Test("the VJP of concatenate is the cotangent's slices; the JVP joins the tangents")
    func concatenateDerivativesByHand() {
        let x1 = Tensor<Double>(rows: [[1], [2]]), x2 = Tensor<Double>(rows: [[3, 4], [5, 6]])
        let cotangent = Tensor<Double>(rows: [[10, 20, 30], [40, 50, 60]])
        let (y, pullback) = valueWithPullback(at: [x1, x2]) { Tensor.concatenating($0, alongAxis: 1) }
        #expect(y == Tensor(rows: [[1, 3, 4], [2, 5, 6]]))
        let grads = pullback(cotangent)
        #expect(grads[0] == Tensor(rows: [[10], [40]]))
        #expect(grads[1] == Tensor(rows: [[20, 30], [50, 60]]))

        // Only x₂ a variable: its cotangent is the same slice; in batched form too.
        #expect(vjp(at: x2, cotangent: cotangent) { Tensor.concatenating([x1, $0], alongAxis: -1) }.cotangent
                == Tensor(rows: [[20, 30], [50, 60]]))
        #expect(jvp(at: x2, tangent: Tensor(rows: [[7, 8], [9, 10]])) { Tensor.concatenating([x1, $0], alongAxis: 1) }.tangent
                == Tensor(rows: [[0, 7, 8], [0, 9, 10]]))

        // The slice's VJP is the zero padding, and the padding's VJP the slice.
        #expect(vjp(at: x2, cotangent: Tensor(rows: [[7], [9]])) { $0.slice(1..<2, alongAxis: 1) }.cotangent
                == Tensor(rows: [[0, 7], [0, 9]]))
        #expect(vjp(at: x2, cotangent: Tensor(rows: [[1, 2, 3], [4, 5, 6]])) { $0.padded(before: 1, after: 0, alongAxis: 1) }.cotangent
                == Tensor(rows: [[2, 3], [5, 6]]))
    }

    @Test("batched Jacobian of concatenate, slice, pad and split equals the row-by-row one")
    func batchedJacobianEqualsRowByRow() {
        var g = SeededGenerator(seed: 11)
        let c = Tensor<Double>.randomNormal([2, 1, 3], generator: &g)
        let functions: [(String, Tensor<Double>, (Tensor<Double>) -> Tensor<Double>)] = [
            ("concatenate axis 1 with a constant and x twice", .randomNormal([2, 2, 3], generator: &g), { x in
                Tensor.concatenating([x.exp(), c, x * x], alongAxis: 1).tanh()
            }),
            ("concatenate axis -1 of slices", .randomNormal([2, 4], generator: &g), { x in
                Tensor.concatenating([x.slice(1..<3, alongAxis: -1).sigmoid(), x.slice(0..<1, alongAxis: 1) * x.slice(3..<4, alongAxis: 1)],
                                     alongAxis: -1)
            }),
            ("split, padded and rejoined along axis 0", .randomNormal([5, 2], generator: &g), { x in
                let p = x.split(sizes: [2, 1, 2], alongAxis: 0)
                return Tensor.concatenating([p[2].padded(before: 1, after: 1, alongAxis: 1), p[0].padded(before: 0, after: 2, alongAxis: -1) * p[1].padded(before: 1, after: 1, alongAxis: 1)],
                                            alongAxis: 0).exp()
            }),
        ]
        for (name, x, f) in functions {
            let batched = reverseJacobian(of: f, at: x, batched: true)
            let rows = reverseJacobian(of: f, at: x, batched: false)
            expectClose(batched, rows, tolerance: agreement(Double.self), name)
            expectClose(jacobian(of: f, at: x, mode: .forward), rows, tolerance: agreement(Double.self), "\(name), forward")
        }
    }
}
