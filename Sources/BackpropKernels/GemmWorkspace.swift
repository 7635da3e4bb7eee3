import Foundation

/// Packing buffers for one thread of one GEMM, reused across calls.
///
/// A GEMM takes one workspace per worker from `GemmWorkspace.pool` before its loops start and
/// returns it afterwards, so the hot loops never allocate. Buffers grow to the largest block
/// size seen and are 64-byte aligned (a cache line; also a whole number of SIMD vectors).
package final class GemmWorkspace {
    private var aBytes: UnsafeMutableRawPointer? = nil
    private var aCapacity = 0
    private var bBytes: UnsafeMutableRawPointer? = nil
    private var bCapacity = 0

    deinit {
        aBytes?.deallocate()
        bBytes?.deallocate()
    }

    /// A buffer of at least `count` elements for the packed A block.
    package func aBuffer<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = count * MemoryLayout<T>.stride
        if bytes > aCapacity {
            aBytes?.deallocate()
            aBytes = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            aCapacity = bytes
        }
        return aBytes!.bindMemory(to: T.self, capacity: count)
    }

    /// A buffer of at least `count` elements for the packed B block.
    package func bBuffer<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let bytes = count * MemoryLayout<T>.stride
        if bytes > bCapacity {
            bBytes?.deallocate()
            bBytes = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            bCapacity = bytes
        }
        return bBytes!.bindMemory(to: T.self, capacity: count)
    }

    /// Free workspaces; at most one per thread that has run a GEMM at the same time.
    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [GemmWorkspace] = []

    /// Runs `body` with a workspace no other thread is using.
    package static func withWorkspace<R>(_ body: (GemmWorkspace) -> R) -> R {
        lock.lock()
        let workspace = free.popLast() ?? GemmWorkspace()
        lock.unlock()
        defer {
            lock.lock()
            free.append(workspace)
            lock.unlock()
        }
        return body(workspace)
    }
}
