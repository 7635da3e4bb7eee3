/// Parameter updates as single fused loops over the parameter buffer, in place. Buffers of at
/// least `parallelThreshold` scalars are split into equal ranges over `threads` (by default
/// `Backprop.threadCount`); each element's arithmetic is the same whatever the split.
///
/// Float updates run on the C target's AVX2 or AVX-512 kernels where the instruction set in use
/// has them (`variant`): the same operations in the same order (no fused multiply-adds), so the
/// same results bit for bit as the Swift loops below.
package enum OptimizerKernels {
    /// A Float argument for the C kernels (only called when T is Float).
    @inline(__always)
    package static func f<T>(_ x: T) -> Float { unsafeBitCast(x, to: Float.self) }

    /// Below this many scalars an update stays on one thread.
    package static let parallelThreshold = 1 << 16

    /// SGD without momentum: θ ← θ − η·(g + λθ), one pass, no temporary. With λ = 0 it is
    /// θ ← θ − η·g, eight Float lanes at a time.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func sgdStep<T: TensorScalar>(_ parameters: inout [T], gradient: [T], learningRate: T,
                                         weightDecay: T = 0, threads: Int = kernelThreadCount,
                                         variant: KernelVariant = .active) {
        if weightDecay != 0 {
            var unused: [T] = []
            sgdMomentumStep(&parameters, gradient: gradient, momentumBuffer: &unused, firstStep: true,
                            learningRate: learningRate, momentum: 0, weightDecay: weightDecay, nesterov: false,
                            threads: threads, variant: variant)
            return
        }
        require(parameters.count == gradient.count, "sgdStep: \(gradient.count) gradients for \(parameters.count) parameters")
        let table = KernelVariant.floatTable(T.self, variant)
        parameters.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { g in
                forEachRange(p.count, threads: threads, threshold: parallelThreshold) { range in
                    if let table, let pb = p.baseAddress, let gb = g.baseAddress {
                        table.sgd!(RowKernels.float(pb + range.lowerBound), RowKernels.float(gb + range.lowerBound), range.count,
                                   unsafeBitCast(learningRate, to: Float.self))
                        return
                    }
                    var j = range.lowerBound
                    if T.self == Float.self, let pb = p.baseAddress, let gb = g.baseAddress {
                        // Eight lanes at a time, the scalar loop's operations (no fused
                        // multiply-add), so the result is the same bit for bit.
                        typealias V = SIMD8<Float>
                        let rate = V(repeating: unsafeBitCast(learningRate, to: Float.self))
                        let pr = UnsafeMutableRawPointer(pb), gr = UnsafeRawPointer(gb)
                        while j + 8 <= range.upperBound {
                            let o = j * 4
                            let theta = pr.loadUnaligned(fromByteOffset: o, as: V.self)
                            pr.storeBytes(of: theta - rate * gr.loadUnaligned(fromByteOffset: o, as: V.self),
                                          toByteOffset: o, as: V.self)
                            j += 8
                        }
                    }
                    while j < range.upperBound { p[j] -= learningRate * g[j]; j += 1 }
                }
            }
        }
    }

    /// SGD with weight decay λ and momentum μ (PyTorch's `torch.optim.SGD`, dampening 0), one
    /// pass: d ← g + λθ; with μ > 0, b ← d on the first step, else μb + d, and
    /// θ ← θ − η·(d + μb) (Nesterov) or θ − η·b; with μ = 0, θ ← θ − η·d (`momentumBuffer` unused).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func sgdMomentumStep<T: TensorScalar>(_ parameters: inout [T], gradient: [T], momentumBuffer: inout [T],
                                                 firstStep: Bool, learningRate lr: T, momentum mu: T, weightDecay wd: T,
                                                 nesterov: Bool, threads: Int = kernelThreadCount,
                                                 variant: KernelVariant = .active) {
        let count = parameters.count
        require(gradient.count == count && (mu == 0 || momentumBuffer.count == count),
                "sgdMomentumStep: \(gradient.count) gradients and a momentum buffer of \(momentumBuffer.count) for \(count) parameters")
        let table = KernelVariant.floatTable(T.self, variant)
        parameters.withUnsafeMutableBufferPointer { p in
            momentumBuffer.withUnsafeMutableBufferPointer { b in
                gradient.withUnsafeBufferPointer { g in
                    forEachRange(count, threads: threads, threshold: parallelThreshold) { range in
                        if let table, let pb = p.baseAddress, let gb = g.baseAddress, mu == 0 || b.baseAddress != nil {
                            let buffer = mu == 0 ? nil : b.baseAddress.map { RowKernels.float($0 + range.lowerBound) }
                            table.sgd_momentum!(RowKernels.float(pb + range.lowerBound), RowKernels.float(gb + range.lowerBound), buffer,
                                                range.count, firstStep ? 1 : 0, f(lr), f(mu), f(wd), nesterov ? 1 : 0)
                            return
                        }
                        if mu == 0 {
                            for j in range { p[j] -= lr * (g[j] + wd * p[j]) }
                            return
                        }
                        for j in range {
                            let d = g[j] + wd * p[j]
                            b[j] = firstStep ? d : mu * b[j] + d
                            p[j] -= lr * (nesterov ? d + mu * b[j] : b[j])
                        }
                    }
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
    package static func adamStep<T: TensorScalar>(_ parameters: inout [T], firstMoment: inout [T], secondMoment: inout [T],
                                          gradient: [T], shrink: T, l2: T, beta1: T, beta2: T,
                                          stepSize: T, correction2Root: T, epsilon: T, threads: Int = kernelThreadCount,
                                          variant: KernelVariant = .active) {
        let count = parameters.count
        require(gradient.count == count && firstMoment.count == count && secondMoment.count == count,
                     "adamStep: \(gradient.count) gradients and moments of \(firstMoment.count), \(secondMoment.count) for \(count) parameters")
        let table = KernelVariant.floatTable(T.self, variant)
        parameters.withUnsafeMutableBufferPointer { p in
            firstMoment.withUnsafeMutableBufferPointer { m in
                secondMoment.withUnsafeMutableBufferPointer { v in
                    gradient.withUnsafeBufferPointer { g in
                        forEachRange(count, threads: threads, threshold: parallelThreshold) { range in
                            if let table, let pb = p.baseAddress, let mb = m.baseAddress, let vb = v.baseAddress, let gb = g.baseAddress {
                                let o = range.lowerBound
                                table.adam!(RowKernels.float(pb + o), RowKernels.float(mb + o), RowKernels.float(vb + o),
                                            RowKernels.float(gb + o), range.count, f(shrink), f(l2), f(beta1), f(beta2),
                                            f(stepSize), f(correction2Root), f(epsilon))
                                return
                            }
                            var j = range.lowerBound
                            if T.self == Float.self, let pb = p.baseAddress, let mb = m.baseAddress,
                               let vb = v.baseAddress, let gb = g.baseAddress {
                                // Eight lanes at a time: the same operations in the same order, and
                                // √ and ÷ are correctly rounded in vector form too, so the result is
                                // the scalar loop's, bit for bit.
                                typealias V = SIMD8<Float>
                                func f(_ x: T) -> V { V(repeating: unsafeBitCast(x, to: Float.self)) }
                                let vShrink = f(shrink), vL2 = f(l2), vC1 = f(1 - beta1), vB2 = f(beta2), vC2 = f(1 - beta2)
                                let vStep = f(stepSize), vRoot = f(correction2Root), vEps = f(epsilon)
                                let pr = UnsafeMutableRawPointer(pb), mr = UnsafeMutableRawPointer(mb)
                                let vr = UnsafeMutableRawPointer(vb), gr = UnsafeRawPointer(gb)
                                while j + 8 <= range.upperBound {
                                    let o = j * 4
                                    let theta = pr.loadUnaligned(fromByteOffset: o, as: V.self) * vShrink
                                    let d = gr.loadUnaligned(fromByteOffset: o, as: V.self) + vL2 * theta
                                    var mj = mr.loadUnaligned(fromByteOffset: o, as: V.self)
                                    mj += vC1 * (d - mj)
                                    let vj = vB2 * vr.loadUnaligned(fromByteOffset: o, as: V.self) + vC2 * d * d
                                    mr.storeBytes(of: mj, toByteOffset: o, as: V.self)
                                    vr.storeBytes(of: vj, toByteOffset: o, as: V.self)
                                    pr.storeBytes(of: theta - vStep * (mj / (vj.squareRoot() / vRoot + vEps)), toByteOffset: o, as: V.self)
                                    j += 8
                                }
                            }
                            while j < range.upperBound {
                                let theta = p[j] * shrink
                                let d = g[j] + l2 * theta
                                m[j] += (1 - beta1) * (d - m[j])
                                v[j] = beta2 * v[j] + (1 - beta2) * d * d
                                p[j] = theta - stepSize * (m[j] / (v[j].squareRoot() / correction2Root + epsilon))
                                j += 1
                            }
                        }
                    }
                }
            }
        }
    }
}
