import Foundation

/// Scratch memory for kernels that need a temporary buffer per call (im2col columns, partial
/// sums), reused across calls so that the steady state allocates nothing.
///
/// A kernel takes one buffer per worker with `withBuffer(_:count:)`; the buffer comes from a
/// free list (at most one per thread that has used one at the same time), grows to the largest
/// size asked for, and goes back to the list afterwards. Buffers are 64-byte aligned.
package final class ScratchBuffer {
    private var bytes: UnsafeMutableRawPointer? = nil
    private var capacity = 0

    deinit { bytes?.deallocate() }

    /// At least `count` elements of `T`, uninitialised.
    private func pointer<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let needed = Swift.max(1, count) * MemoryLayout<T>.stride
        if needed > capacity {
            bytes?.deallocate()
            bytes = UnsafeMutableRawPointer.allocate(byteCount: needed, alignment: 64)
            capacity = needed
        }
        return bytes!.bindMemory(to: T.self, capacity: Swift.max(1, count))
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [ScratchBuffer] = []

    /// Runs `body` with a buffer of at least `count` elements that no other thread is using.
    package static func withBuffer<T, R>(_: T.Type, count: Int, _ body: (UnsafeMutablePointer<T>) -> R) -> R {
        lock.lock()
        let buffer = free.popLast() ?? ScratchBuffer()
        lock.unlock()
        defer {
            lock.lock()
            free.append(buffer)
            lock.unlock()
        }
        return body(buffer.pointer(T.self, count: count))
    }
}
