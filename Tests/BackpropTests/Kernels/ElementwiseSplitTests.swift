import Testing
@testable import Backprop
import BackpropKernels

/// The elementwise kernels cut large loops into one range per thread. Each element's arithmetic
/// is the same whatever the split, so every split must give the one-thread result bit for bit,
/// and that result must be the operation applied element by element.
@Suite("Elementwise kernels split over threads")
struct ElementwiseSplitTests {
    /// Past the threshold, and odd, so that the ranges of three threads have unequal lengths.
    static let count = ElementwiseKernels.parallelThreshold + 7

    static func values(_ count: Int = count, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return Tensor<Float>.randomNormal([count], generator: &g).scalars
    }

    @Test("unary ops: any split equals one thread, and the op element by element",
          arguments: [UnaryOperation.relu, .negate, .exp, .tanh, .abs])
    func unarySplit(op: UnaryOperation) {
        let x = Self.values(seed: 61)
        let one = ElementwiseKernels.unary(op, x, threads: 1)
        for threads in [2, 3] { #expect(ElementwiseKernels.unary(op, x, threads: threads) == one) }
        for i in [0, Self.count / 2, Self.count - 1] {
            let want = ElementwiseKernels.apply(op, x[i])
            if op == .exp && KernelVariant.active.table != nil {
                // The AVX2 and AVX-512 kernels' polynomial exponential: within 2 ulp of libm.
                #expect(Swift.abs(one[i] - want) <= 2 * want.ulp)
            } else {
                #expect(one[i] == want)
            }
        }
    }

    @Test("binary ops on equal shapes and against a scalar on either side: any split equals one thread")
    func binarySplit() {
        let a = Self.values(seed: 62), b = Self.values(seed: 63), s: [Float] = [1.5]
        let shape = [Self.count]
        for op in [BinaryOperation.add, .subtract, .multiply, .divide, .maximum] {
            for (x, xShape, y, yShape) in [(a, shape, b, shape), (a, shape, s, [Int]()), (s, [Int](), b, shape)] {
                let one = ElementwiseKernels.binary(op, x, xShape, y, yShape, shape: shape, threads: 1)
                #expect(ElementwiseKernels.binary(op, x, xShape, y, yShape, shape: shape, threads: 3) == one, "\(op)")
                let i = Self.count - 1
                #expect(one[i] == ElementwiseKernels.apply(op, x.count == 1 ? x[0] : x[i], y.count == 1 ? y[0] : y[i]))
            }
        }
    }

    /// A batch of cotangents pairs element j with input j mod n; ranges start mid-copy.
    @Test("relu VJP, single and batched cotangents: any split equals one thread, and g where x > 0")
    func reluBackwardSplit() {
        let n = 30_001
        let x = Self.values(n, seed: 64)
        for batch in [1, 3] {
            let g = Self.values(batch * n, seed: 65)
            let one = ElementwiseKernels.reluBackward(g, input: x, threads: 1)
            #expect(ElementwiseKernels.reluBackward(g, input: x, threads: 3) == one)
            for j in [0, n - 1, n, batch * n - 1] where j < batch * n {
                #expect(one[j] == (x[j % n] > 0 ? g[j] : 0))
            }
        }
    }

    @Test("bias added to each row: any split equals one thread, and y + b")
    func addRowsSplit() {
        let n = 37, rows = ElementwiseKernels.parallelThreshold / n + 5
        let y = Self.values(rows * n, seed: 66), b = Self.values(n, seed: 67)
        var one = y, three = y
        ElementwiseKernels.addRows(&one, b, threads: 1)
        ElementwiseKernels.addRows(&three, b, threads: 3)
        #expect(one == three)
        for j in [0, n - 1, rows * n - 1] { #expect(one[j] == y[j] + b[j % n]) }
    }
}

/// Large reductions split their outer blocks over the threads; each result is still reduced
/// along the axis in the same order, so every split must give the one-thread results bit for
/// bit, and a sum must be the left-to-right sum (along the last axis, the sixteen-lane sum).
@Suite("Reductions split over threads")
struct ReductionSplitTests {
    /// 7 × 40,000 is past the threshold: along axis 1 (the last: each row reduced in a register)
    /// the 7 outer blocks split; along axis 0 there is one outer block, kept on one thread.
    static let shape = [7, 40_000]

    @Test("sum and max along each axis: any split equals one thread, and the first entry by hand",
          arguments: [0, 1])
    func reductionsSplit(axis: Int) {
        #expect(Self.shape.reduce(1, *) >= ReductionKernels.parallelThreshold)
        var g = SeededGenerator(seed: 68)
        var x = Tensor<Float>.randomNormal(Self.shape, generator: &g).scalars
        x[3] = 100; x[5] = 100   // a tie for row 0's maximum: the first index (3) must win whatever the split
        let sum = ReductionKernels.sum(x, shape: Self.shape, axis: axis, threads: 1)
        let max = ReductionKernels.max(x, shape: Self.shape, axis: axis, threads: 1)
        for threads in [2, 3] {
            #expect(ReductionKernels.sum(x, shape: Self.shape, axis: axis, threads: threads) == sum)
            let split = ReductionKernels.max(x, shape: Self.shape, axis: axis, threads: threads)
            #expect(split.values == max.values && split.indices == max.indices)
        }
        // Entries by hand: the sum, the maximum and its first index.
        let (rows, columns) = (Self.shape[0], Self.shape[1])
        for r in axis == 0 ? [0, columns - 1] : Array(0..<rows) {
            let line = axis == 0 ? (0..<rows).map { x[$0 * columns + r] } : Array(x[(r * columns)..<((r + 1) * columns)])
            // Along the last axis, Float sums add sixteen partial sums (ReductionKernels.sumRow).
            #expect(sum[r] == (axis == 1 ? KernelVariantTests.sixteenLaneSum(line[...]) : line.reduce(0, +)))
            #expect(max.values[r] == line.max() && max.indices[r] == line.firstIndex(of: line.max()!))
        }
        if axis == 1 { #expect(max.indices[0] == 3) }
    }

    /// The maximum along a middle axis runs eight inner positions at a time for Float. Its values
    /// and first indices must be those of the definition, checked by hand entry by entry, on
    /// inner lengths with and without a scalar tail, with ties, NaNs and −∞ placed in the data.
    @Test("max along a middle axis: vector lanes and tails give the first maximum, NaN first",
          arguments: [[3, 5, 8], [2, 9, 13], [1, 6, 1], [4, 7, 24], [2, 3, 7]])
    func maxAlongMiddleAxis(shape: [Int]) {
        let (outer, length, inner) = (shape[0], shape[1], shape[2])
        var g = SeededGenerator(seed: 69)
        // Values from a small set, so that ties are common.
        var x = (0..<(outer * length * inner)).map { _ in Float(Int(g.next() % 5)) - 2 }
        if x.count > 20 {
            x[inner + 1] = .nan; x[3 * inner + 1] = .nan   // two NaNs in one column: the first wins
            x[2] = .infinity
        }
        for i in 0..<inner { x[(length - 1) * inner + i] = -.infinity }  // −∞ never beats a finite entry
        let (values, indices) = ReductionKernels.max(x, shape: shape, axis: 1, threads: 1)
        for o in 0..<outer {
            for i in 0..<inner {
                let line = (0..<length).map { x[(o * length + $0) * inner + i] }
                let expected = line.firstIndex(where: { $0.isNaN }) ?? line.firstIndex(of: line.max()!)!
                let r = o * inner + i
                #expect(indices[r] == expected, "outer \(o), inner \(i)")
                #expect(values[r] == line[expected] || (values[r].isNaN && line[expected].isNaN))
            }
        }
    }
}
