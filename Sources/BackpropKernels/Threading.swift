import Dispatch
import Foundation

/// The number of threads the kernels use unless a call says otherwise (at least 1).
///
/// The core library's public `threadCount` (the property users set, as `Backprop.threadCount`)
/// reads and writes the same setting, `KernelSettings.shared.threadCount`.
package var kernelThreadCount: Int { KernelSettings.shared.threadCount }

/// Process-wide kernel settings, read once from the environment and guarded by a lock.
package final class KernelSettings: @unchecked Sendable {
    package static let shared = KernelSettings()

    private let lock = NSLock()
    private var _threadCount: Int

    private init() {
        let environment = ProcessInfo.processInfo.environment
        _threadCount = KernelSettings.parseThreadCount(environment["BACKPROP_THREADS"])
            ?? max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// A positive integer from `BACKPROP_THREADS`, or nil when unset or malformed.
    package static func parseThreadCount(_ text: String?) -> Int? {
        guard let text, let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 1 else {
            return nil
        }
        return value
    }

    package var threadCount: Int {
        get { lock.lock(); defer { lock.unlock() }; return _threadCount }
        set { lock.lock(); _threadCount = newValue; lock.unlock() }
    }
}

/// Runs `body(0..<count)` with the iterations spread over up to `count` threads (the caller and
/// the `WorkerPool`'s workers); `count == 1` runs inline.
///
/// `body` is called concurrently from several threads. Every caller in the library gives each
/// iteration its own disjoint part of the output (a row block, a range of elements) and only
/// reads shared inputs, which is what makes the concurrent calls safe; the call returns only
/// after every iteration has finished, so nothing outlives it.
@inline(__always)
package func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
        body(0)
    } else {
        WorkerPool.shared.run(count, threads: count, body)
    }
}

/// Runs `body` over `0..<count` cut into equal contiguous ranges, one per thread (up to
/// `threads`), or as one range when `count` is below `threshold`, where a loop is faster on one
/// thread than the hand-off costs. Every index is in exactly one range, so an elementwise
/// result does not depend on the split.
@inline(__always)
package func forEachRange(_ count: Int, threads: Int, threshold: Int, _ body: (Range<Int>) -> Void) {
    let workers = count < threshold ? 1 : Swift.min(threads, count)
    if workers <= 1 { body(0..<count); return }
    parallelFor(workers) { w in body((w * count / workers)..<((w + 1) * count / workers)) }
}
