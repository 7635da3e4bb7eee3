import CBackpropKernels
import Dispatch
import Foundation
import Synchronization

/// The threads behind `parallelFor`: workers that wait for the next parallel region by spinning
/// for a while before they sleep, as OpenMP runtimes and OpenBLAS do.
///
/// A training step is a chain of short parallel regions (each GEMM, each elementwise op), often
/// 50–500 µs each. Handing a region to threads that have gone to sleep costs a wake-up per
/// region: with `DispatchQueue.concurrentPerform` a region of 50 µs per thread took about
/// 140 µs on a 2-vCPU VM, because waking an idle virtual CPU is slow. A worker here keeps
/// polling for `spinDuration` after its last region, so the next one starts within a
/// microsecond; only after a longer pause does it block on its semaphore.
///
/// One region runs at a time. A region requested while another is running — from another
/// thread, or from inside a region's body — goes to `DispatchQueue.concurrentPerform` instead,
/// so callers never wait on each other and nested calls cannot deadlock. Which thread runs
/// which index never changes a result: every caller gives each index its own part of the output.
package final class WorkerPool: @unchecked Sendable {
    // `@unchecked Sendable`: the mutable state outside the atomics — `body`, `count`,
    // `helpers` and `workers` — is written only by the thread that holds `busy` (the submitter), before it
    // publishes a region with a releasing store to `state`, and read by a worker only after an
    // acquiring compare-exchange on `state` has claimed an index of that region. The submitter
    // does not touch them again until `finished` says every claimed index has run.

    package static let shared = WorkerPool()

    /// How long an idle worker polls for the next region before it sleeps.
    package static let spinDuration = Duration.microseconds(1000)

    /// The region's generation (high 32 bits) and the next unclaimed index (low 32 bits).
    private let state = Atomic<UInt64>(0)
    /// Indices of the current region that have finished.
    private let finished = Atomic<Int>(0)
    /// Whether a region is running (held by its submitter).
    private let busy = Atomic<Bool>(false)

    private var body: ((Int) -> Void)?
    private var count = 0
    /// How many workers help with the current region (the first ones).
    private var helpers = 0
    private var workers: [Worker] = []

    private final class Worker: @unchecked Sendable {
        // `@unchecked Sendable`: `index` is immutable; the rest are atomics and a semaphore,
        // which are thread-safe.
        let index: Int
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
        init(index: Int) { self.index = index }
    }

    private init() {}

    /// Runs `body(0..<count)` on the calling thread and up to `threads − 1` workers; returns when
    /// every index has run.
    package func run(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        guard count > 1, threads > 1, count < 1 << 31,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            fallback(count, body)
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while workers.count < threads - 1 { startWorker() }
        withoutActuallyEscaping(body) { body in
            self.body = body
            self.count = count
            helpers = threads - 1
            finished.store(0, ordering: .relaxed)
            let generation = (state.load(ordering: .relaxed) >> 32) &+ 1
            state.store(generation << 32, ordering: .sequentiallyConsistent)
            for worker in workers.prefix(threads - 1)
            where worker.sleeping.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged {
                worker.wake.signal()
            }
            work(generation: generation)
            while finished.load(ordering: .acquiring) < count { relax() }
            self.body = nil
        }
    }

    /// Claims and runs indices of region `generation` until none is left.
    private func work(generation: UInt64) {
        var current = state.load(ordering: .acquiring)
        while current >> 32 == generation, Int(current & 0xFFFF_FFFF) < count {
            let (exchanged, original) = state.compareExchange(expected: current, desired: current + 1,
                                                              ordering: .acquiringAndReleasing)
            if exchanged {
                body!(Int(current & 0xFFFF_FFFF))
                finished.add(1, ordering: .releasing)
                current = current + 1
            } else {
                current = original
            }
        }
    }

    private func startWorker() {
        let worker = Worker(index: workers.count)
        workers.append(worker)
        let thread = Thread { [unowned self] in self.loop(worker) }
        thread.name = "backprop-worker"
        thread.start()
    }

    /// A worker's life: wait for a region newer than the last one seen, help with it, repeat.
    private func loop(_ worker: Worker) {
        var seen = state.load(ordering: .acquiring) >> 32
        while true {
            var spinStart: ContinuousClock.Instant? = nil
            var polls = 0
            while state.load(ordering: .acquiring) >> 32 == seen {
                polls += 1
                if polls & 63 != 0 { relax(); continue }
                let now = ContinuousClock.now
                if spinStart == nil { spinStart = now }
                if now - spinStart! < Self.spinDuration { sched_yield(); continue }
                // Sleep, unless a region was published while going to sleep.
                worker.sleeping.store(true, ordering: .sequentiallyConsistent)
                if state.load(ordering: .sequentiallyConsistent) >> 32 != seen,
                   worker.sleeping.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged {
                    break
                }
                worker.wake.wait()
                spinStart = nil
            }
            seen = state.load(ordering: .acquiring) >> 32
            // A worker beyond this region's thread count sits it out (a claim of `seen` would
            // fail anyway once the region has moved on).
            if worker.index < helpers { work(generation: seen) }
        }
    }

    @inline(__always)
    private func relax() { backprop_cpu_relax() }

    private func fallback(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = ConcurrentBody(body)
            DispatchQueue.concurrentPerform(iterations: count) { shared.body($0) }
        }
    }
}

/// A loop body handed to several threads at once by `DispatchQueue.concurrentPerform`.
///
/// `@unchecked Sendable` is sound here because the closure is only called inside
/// `DispatchQueue.concurrentPerform`, which finishes every call before it returns, and each
/// call writes only the part of the output its index owns (see `parallelFor`).
private struct ConcurrentBody: @unchecked Sendable {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}
