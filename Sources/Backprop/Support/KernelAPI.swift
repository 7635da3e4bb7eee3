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

// The same types under this module's name, so they are documented with the library
// (Backprop.TensorScalar is BackpropKernels.TensorScalar).

/// The element types a ``Tensor`` can hold: `Float` and `Double`.
///
/// `Real` (swift-numerics) supplies `exp`, `log`, `tanh`, … generically; the kernels are
/// specialised for both conforming types, so generic code stays fast. Each type names its
/// safetensors dtype as `dtypeName` (`"F32"`, `"F64"`).
public typealias TensorScalar = BackpropKernels.TensorScalar

/// A pair of extents along (height, width): a kernel size, stride, padding or dilation.
/// An integer literal means the same value along both axes (`stride: 2`).
public typealias Size2D = BackpropKernels.Size2D

/// The instruction set the hot kernels run on (`baseline`, `avx2` or `avx512`), chosen once per
/// process from the CPU's feature flags: `KernelISA.active` is the one in use,
/// `KernelISA.supported` the best this CPU allows; `BACKPROP_ISA` picks a lower one.
///
///     print(KernelISA.active)   // "avx2" on a Zen 3 server
public typealias KernelISA = BackpropKernels.KernelISA

/// Matrix multiply on raw row-major buffers, no graph, no shapes, no checks:
/// C = op(A)·op(B), or C += op(A)·op(B), with op(A) m×k and op(B) k×n
/// (`Gemm.multiply(transposeA:transposeB:m:n:k:a:lda:b:ldb:c:ldc:accumulate:)`).
/// `Gemm.blas` chooses the backend and `Gemm.backendName` names it.
public typealias Gemm = BackpropKernels.Gemm

/// Which system BLAS, if any, `Gemm` hands its work to: `.automatic` (the default), `.off`, or
/// `.library(path)`. The initial value comes from the `BACKPROP_BLAS` environment variable.
public typealias BLASPreference = BackpropKernels.BLASPreference

/// Process-wide tuning of the C allocator for loops that free and re-allocate the same large
/// buffers every step: `AllocatorTuning.retainFreedMemory(upTo:)`, which applications call
/// (the `backprop` CLI does, for `bench`).
public typealias AllocatorTuning = BackpropKernels.AllocatorTuning

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
