/// The binary elementwise operations with their own kernels.
package enum BinaryOperation: String, Sendable {
    case add, subtract, multiply, divide, power, maximum, minimum
}

/// The unary elementwise operations with their own kernels.
package enum UnaryOperation: String, Sendable {
    case negate, exp, log, tanh, sigmoid, relu, sqrt, erf, abs
    /// 1 where x > 0, else 0 (the derivative of relu; itself constant).
    case positiveStep
    /// sign(x): -1, 0 or 1.
    case sign
}

/// The elementwise kernels. Loops over at least `parallelThreshold` elements are cut into equal
/// ranges over `threads` (by default `Backprop.threadCount`); each element's arithmetic is the
/// same whatever the split.
///
/// Float loops run on the C target's AVX2 or AVX-512 kernels where the instruction set in use
/// has them (`variant`): relu and its VJP, the bias add, add/subtract/multiply/divide on equal
/// shapes or against a scalar — the same operations, so the same results bit for bit — and exp
/// and sigmoid through the polynomial exponential (within 2 ulp of libm; results below
/// e^−87.3 ≈ 1.1e−38 flush to 0). The other operations, Double, and broadcasts other than a
/// scalar run the Swift loops.
package enum ElementwiseKernels {
    /// Below this many elements a loop stays on one thread. Measured (haswell build, two cores,
    /// best of 2000): relu and its VJP on 2¹⁶ and 2¹⁷ Floats gain nothing from a second thread
    /// (8.7 vs 9.5 µs, 16.8 vs 19.5 µs for relu), from 2¹⁸ they do (46 vs 39 µs for the VJP),
    /// and on 2²² Floats two threads take 0.61–0.69 of one thread's time.
    package static let parallelThreshold = 1 << 18

    @inline(__always)
    package static func apply<T: TensorScalar>(_ op: BinaryOperation, _ a: T, _ b: T) -> T {
        switch op {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        case .power: return T.pow(a, b)
        case .maximum: return a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
        case .minimum: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
        }
    }

    @inline(__always)
    package static func loop<T: TensorScalar>(_ a: UnsafePointer<T>, _ da: Int, _ b: UnsafePointer<T>, _ db: Int,
                                      _ o: UnsafeMutablePointer<T>, _ n: Int, _ f: (T, T) -> T) {
        switch (da, db) {
        case (1, 1): for i in 0..<n { o[i] = f(a[i], b[i]) }
        case (1, 0): let bv = b[0]; for i in 0..<n { o[i] = f(a[i], bv) }
        case (0, 1): let av = a[0]; for i in 0..<n { o[i] = f(av, b[i]) }
        default: for i in 0..<n { o[i] = f(a[i * da], b[i * db]) }
        }
    }

    /// out = a ⊙ b with broadcasting; `shape` is the broadcast shape.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func binary<T: TensorScalar>(_ op: BinaryOperation, _ a: [T], _ aShape: [Int],
                                        _ b: [T], _ bShape: [Int], shape: [Int], threads: Int = kernelThreadCount,
                                        variant: KernelVariant = .active) -> [T] {
        let count = shape.reduce(1, *)
        let sa = Broadcasting.strides(of: aShape, broadcastTo: shape)
        let sb = Broadcasting.strides(of: bShape, broadcastTo: shape)
        let table = KernelVariant.floatTable(T.self, variant)
        let code: Int32? = switch op {
        case .add: 0
        case .subtract: 1
        case .multiply: 2
        case .divide: 3
        default: nil
        }
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let o = out.baseAddress!, ap = pa.baseAddress!, bp = pb.baseAddress!
                    func run(_ f: (T, T) -> T) {
                        // The flat cases (same shapes, or one side a scalar) split over the threads.
                        let da = aShape == shape ? 1 : 0, db = bShape == shape ? 1 : 0
                        if (da == 1 || a.count == 1) && (db == 1 || b.count == 1) && da + db > 0 {
                            if let table, let code {
                                let af = RowKernels.float(ap), bf = RowKernels.float(bp), of = RowKernels.float(o)
                                forEachRange(count, threads: threads, threshold: parallelThreshold) { r in
                                    table.binary!(code, af + da * r.lowerBound, da, bf + db * r.lowerBound, db, of + r.lowerBound, r.count)
                                }
                                return
                            }
                            forEachRange(count, threads: threads, threshold: parallelThreshold) { r in
                                loop(ap + da * r.lowerBound, da, bp + db * r.lowerBound, db, o + r.lowerBound, r.count, f)
                            }
                        } else {
                            forEachBroadcastRun(shape: shape, sa, sb) { ia, ib, io, n, da, db in
                                loop(ap + ia, da, bp + ib, db, o + io, n, f)
                            }
                        }
                    }
                    switch op {
                    case .add: run { $0 + $1 }
                    case .subtract: run { $0 - $1 }
                    case .multiply: run { $0 * $1 }
                    case .divide: run { $0 / $1 }
                    default: run { apply(op, $0, $1) }
                    }
                }
            }
            initialized = count
        }
    }

    @inline(__always)
    package static func apply<T: TensorScalar>(_ op: UnaryOperation, _ x: T) -> T {
        switch op {
        case .negate: return -x
        case .exp: return T.exp(x)
        case .log: return T.log(x)
        case .tanh: return T.tanh(x)
        case .sigmoid:
            // Stable on both sides: never exponentiates a large positive number.
            if x >= 0 { return 1 / (1 + T.exp(-x)) }
            let e = T.exp(x)
            return e / (1 + e)
        case .relu: return x > 0 ? x : (x.isNaN ? x : 0)
        case .sqrt: return x.squareRoot()
        case .erf: return T.erf(x)
        case .abs: return Swift.abs(x)
        case .positiveStep: return x > 0 ? 1 : 0
        case .sign: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        }
    }

    /// out[i] = op(x[i]).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func unary<T: TensorScalar>(_ op: UnaryOperation, _ x: [T], threads: Int = kernelThreadCount,
                                       variant: KernelVariant = .active) -> [T] {
        let table = KernelVariant.floatTable(T.self, variant)
        var vector = table?.relu
        switch op {
        case .relu: break
        case .exp: vector = table?.exp
        case .sigmoid: vector = table?.sigmoid
        default: vector = nil
        }
        return [T](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { px in
                guard let o = out.baseAddress, let p = px.baseAddress else { return }
                if let vector {
                    let xf = RowKernels.float(p), yf = RowKernels.float(o)
                    forEachRange(x.count, threads: threads, threshold: parallelThreshold) { r in
                        vector(xf + r.lowerBound, yf + r.lowerBound, r.count)
                    }
                    return
                }
                forEachRange(x.count, threads: threads, threshold: parallelThreshold) { r in
                    switch op {
                    case .negate: for i in r { o[i] = -p[i] }
                    // `v <= 0 ? 0 : v` keeps NaN (NaN <= 0 is false) and is one compare and select:
                    // no branch to mispredict on random signs, and it vectorises.
                    case .relu: for i in r { let v = p[i]; o[i] = v <= 0 ? 0 : v }
                    default: for i in r { o[i] = apply(op, p[i]) }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// The relu VJP in one pass: out_i = g_i where x_i > 0, else 0. `g` may hold a batch of
    /// cotangents (a multiple of x's count); element i of g pairs with element i mod x.count.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func reluBackward<T: TensorScalar>(_ g: [T], input x: [T], threads: Int = kernelThreadCount,
                                              variant: KernelVariant = .active) -> [T] {
        require(x.count == 0 ? g.count == 0 : g.count % x.count == 0, "reluBackward: \(g.count) cotangents for \(x.count) inputs")
        let table = KernelVariant.floatTable(T.self, variant)
        return [T](unsafeUninitializedCapacity: g.count) { out, initialized in
            g.withUnsafeBufferPointer { pg in
                x.withUnsafeBufferPointer { px in
                    let n = x.count
                    guard n > 0, let gp = pg.baseAddress, let op = out.baseAddress, let xp = px.baseAddress else { return }
                    forEachRange(g.count, threads: threads, threshold: parallelThreshold) { r in
                        // The range in runs that stay within one copy of x.
                        var j = r.lowerBound
                        while j < r.upperBound {
                            let i0 = j % n, run = Swift.min(n - i0, r.upperBound - j)
                            let gb = gp + j, ob = op + j, xb = xp + i0
                            if let table {
                                table.relu_backward!(RowKernels.float(gb), RowKernels.float(xb), RowKernels.float(ob), run)
                            } else {
                                for i in 0..<run { ob[i] = xb[i] > 0 ? gb[i] : 0 }
                            }
                            j += run
                        }
                    }
                }
            }
            initialized = g.count
        }
    }

    /// y ← y + b along rows: `b` (length n) added to each row of `y` (length a multiple of n).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    package static func addRows<T: TensorScalar>(_ y: inout [T], _ b: [T], threads: Int = kernelThreadCount,
                                         variant: KernelVariant = .active) {
        let n = b.count
        guard n > 0 else { return }
        let table = KernelVariant.floatTable(T.self, variant)
        y.withUnsafeMutableBufferPointer { py in
            b.withUnsafeBufferPointer { pb in
                guard let yp = py.baseAddress, let bp = pb.baseAddress else { return }
                forEachRange(py.count / n, threads: threads, threshold: Swift.max(1, parallelThreshold / n)) { rows in
                    if let table {
                        table.add_rows!(RowKernels.float(yp + rows.lowerBound * n), RowKernels.float(bp), rows.count, n)
                        return
                    }
                    for r in rows {
                        let row = yp + r * n
                        for j in 0..<n { row[j] += bp[j] }
                    }
                }
            }
        }
    }
}
