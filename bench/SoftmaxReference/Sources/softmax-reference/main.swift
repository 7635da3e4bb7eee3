// Times, interleaved in one process on one thread, the softmax workload (4096×1000, β = 2) as
// (1) the hand-written C reference on 64-byte-aligned buffers, (2) Backprop's row kernels
// (SoftmaxKernels, on Swift arrays), (3) the public `vjp` API; prints medians and the ratios of
// the Swift times to the C ones. Machine phases move all three together; the ratios are the result.
@testable import Backprop
import CSoftmaxReference
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

func seconds() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }

AllocatorTuning.retainFreedMemory()
Backprop.threadCount = 1
let runs = CommandLine.arguments.count > 1 ? max(3, Int(CommandLine.arguments[1]) ?? 30) : 30
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

let names = ["C forward", "C VJP", "Swift kernels forward", "Swift kernels VJP", "vjp API (both)"]
var times = [[Double]](repeating: [], count: names.count)
var sink: Float = 0
for run in 0..<(runs + 3) {
    func time(_ slot: Int, _ body: () -> Void) {
        let start = seconds(); body()
        if run >= 3 { times[slot].append((seconds() - start) * 1e3) }
    }
    time(0) { reference_softmax(cx, cy, rows, columns, 2) }
    time(1) { reference_softmax_vjp(cg, cy, cOut, rows, columns, 2) }
    sink += cOut[7]
    var y: [Float] = []
    time(2) { y = SoftmaxKernels.softmax(xs, rowLength: columns, beta: 2, log: false) }
    time(3) { sink += SoftmaxKernels.backward(us, output: y, rowLength: columns, beta: 2, log: false)[7] }
    time(4) {
        let (value, gradient) = vjp(at: x, cotangent: u) { $0.softmax(inverseTemperature: 2) }
        sink += value.scalars[0] + gradient.scalars[7]
    }
}
let medians = times.map { $0.sorted()[$0.count / 2] }
for (name, median) in zip(names, medians) { print(name.padding(toLength: 24, withPad: " ", startingAt: 0), String(format: "%7.2f ms", median)) }
print(String(format: "Swift / C: forward %.2f, VJP %.2f, both %.2f; vjp API / C %.2f",
             medians[2] / medians[0], medians[3] / medians[1], (medians[2] + medians[3]) / (medians[0] + medians[1]),
             medians[4] / (medians[0] + medians[1])) + (sink.isNaN ? " (NaN)" : ""))
