// Times, interleaved in one process on one thread, the softmax workload (4096×1000, β = 2) as
// (1) the hand-written C reference on 64-byte-aligned buffers, (2) the same with the forward's y
// in streaming stores, (3) the C forward's arithmetic alone (the same work on 16 rows that stay
// in L2), (4) Backprop's row kernels (SoftmaxKernels, on Swift arrays), (5) the public `vjp`
// API; prints medians and the ratios that matter: in-L2 ÷ from-memory forward (near 1: the
// forward is bound by its arithmetic, not by memory), streamed ÷ plain forward, and the Swift
// times ÷ the C ones. Machine phases move all of them together; the ratios are the result.
@testable import Backprop
import CSoftmaxReference
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

func seconds() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }

AllocatorTuning.retainFreedMemory()
let runs = CommandLine.arguments.count > 1 ? max(3, Int(CommandLine.arguments[1]) ?? 30) : 30
// Threads (second argument, default 1): the C passes then run on row halves through
// Backprop's own `parallelFor`, and Backprop's kernels with `threadCount` set to match.
let threads = CommandLine.arguments.count > 2 ? max(1, Int(CommandLine.arguments[2]) ?? 1) : 1
Backprop.threadCount = threads
let rows = 4096, columns = 1000, count = rows * columns
var generator = SeededGenerator(seed: 3)
let x = Tensor<Float>.randomNormal([rows, columns], generator: &generator)
let u = Tensor<Float>.randomNormal([rows, columns], generator: &generator)
let xs = x.scalars, us = u.scalars

func alignedCopy(_ values: [Float]?) -> UnsafeMutablePointer<Float> {
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, 64, count * MemoryLayout<Float>.stride) == 0, let raw else { fatalError("posix_memalign failed") }
    let p = raw.bindMemory(to: Float.self, capacity: count)
    if let values { p.initialize(from: values, count: count) } else { p.initialize(repeating: 0, count: count) }
    return p
}
let cx = alignedCopy(xs), cg = alignedCopy(us), cy = alignedCopy(nil), cOut = alignedCopy(nil)

/// Runs a C pass over rows split evenly between `threads` workers, as the Swift kernels split them.
func split(_ pass: (_ offset: Int, _ rows: Int) -> Void) {
    parallelFor(threads) { w in
        let first = w * rows / threads, last = (w + 1) * rows / threads
        pass(first * columns, last - first)
    }
}

let names = ["C forward", "C VJP", "C streamed forward", "C VJP after it", "C forward, in L2", "Swift kernels forward", "Swift kernels VJP", "vjp API (both)"]
var times = [[Double]](repeating: [], count: names.count)
var sink: Float = 0
for run in 0..<(runs + 3) {
    func time(_ slot: Int, _ body: () -> Void) {
        let start = seconds(); body()
        if run >= 3 { times[slot].append((seconds() - start) * 1e3) }
    }
    time(0) { split { reference_softmax(cx + $0, cy + $0, $1, columns, 2) } }
    time(1) { split { reference_softmax_vjp(cg + $0, cy + $0, cOut + $0, $1, columns, 2) } }
    sink += cOut[7]
    time(2) { split { reference_softmax_streamed(cx + $0, cy + $0, $1, columns, 2) } }
    time(3) { split { reference_softmax_vjp(cg + $0, cy + $0, cOut + $0, $1, columns, 2) } }
    sink += cOut[7]
    // The same rows' work on 16 rows per thread (64 KB each way) that stay in L2: the arithmetic alone.
    time(4) { split { offset, count in for _ in 0..<(count / 16) { reference_softmax(cx + offset, cy + offset, 16, columns, 2) } } }
    sink += cy[7]
    var y: [Float] = []
    time(5) { y = SoftmaxKernels.softmax(xs, rowLength: columns, beta: 2, log: false) }
    time(6) { sink += SoftmaxKernels.backward(us, output: y, rowLength: columns, beta: 2, log: false)[7] }
    time(7) {
        let (value, gradient) = vjp(at: x, cotangent: u) { $0.softmax(inverseTemperature: 2) }
        sink += value.scalars[0] + gradient.scalars[7]
    }
}
let medians = times.map { $0.sorted()[$0.count / 2] }
for (name, median) in zip(names, medians) { print(name.padding(toLength: 24, withPad: " ", startingAt: 0), String(format: "%7.2f ms", median)) }
print(String(format: "C forward in L2 / from memory %.2f; streamed forward / forward %.2f",
             medians[4] / medians[0], medians[2] / medians[0]))
print(String(format: "Swift / C: forward %.2f, VJP %.2f, both %.2f; vjp API / C %.2f",
             medians[5] / medians[0], medians[6] / medians[1], (medians[5] + medians[6]) / (medians[0] + medians[1]),
             medians[7] / (medians[0] + medians[1])) + (sink.isNaN ? " (NaN)" : ""))
