/// Examples for classification: one row of features per example and its class label.
///
/// `features` has shape `[count, featureCount]`; `labels[i]` is the class of row `i`, an integer
/// in `0..<classCount`. Readers: `CSV.readLabeled(_:classCount:)` and
/// `LabeledDataset.readIDX(images:labels:classCount:)`.
public struct LabeledDataset {
    /// Limit on the class count inferred from the labels when none is given (guards against a
    /// stray huge label making a giant one-hot matrix downstream).
    public static let maximumInferredClassCount = 1 << 16

    /// The features, shape `[count, featureCount]`.
    public var features: Tensor<Float>
    /// The class of each row, each in `0..<classCount`.
    public var labels: [Int]
    /// The number of classes.
    public var classCount: Int
    /// The shape each row has as an example, when the source says: [1, H, W] for IDX images
    /// and the embedded digits ([1, 8, 8]); nil for CSV rows.
    public var exampleShape: [Int]? = nil

    /// A dataset from parts that already agree.
    ///
    /// - Precondition: `features` is rank 2 with one row per label, and every label is in
    ///   `0..<classCount`.
    public init(features: Tensor<Float>, labels: [Int], classCount: Int) {
        precondition(features.rank == 2 && features.shape[0] == labels.count,
                     "LabeledDataset: features of shape \(features.shape) for \(labels.count) labels")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classCount },
                     "LabeledDataset: a label lies outside 0..<\(classCount)")
        self.features = features
        self.labels = labels
        self.classCount = classCount
    }

    /// The number of examples.
    public var count: Int { labels.count }
    /// The number of features per example.
    public var featureCount: Int { features.shape[1] }

    /// The class count: `classCount` if given (each label must be below it), otherwise one
    /// more than the largest label — provided the data can support that many classes: at most
    /// `maximumInferredClassCount`, and no more classes without an example than with one
    /// (beyond `absentClassAllowance`), so that one stray label (65535 in a file of ten digits)
    /// is an error naming it rather than a network with 65,536 outputs.
    ///
    /// - Parameter location: where label `i` is, for messages (`"line 12"`, `"index 5"`).
    static func checkedClassCount(labels: [Int], classCount: Int?, source: String,
                                  location: (Int) -> String) throws -> Int {
        if let classCount {
            guard classCount > 0 else {
                throw DataError(file: source, problem: "class count must be positive, got \(classCount)")
            }
            if let i = labels.firstIndex(where: { $0 >= classCount }) {
                throw DataError(file: source, problem: "\(location(i)): label \(labels[i]) is not below the class count \(classCount)")
            }
            return classCount
        }
        guard let largest = labels.max(), let i = labels.firstIndex(of: largest) else { return 1 }
        if largest >= maximumInferredClassCount {
            throw DataError(file: source, problem: "\(location(i)): label \(largest) implies more than \(maximumInferredClassCount) classes; pass the class count explicitly")
        }
        let classes = largest + 1
        let present = Set(labels).count
        if classes - present > Swift.max(present, absentClassAllowance) {
            throw DataError(file: source, problem: "\(location(i)): label \(largest) implies \(classes) classes, but only \(present) distinct labels occur in \(labels.count) examples; number the classes 0…\(present - 1)")
        }
        return classes
    }

    /// How many classes below the largest label may have no example whatever the number of
    /// classes present (see `checkedClassCount`).
    public static let absentClassAllowance = 8

    /// The classes in `0..<classCount` that no label names.
    public var absentClasses: [Int] {
        var seen = [Bool](repeating: false, count: classCount)
        for label in labels { seen[label] = true }
        return seen.indices.filter { !seen[$0] }
    }
}
