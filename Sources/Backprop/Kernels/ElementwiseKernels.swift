/// The binary elementwise operations with their own kernels.
enum BinaryOperation: String, Sendable {
    case add, subtract, multiply, divide, power, maximum, minimum
}

/// The unary elementwise operations with their own kernels.
enum UnaryOperation: String, Sendable {
    case negate, exp, log, tanh, sigmoid, relu, sqrt, erf, abs
    /// 1 where x > 0, else 0 (the derivative of relu; itself constant).
    case positiveStep
    /// sign(x): -1, 0 or 1.
    case sign
}

enum ElementwiseKernels {
    @inline(__always)
    static func apply<T: TensorScalar>(_ op: BinaryOperation, _ a: T, _ b: T) -> T {
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
    static func loop<T: TensorScalar>(_ a: UnsafePointer<T>, _ da: Int, _ b: UnsafePointer<T>, _ db: Int,
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
    static func binary<T: TensorScalar>(_ op: BinaryOperation, _ a: [T], _ aShape: [Int],
                                        _ b: [T], _ bShape: [Int], shape: [Int]) -> [T] {
        let count = shape.reduce(1, *)
        let sa = Broadcasting.strides(of: aShape, broadcastTo: shape)
        let sb = Broadcasting.strides(of: bShape, broadcastTo: shape)
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let o = out.baseAddress!, ap = pa.baseAddress!, bp = pb.baseAddress!
                    func run(_ f: (T, T) -> T) {
                        if aShape == shape && bShape == shape {
                            loop(ap, 1, bp, 1, o, count, f)
                        } else if b.count == 1 && aShape == shape {
                            loop(ap, 1, bp, 0, o, count, f)
                        } else if a.count == 1 && bShape == shape {
                            loop(ap, 0, bp, 1, o, count, f)
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
    static func apply<T: TensorScalar>(_ op: UnaryOperation, _ x: T) -> T {
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
    static func unary<T: TensorScalar>(_ op: UnaryOperation, _ x: [T]) -> [T] {
        [T](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { px in
                switch op {
                case .negate: for i in 0..<x.count { out[i] = -px[i] }
                case .relu: for i in 0..<x.count { let v = px[i]; out[i] = v > 0 ? v : (v.isNaN ? v : 0) }
                default: for i in 0..<x.count { out[i] = apply(op, px[i]) }
                }
            }
            initialized = x.count
        }
    }
}
