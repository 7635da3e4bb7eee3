import BackpropKernels

/// Which examples go to training, validation and test: a seeded, stratified split.
///
/// Each class is shuffled on its own and cut in the same proportions, so every split has
/// (up to rounding) the class balance of the whole set. The same labels and seed always give
/// the same split. Index lists are sorted ascending.
public struct DataSplit: Equatable, Sendable {
    /// The indices of the training examples, ascending.
    public var train: [Int]
    /// The indices of the validation examples, ascending.
    public var validation: [Int]
    /// The indices of the test examples, ascending.
    public var test: [Int]

    /// Splits examples `0..<labels.count` by class: ⌊n·testFraction⌉ of each class's n examples
    /// to test, ⌊n·validationFraction⌉ to validation, the rest to training.
    public static func stratified(labels: [Int], validationFraction: Double, testFraction: Double,
                                  seed: UInt64) -> DataSplit {
        require(validationFraction >= 0 && testFraction >= 0 && validationFraction + testFraction < 1,
                     "DataSplit: fractions \(validationFraction) + \(testFraction) must be ≥ 0 and < 1")
        var byClass: [Int: [Int]] = [:]
        for (i, label) in labels.enumerated() { byClass[label, default: []].append(i) }
        var generator = SeededGenerator(seed: seed ^ 0x5EED_5B11_7000_0000)
        var split = DataSplit(train: [], validation: [], test: [])
        for label in byClass.keys.sorted() {
            var members = byClass[label]!
            shuffle(&members, using: &generator)
            let n = Double(members.count)
            let nTest = Int((n * testFraction).rounded())
            let nValidation = Swift.min(Int((n * validationFraction).rounded()), members.count - nTest)
            split.test += members[0..<nTest]
            split.validation += members[nTest..<(nTest + nValidation)]
            split.train += members[(nTest + nValidation)...]
        }
        split.train.sort(); split.validation.sort(); split.test.sort()
        return split
    }
}

/// Fisher–Yates with a `SeededGenerator`, defined here so that the order is the same on every
/// platform and Swift version (the standard library's `shuffle(using:)` does not promise that).
public func shuffle<T>(_ array: inout [T], using generator: inout SeededGenerator) {
    guard array.count > 1 else { return }
    for i in stride(from: array.count - 1, to: 0, by: -1) {
        let j = Int(generator.next() % UInt64(i + 1))
        array.swapAt(i, j)
    }
}

/// Mini-batches of example indices for one epoch: a seeded permutation of `0..<count` cut into
/// runs of `batchSize` (the last batch may be smaller, as PyTorch's `DataLoader`).
public func shuffledBatches(count: Int, batchSize: Int, generator: inout SeededGenerator) -> [[Int]] {
    require(batchSize > 0, "shuffledBatches: batch size must be positive")
    var order = Array(0..<count)
    shuffle(&order, using: &generator)
    return stride(from: 0, to: count, by: batchSize).map { Array(order[$0..<Swift.min($0 + batchSize, count)]) }
}

/// Per-feature standardisation x′ = (x − mean)/std, fitted on training rows only.
///
/// `std` is the population standard deviation; a constant feature (std < 10⁻⁶·(1 + |mean|),
/// such as the always-blank corner pixels of the digits) gets std = 1, so it maps to 0 instead
/// of dividing by zero. The same formula applied by hand in PyTorch gives the same inputs.
public struct Standardization: Equatable, Sendable {
    /// The mean of each feature over the training rows.
    public var mean: [Float]
    /// The population standard deviation of each feature over the training rows (1 for a constant
    /// feature).
    public var std: [Float]

    /// The map x′ = (x − mean)/std with the given per-feature values; `mean` and `std` must have the
    /// same count, or the initialiser stops with a message.
    public init(mean: [Float], std: [Float]) {
        require(mean.count == std.count, "Standardization: \(mean.count) means for \(std.count) deviations")
        self.mean = mean
        self.std = std
    }

    /// The identity map for `featureCount` features (mean 0, std 1).
    public static func identity(featureCount: Int) -> Standardization {
        Standardization(mean: Array(repeating: 0, count: featureCount), std: Array(repeating: 1, count: featureCount))
    }

    /// Fits mean and std on the rows of `features` [n, d] (accumulated in Double).
    public static func fitted(to features: Tensor<Float>) -> Standardization {
        require(features.rank == 2 && features.shape[0] > 0, "Standardization: needs a non-empty [n, d] matrix, got \(features.shape)")
        let n = features.shape[0], d = features.shape[1]
        var sum = [Double](repeating: 0, count: d), sumSq = [Double](repeating: 0, count: d)
        for r in 0..<n { for c in 0..<d { let v = Double(features.scalars[r * d + c]); sum[c] += v } }
        let mean = sum.map { $0 / Double(n) }
        for r in 0..<n { for c in 0..<d { let v = Double(features.scalars[r * d + c]) - mean[c]; sumSq[c] += v * v } }
        let std = zip(sumSq, mean).map { s, m -> Double in
            let sd = (s / Double(n)).squareRoot()
            return sd < 1e-6 * (1 + Swift.abs(m)) ? 1 : sd
        }
        return Standardization(mean: mean.map(Float.init), std: std.map(Float.init))
    }

    /// One mean and std per channel of images given as rows [n, C·H·W] (channel c is the
    /// c-th run of H·W features), each fitted on every value of its channel in the rows, and
    /// written out per feature — so `apply` and the model file's per-feature arrays serve both.
    /// A constant channel gets std 1, as a constant feature does in `fitted(to:)`.
    public static func fittedPerChannel(to features: Tensor<Float>, channels: Int) -> Standardization {
        require(features.rank == 2 && features.shape[0] > 0 && channels > 0 && features.shape[1] % channels == 0,
                "Standardization: needs a non-empty [n, C·H·W] matrix for \(channels) channels, got \(features.shape)")
        let n = features.shape[0], d = features.shape[1], pixels = d / channels
        var mean = [Float](), std = [Float]()
        for c in 0..<channels {
            var sum = 0.0
            for r in 0..<n { for i in 0..<pixels { sum += Double(features.scalars[r * d + c * pixels + i]) } }
            let m = sum / Double(n * pixels)
            var squares = 0.0
            for r in 0..<n { for i in 0..<pixels { let v = Double(features.scalars[r * d + c * pixels + i]) - m; squares += v * v } }
            let sd = (squares / Double(n * pixels)).squareRoot()
            mean += [Float](repeating: Float(m), count: pixels)
            std += [Float](repeating: Float(sd < 1e-6 * (1 + Swift.abs(m)) ? 1 : sd), count: pixels)
        }
        return Standardization(mean: mean, std: std)
    }

    /// The number of features.
    public var featureCount: Int { mean.count }

    /// (x − mean)/std for every row of x [n, d] (a constant).
    public func apply(_ x: Tensor<Float>) -> Tensor<Float> {
        require(x.rank == 2 && x.shape[1] == mean.count, "Standardization: input shape \(x.shape) does not have \(mean.count) features")
        let d = mean.count
        var s = x.scalars
        for i in s.indices { let c = i % d; s[i] = (s[i] - mean[c]) / std[c] }
        return Tensor(shape: x.shape, scalars: s)
    }
}
