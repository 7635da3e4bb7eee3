/// Parameter updates as single fused loops over the parameter buffer, in place. Buffers of at
/// least `parallelThreshold` scalars are split into equal ranges over `threads` (by default
/// `Backprop.threadCount`); each element's arithmetic is the same whatever the split.
enum OptimizerKernels {
    /// Below this many scalars an update stays on one thread.
    static let parallelThreshold = 1 << 16

    /// Runs `body(range)` over `0..<count`, split over the threads when `count` is large.
    @inline(__always)
    static func forEachRange(_ count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        let workers = count < parallelThreshold ? 1 : threads
        if workers <= 1 { body(0..<count); return }
        parallelFor(workers) { w in body((w * count / workers)..<((w + 1) * count / workers)) }
    }

    /// Plain SGD: θ ← θ − η·g, one pass, no temporary.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func sgdStep<T: TensorScalar>(_ parameters: inout [T], gradient: [T], learningRate: T,
                                         threads: Int = threadCount) {
        precondition(parameters.count == gradient.count, "sgdStep: \(gradient.count) gradients for \(parameters.count) parameters")
        parameters.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { g in
                forEachRange(p.count, threads: threads) { range in
                    for i in range { p[i] -= learningRate * g[i] }
                }
            }
        }
    }

    /// One Adam/AdamW step on one parameter buffer θ with its moments m and v, in place, one
    /// pass (the formula of `Adam`, evaluated in the same order so results are identical):
    /// θ ← θ·shrink; d ← g + λ₂·θ; m ← m + (1 − β₁)(d − m); v ← β₂·v + (1 − β₂)·d²;
    /// θ ← θ − stepSize · m / (√v / √(1 − β₂ᵗ) + ε).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func adamStep<T: TensorScalar>(_ parameters: inout [T], firstMoment: inout [T], secondMoment: inout [T],
                                          gradient: [T], shrink: T, l2: T, beta1: T, beta2: T,
                                          stepSize: T, correction2Root: T, epsilon: T, threads: Int = threadCount) {
        let count = parameters.count
        precondition(gradient.count == count && firstMoment.count == count && secondMoment.count == count,
                     "adamStep: \(gradient.count) gradients and moments of \(firstMoment.count), \(secondMoment.count) for \(count) parameters")
        parameters.withUnsafeMutableBufferPointer { p in
            firstMoment.withUnsafeMutableBufferPointer { m in
                secondMoment.withUnsafeMutableBufferPointer { v in
                    gradient.withUnsafeBufferPointer { g in
                        forEachRange(count, threads: threads) { range in for j in range {
                            let theta = p[j] * shrink
                            let d = g[j] + l2 * theta
                            m[j] += (1 - beta1) * (d - m[j])
                            v[j] = beta2 * v[j] + (1 - beta2) * d * d
                            p[j] = theta - stepSize * (m[j] / (v[j].squareRoot() / correction2Root + epsilon))
                        } }
                    }
                }
            }
        }
    }
}
