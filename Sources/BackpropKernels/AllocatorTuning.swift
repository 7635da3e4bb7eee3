#if canImport(Glibc)
import Glibc
#endif

/// Process-wide tuning of the C allocator for workloads that free and re-allocate the same
/// large buffers every step (a training loop, a benchmark).
///
/// glibc serves blocks above a threshold (128 KiB, adapting up to 32 MiB) with fresh `mmap`s and
/// returns the top of the heap to the system once more than twice that is free. A step that
/// allocates a few 16 MiB tensors and frees them then pays for fresh zeroed pages every time:
/// page faults can cost more than the arithmetic. `retainFreedMemory` raises both thresholds,
/// so freed blocks are reused and the resident set settles at the step's peak.
///
/// A library should not change its host's allocator on its own: applications call this (the
/// `backprop` CLI does, for `bench`). A no-op where glibc's `mallopt` is not available.
///
///     AllocatorTuning.retainFreedMemory()   // before the training loop
public enum AllocatorTuning {
    /// Keeps up to `bytes` of freed memory for reuse and serves blocks up to `bytes` from the heap.
    /// Returns whether the allocator accepted the setting.
    @discardableResult
    public static func retainFreedMemory(upTo bytes: Int = 256 << 20) -> Bool {
        #if os(Linux) && canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let value = Int32(clamping: bytes)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3   // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        return mallopt(trimThreshold, value) == 1 && mallopt(mmapThreshold, min(value, 32 << 20)) == 1
        #else
        return false
        #endif
    }
}
