// differentiable-step: one training step of the reference MLP (784-512-512-10, batch 128, SGD
// lr 0.01: `mlpStep` of Benchmarks+Workloads.swift) through Swift's differentiation
// (`gradient(at: model)` with BackpropDifferentiable) against the library's own step
// (`valueWithGradient(at: model)` on the tape), timed in alternating rounds in one process.
//
//   BACKPROP_THREADS=1 swift run -c release differentiable-step [--rounds 15] [--steps 10]
//   swift run -c release differentiable-step --smoke     # small sizes; checks, times nothing
//   … differentiable-step --sizes 64,128,128,10 --batch 32   # another MLP
//
// Both paths train their own copy of the same model with the same optimizer, so after the same
// number of steps their parameters must be equal bit for bit; that, the seed example's
// gradients, the first step's gradients and one step of a small CNN (CNNStep.swift) are
// checked, and the exit status is 1 if any differs.
// Prints per-step medians (ms) of each path over the rounds and the median of the per-round
// ratios Swift AD / library.
import Backprop
import BackpropDifferentiable
import _Differentiation

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The reference MLP as a struct of the library's layers.
struct ReferenceMLP: Module, Differentiable {
    typealias Scalar = Float
    var l1: Linear<Float>
    var l2: Linear<Float>
    var l3: Linear<Float>

    mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
        visitor.module("l1", &l1)
        visitor.module("l2", &l2)
        visitor.module("l3", &l3)
    }

    @differentiable(reverse, wrt: self)
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        l3(l2(l1(x).relu()).relu())
    }
}

/// The seed example with the non-optional `affine` overload: optimised, a `@differentiable`
/// function that passes a non-optional bias to the library's `Tensor?` parameter crashes the
/// Swift 6.3 compiler; this form must keep building in release.
@differentiable(reverse, wrt: (w, b, beta))
func seedLoss(_ w: Tensor<Float>, _ b: Tensor<Float>, _ beta: Tensor<Float>, x: Tensor<Float>, target: Tensor<Float>) -> Float {
    Tensor.softmaxCrossEntropy(logits: .affine(x, weight: w, bias: b), targets: target, inverseTemperature: beta).scalar
}

/// Parses the arguments, checks, times; returns the exit status.
func run() -> Int32 {
    var rounds = 15, steps = 10, smoke = false
    var sizes = [784, 512, 512, 10], batch = 128
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        switch argument {
        case "--rounds": rounds = Int(arguments.next() ?? "") ?? rounds
        case "--steps": steps = Int(arguments.next() ?? "") ?? steps
        case "--smoke": smoke = true
        case "--sizes": sizes = (arguments.next() ?? "").split(separator: ",").compactMap { Int($0) }
        case "--batch": batch = Int(arguments.next() ?? "") ?? batch
        default:
            print("usage: differentiable-step [--rounds N] [--steps K] [--sizes 784,512,512,10] [--batch 128] [--smoke]   (threads: BACKPROP_THREADS)")
            return 2
        }
    }
    guard sizes.count == 4, sizes.allSatisfy({ $0 > 0 }), batch > 0 else {
        print("differentiable-step: --sizes takes four layer widths (an MLP with two hidden layers)")
        return 2
    }
    if smoke { (rounds, steps, sizes, batch) = (2, 2, [20, 16, 16, 10], 4) }

    var failures: [String] = []

    // The seed example: Swift AD and the tape give the same gradients.
    do {
        let x = Tensor<Float>([1, 0, 2]), target = Tensor<Float>([0, 1])
        let w = Tensor<Float>(rows: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]), b = Tensor<Float>([0.5, -1]), beta = Tensor<Float>(2)
        let swift = gradient(at: w, b, beta) { w, b, beta in seedLoss(w, b, beta, x: x, target: target) }
        let library = Backprop.gradient(at: [w, b, beta]) { p in
            Tensor.softmaxCrossEntropy(logits: .affine(x, weight: p[0], bias: p[1]), targets: target, inverseTemperature: p[2])
        }
        if [swift.0, swift.1, swift.2] != library { failures.append("seed example gradients differ") }
    }

    // One CNN step (CNNStep.swift): the convolutional layers' derivatives, optimised.
    failures += cnnStepFailures()

    // The reference workload, built as `mlpStep` builds it.
    var g = SeededGenerator(seed: 2)
    var linears: [Linear<Float>] = []
    for l in 0..<(sizes.count - 1) {
        let scale = Float(2 / Double(sizes[l])).squareRoot()
        linears.append(Linear(weight: .randomNormal([sizes[l + 1], sizes[l]], standardDeviation: scale, generator: &g),
                              bias: .zeros([sizes[l + 1]])))
    }
    let x = Tensor<Float>.randomNormal([batch, sizes[0]], generator: &g)
    let targets = Tensor<Float>.oneHot((0..<batch).map { _ in Int(g.next() % UInt64(sizes.last!)) }, classCount: sizes.last!)
    let one = Tensor<Float>(1)

    var libraryModel = Sequential<Float>(linears[0], ReLU(), linears[1], ReLU(), linears[2])
    var libraryOptimizer = SGD<Float>(learningRate: 0.01)
    var swiftModel = ReferenceMLP(l1: linears[0], l2: linears[1], l3: linears[2])
    var swiftOptimizer = SGD<Float>(learningRate: 0.01)

    // The compiler's tangent holds every gradient computed; the library's weight gradients are
    // read too (`tensors`) rather than left to plain SGD's fused product, so both paths do the
    // same work and take the same update, bit for bit.
    func libraryStep() -> NamedTensors<Float> {
        let (_, gradients) = valueWithGradient(at: libraryModel) { m in
            Tensor.softmaxCrossEntropy(logits: m(x), targets: targets, inverseTemperature: one)
        }
        _ = gradients.tensors
        do { try libraryOptimizer.update(&libraryModel, along: gradients) } catch { fatalError("library step: \(error)") }
        return gradients
    }

    func swiftStep() -> ReferenceMLP.TangentVector {
        let (_, gradient) = valueWithGradient(at: swiftModel) { m in
            Tensor.softmaxCrossEntropy(logits: m(x), targets: targets, inverseTemperature: one).scalar
        }
        do { try swiftOptimizer.update(&swiftModel, along: gradient) } catch { fatalError("Swift AD step: \(error)") }
        return gradient
    }

    // First step: the same gradients (the Swift model's tangent read in its parameter names).
    do {
        let before = swiftModel
        let library = libraryStep(), swift = before.namedTensors(of: swiftStep())
        if swift.tensors != library.tensors { failures.append("first-step gradients differ") }
    }

    func milliseconds(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let elapsed = clock.measure(body)
        return Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
    }

    func median(_ values: [Double]) -> Double {
        let s = values.sorted(), n = s.count
        return n == 0 ? .nan : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    // Warm-up, then rounds: each path runs `steps` steps per round, the order alternating.
    for _ in 0..<(smoke ? 0 : 3) { _ = libraryStep(); _ = swiftStep() }
    var libraryTimes: [Double] = [], swiftTimes: [Double] = [], ratios: [Double] = []
    for round in 0..<rounds {
        var l = 0.0, s = 0.0
        let timeLibrary = { l = milliseconds { for _ in 0..<steps { _ = libraryStep() } } / Double(steps) }
        let timeSwift = { s = milliseconds { for _ in 0..<steps { _ = swiftStep() } } / Double(steps) }
        if round % 2 == 0 { timeLibrary(); timeSwift() } else { timeSwift(); timeLibrary() }
        libraryTimes.append(l)
        swiftTimes.append(s)
        ratios.append(s / l)
    }

    // Same steps from the same start: the same parameters.
    if swiftModel.namedParameters.tensors != libraryModel.namedParameters.tensors {
        failures.append("parameters differ after \(libraryOptimizer.step) steps")
    }

    let shape = sizes.map(String.init).joined(separator: "-") + " b\(batch)"
    print("mlp-step \(shape), SGD lr 0.01, threads \(Backprop.threadCount), \(rounds) rounds × \(steps) steps, \(libraryOptimizer.step) steps each")
    if !smoke {
        print("library (tape)   median \(format2(median(libraryTimes))) ms/step")
        print("Swift AD         median \(format2(median(swiftTimes))) ms/step")
        print("ratio Swift AD / library: median \(format3(median(ratios))), min \(format3(ratios.min() ?? .nan)), max \(format3(ratios.max() ?? .nan))")
    }
    print(failures.isEmpty ? "gradients and parameters identical: yes" : "FAILED: " + failures.joined(separator: "; "))
    return failures.isEmpty ? 0 : 1
}

func format2(_ v: Double) -> String { String(Double((v * 100).rounded()) / 100) }
func format3(_ v: Double) -> String { String(Double((v * 1000).rounded()) / 1000) }

exit(run())
