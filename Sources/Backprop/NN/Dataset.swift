/// Examples that a training loop can draw mini-batches from, by index.
///
/// The trainer owns the order (a seeded shuffle per epoch); a data set only assembles the
/// examples it is asked for into one batch.
public protocol Dataset: Sendable {
    /// What one mini-batch is (for example inputs and labels).
    associatedtype Batch
    /// The number of examples.
    var count: Int { get }
    /// The examples at `indices`, in that order, as one batch.
    func batch(_ indices: [Int]) -> Batch
}

/// Inputs with one integer class label each: a classification data set.
///
/// `inputs` has the examples along its first axis ([N, features], or [N, C, H, W] for images).
public struct LabeledExamples<Scalar: TensorScalar>: Dataset {
    /// The examples along the first axis: [N, …].
    public var inputs: Tensor<Scalar>
    /// The class of each example, N of them.
    public var labels: [Int]

    /// - Throws: `ModelError.inputMismatch` when the inputs do not hold one example per label.
    public init(inputs: Tensor<Scalar>, labels: [Int]) throws {
        guard inputs.rank >= 1, inputs.shape[0] == labels.count else {
            throw ModelError.inputMismatch(expected: [labels.count], found: Array(inputs.shape.prefix(1)))
        }
        self.inputs = inputs
        self.labels = labels
    }

    /// N, the number of examples.
    public var count: Int { labels.count }

    /// The rows of `inputs` at `indices` ([B, …]) with their labels, in the order of `indices`.
    public func batch(_ indices: [Int]) -> LabeledBatch<Scalar> {
        LabeledBatch(inputs: inputs.gatheringRows(indices), labels: indices.map { labels[$0] })
    }

    /// The examples at `indices` as a data set of their own (a split).
    public func subset(_ indices: [Int]) -> LabeledExamples {
        LabeledExamples(validated: inputs.gatheringRows(indices), labels: indices.map { labels[$0] })
    }

    init(validated inputs: Tensor<Scalar>, labels: [Int]) {
        self.inputs = inputs
        self.labels = labels
    }
}

/// One mini-batch of labelled examples.
public struct LabeledBatch<Scalar: TensorScalar>: Sendable {
    /// [B, …].
    public var inputs: Tensor<Scalar>
    /// B class labels.
    public var labels: [Int]

    /// A batch of inputs [B, …] and their B labels (not checked against each other).
    public init(inputs: Tensor<Scalar>, labels: [Int]) {
        self.inputs = inputs
        self.labels = labels
    }
}
