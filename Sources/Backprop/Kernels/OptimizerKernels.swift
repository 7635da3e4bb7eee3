/// Parameter updates as single fused loops over the parameter buffer, in place.
enum OptimizerKernels {
    /// Plain SGD: θ ← θ − η·g, one pass, no temporary.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func sgdStep<T: TensorScalar>(_ parameters: inout [T], gradient: [T], learningRate: T) {
        precondition(parameters.count == gradient.count, "sgdStep: \(gradient.count) gradients for \(parameters.count) parameters")
        parameters.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { g in
                for i in 0..<p.count { p[i] -= learningRate * g[i] }
            }
        }
    }
}
