import BackpropKernels

// The kernels live in the BackpropKernels module, whose API for this library is `package`
// access. The few public types users of `Backprop` need from it are re-exported here, by name,
// so `import Backprop` is all a client writes; the rest of the kernels stays out of the API.
@_exported import protocol BackpropKernels.TensorScalar
@_exported import struct BackpropKernels.Size2D
@_exported import enum BackpropKernels.KernelISA
@_exported import enum BackpropKernels.Gemm
@_exported import enum BackpropKernels.BLASPreference
@_exported import enum BackpropKernels.AllocatorTuning
// `require`, the check with a message that survives release builds, is `package` access: the
// package's other modules (explain, benchmarks) use it too; clients of the product do not see it.
@_exported import func BackpropKernels.require

/// The number of threads the kernels may use (at least 1).
///
/// Starts as the `BACKPROP_THREADS` environment variable when it holds a positive integer,
/// otherwise `ProcessInfo.processInfo.activeProcessorCount`. Setting it affects later kernel
/// calls, including the system BLAS when one is active (via `openblas_set_num_threads`).
/// Small problems run on one thread whatever this says.
///
/// This is a module-level property, so clients write `Backprop.threadCount = 1`. (A type named
/// `Backprop` would shadow the module's own name and break `Backprop.Tensor` in client code.)
///
///     Backprop.threadCount = 1   // deterministic single-core timing
public var threadCount: Int {
    get { KernelSettings.shared.threadCount }
    set {
        require(newValue >= 1, "Backprop.threadCount must be at least 1, got \(newValue)")
        KernelSettings.shared.threadCount = newValue
    }
}
