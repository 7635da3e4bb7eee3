import Testing
@testable import Backprop
import BackpropKernels

/// Streaming (non-temporal) stores and prefetching are cache controls: they must change no value.
@Suite("Softmax VJP with streaming stores")
struct StreamingStoreTests {
    /// Every row alignment a streaming store meets: row lengths that are not multiples of eight
    /// start rows at every offset from a 32-byte boundary, so the aligned head, the vector body
    /// and the tail all run; a batch of two cotangents reuses each output row.
    @Test("streaming and ordinary stores give identical VJPs on odd shapes (Float, Double)",
          arguments: [1, 3, 7, 8, 17, 1001])
    func identicalOnOddShapes(rowLength n: Int) {
        var g = SeededGenerator(seed: 41)
        for rows in [1, 9] {
            let x = Tensor<Float>.randomNormal([rows, n], generator: &g)
            for log in [false, true] {
                let y = SoftmaxKernels.softmax(x.scalars, rowLength: n, beta: 2, log: log)
                for batch in [1, 2] {
                    let u = Tensor<Float>.randomNormal([batch * rows, n], generator: &g).scalars
                    let streamed = SoftmaxKernels.backward(u, output: y, rowLength: n, beta: 2, log: log, streaming: true)
                    let ordinary = SoftmaxKernels.backward(u, output: y, rowLength: n, beta: 2, log: log, streaming: false)
                    #expect(streamed == ordinary, "\(log ? "log-softmax" : "softmax") VJP, \(batch)×\(rows)×\(n)")
                }
            }
            let xd = Tensor<Double>.randomNormal([rows, n], generator: &g)
            let yd = SoftmaxKernels.softmax(xd.scalars, rowLength: n, beta: 2, log: false)
            let ud = Tensor<Double>.randomNormal([rows, n], generator: &g).scalars
            #expect(SoftmaxKernels.backward(ud, output: yd, rowLength: n, beta: 2, log: false, streaming: true)
                    == SoftmaxKernels.backward(ud, output: yd, rowLength: n, beta: 2, log: false, streaming: false))
        }
    }

    /// An output past `streamingThreshold` streams by default, split over the threads like any
    /// large softmax; it must equal the ordinary stores and the composed formula β·y ⊙ (g − ⟨g, y⟩).
    @Test("a VJP output past the streaming threshold streams by default and changes no value")
    func largeOutputStreamsByDefault() {
        let n = 1000, rows = SoftmaxKernels.streamingThreshold / (n * MemoryLayout<Float>.stride) + 3
        var g = SeededGenerator(seed: 43)
        let x = Tensor<Float>.randomNormal([rows, n], generator: &g)
        let u = Tensor<Float>.randomNormal([rows, n], generator: &g)
        let y = SoftmaxKernels.softmax(x.scalars, rowLength: n, beta: 2, log: false)
        let byDefault = SoftmaxKernels.backward(u.scalars, output: y, rowLength: n, beta: 2, log: false)
        #expect(byDefault == SoftmaxKernels.backward(u.scalars, output: y, rowLength: n, beta: 2, log: false, streaming: false))
        // Spot rows against the formula, in Double: ⟨g, y⟩ over 1000 terms of size ≤ |g| ≈ 4
        // carries at most n·ε_f·max|g| ≈ 5e-4 of rounding; the products add 3 ε_f relative.
        for r in [0, rows / 2, rows - 1] {
            let gr = u.scalars[(r * n)..<((r + 1) * n)].map(Double.init), yr = y[(r * n)..<((r + 1) * n)].map(Double.init)
            let d = zip(gr, yr).reduce(0) { $0 + $1.0 * $1.1 }
            for j in [0, n / 2, n - 1] {
                let expected = 2 * yr[j] * (gr[j] - d)
                let bound = 2 * yr[j] * 5e-4 + 3 * Double(Float.ulpOfOne) * abs(expected)
                #expect(abs(Double(byDefault[r * n + j]) - expected) <= bound, "row \(r), column \(j)")
            }
        }
    }
}
