import Foundation
import Synchronization
import Testing
@testable import Backprop
import BackpropKernels

/// `parallelFor` hands regions to spinning workers (`WorkerPool`). Whatever the thread count,
/// nesting or number of callers, every index of a region must run exactly once, and the call
/// must return only after all of them have run.
@Suite("Worker pool")
struct WorkerPoolTests {
    /// Counts, per index, how often a region ran it.
    final class Hits: Sendable {
        let counts: Mutex<[Int]>
        init(_ n: Int) { counts = Mutex(Array(repeating: 0, count: n)) }
        func hit(_ i: Int) { counts.withLock { $0[i] += 1 } }
        var all: [Int] { counts.withLock { $0 } }
    }

    @Test("every index runs exactly once, for any count and thread count, region after region")
    func everyIndexOnce() {
        for threads in [2, 3, 5] {
            for count in [2, 3, 7, 64] {
                for _ in 0..<200 {
                    let hits = Hits(count)
                    WorkerPool.shared.run(count, threads: threads) { hits.hit($0) }
                    #expect(hits.all == Array(repeating: 1, count: count), "count \(count), threads \(threads)")
                }
            }
        }
    }

    @Test("the call returns after every index's work is done (writes are visible to the caller)")
    func returnsAfterAllWork() {
        for _ in 0..<500 {
            var output = [Int](repeating: 0, count: 8)
            output.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let out = out
                parallelFor(8) { i in
                    var x = 0
                    for j in 0..<(1000 * (i + 1)) { x &+= j }   // unequal work per index
                    out[i] = x &+ 1
                }
            }
            #expect(output.allSatisfy { $0 != 0 })
        }
    }

    @Test("a region started inside a region runs, on other threads, and both complete")
    func nestedRegions() {
        let outer = Hits(4), inner = Hits(4 * 6)
        parallelFor(4) { i in
            outer.hit(i)
            parallelFor(6) { j in inner.hit(i * 6 + j) }
        }
        #expect(outer.all == Array(repeating: 1, count: 4))
        #expect(inner.all == Array(repeating: 1, count: 24))
    }

    @Test("regions requested from several threads at once all complete, each index once")
    func concurrentCallers() async {
        let callers = 4, regions = 100, count = 5
        let hits = Hits(callers * regions * count)
        await withTaskGroup(of: Void.self) { group in
            for c in 0..<callers {
                group.addTask {
                    for r in 0..<regions {
                        parallelFor(count) { i in hits.hit((c * regions + r) * count + i) }
                    }
                }
            }
        }
        #expect(hits.all == Array(repeating: 1, count: callers * regions * count))
    }

    @Test("a region after workers have gone to sleep wakes them and completes")
    func afterSleep() {
        let hits = Hits(6)
        WorkerPool.shared.run(6, threads: 3) { hits.hit($0) }
        Thread.sleep(forTimeInterval: 0.02)   // well past `WorkerPool.spinDuration` (1 ms)
        WorkerPool.shared.run(6, threads: 3) { hits.hit($0) }
        #expect(hits.all == Array(repeating: 2, count: 6))
    }
}
