import BackpropKernels

/// Which examples each rank trains on: every rank draws the same shuffled global batches (the
/// single-process `Trainer`'s order for the same seed and epoch) and takes its own contiguous
/// part of each.
///
/// - Every rank computes the order from the seed and the epoch alone, so no indices are sent.
/// - The order is reshuffled every epoch; within an epoch the shards of a global batch are
///   disjoint and together are the batch, so every example is used exactly once per epoch.
/// - A global batch of b examples gives rank r the examples ⌊r·b/N⌋ ..< ⌊(r+1)·b/N⌋ of it: the
///   shards differ in size by at most one, and the final, smaller batch of an epoch is split
///   the same way (a rank may get none when b < N). Gradients are weighted by shard size, so
///   uneven shards still give the mean over the global batch.
///
///     let sampler = DistributedSampler(count: 5000, batchSize: 128, seed: 0, rank: 1, size: 2)
///     for shard in sampler.shards(epoch: 0) { … }   // 40 shards: 64 examples each, the last 4
public struct DistributedSampler: Sendable, Equatable {
    /// The number of examples.
    public var count: Int
    /// The global batch size (all ranks together).
    public var batchSize: Int
    /// The seed of the shuffles.
    public var seed: UInt64
    /// The rank whose shards this sampler gives, 0..<size.
    public var rank: Int
    /// N, the number of ranks sharing each global batch.
    public var size: Int

    /// The shards of rank `rank` of `size` for `count` examples in global batches of `batchSize`
    /// (at least 1) shuffled with `seed`. Stops with a message when `rank` is not in 0..<size.
    public init(count: Int, batchSize: Int, seed: UInt64, rank: Int, size: Int) {
        require(batchSize >= 1, "DistributedSampler: batch size must be at least 1, got \(batchSize)")
        require(size >= 1 && (0..<size).contains(rank), "DistributedSampler: rank \(rank) is not one of \(size) ranks")
        self.count = count
        self.batchSize = batchSize
        self.seed = seed
        self.rank = rank
        self.size = size
    }

    /// The shuffled global batches of `epoch` (0-based): exactly those a single-process
    /// `Trainer` with this seed and batch size trains on.
    public func globalBatches(epoch: Int) -> [[Int]] {
        // The same generator as Trainer.trainEpoch.
        var generator = SeededGenerator(seed: seed &+ UInt64(epoch + 1) &* 0x9E37_79B9_7F4A_7C15)
        return shuffledBatches(count: count, batchSize: batchSize, generator: &generator)
    }

    /// This rank's part of each global batch of `epoch` (possibly empty).
    public func shards(epoch: Int) -> [[Int]] {
        globalBatches(epoch: epoch).map { shard(of: $0) }
    }

    /// This rank's part of one global batch.
    public func shard(of batch: [Int]) -> [Int] {
        Array(batch[Self.shardRange(count: batch.count, rank: rank, size: size)])
    }

    /// Rank r's contiguous part ⌊r·count/size⌋ ..< ⌊(r+1)·count/size⌋ of `count` items.
    public static func shardRange(count: Int, rank: Int, size: Int) -> Range<Int> {
        (rank * count / size)..<((rank + 1) * count / size)
    }
}
