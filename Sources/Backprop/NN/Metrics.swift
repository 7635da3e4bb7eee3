/// Classification results on a set of examples: the mean loss, accuracy and confusion matrix.
public struct ClassificationReport: Sendable {
    /// Mean cross-entropy over the examples.
    public var loss: Double
    /// `confusion[t][p]` counts examples of true class t predicted as p.
    public var confusion: [[Int]]

    /// The number of examples.
    public var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    /// The number predicted correctly (the diagonal).
    public var correct: Int { confusion.indices.reduce(0) { $0 + confusion[$1][$1] } }
    /// correct / count (0 for no examples).
    public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }

    /// A confusion matrix from true and predicted labels.
    public static func confusionMatrix(labels: [Int], predictions: [Int], classCount: Int) -> [[Int]] {
        var m = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for (t, p) in zip(labels, predictions) { m[t][p] += 1 }
        return m
    }

    /// The matrix as aligned text: a header row of predicted classes, one row per true class.
    public func confusionTable() -> String {
        let k = confusion.count
        let width = Swift.max(String(confusion.flatMap { $0 }.max() ?? 0).count, String(k - 1).count, 3) + 1
        func pad(_ s: String) -> String { String(repeating: " ", count: Swift.max(width - s.count, 0)) + s }
        var lines = ["true\\pred" + (0..<k).map { pad(String($0)) }.joined()]
        for t in 0..<k {
            let label = String(t)
            lines.append(label + String(repeating: " ", count: 9 - label.count) + confusion[t].map { pad(String($0)) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}

extension ClassificationReport {
    /// Mean cross-entropy and the confusion matrix of a model whose outputs are logits [N, C].
    public init<Model: Layer>(model: Model, data: LabeledExamples<Model.Scalar>) {
        let z = withoutDerivative { model(data.inputs) }
        let classCount = z.shape.last ?? 0
        let loss = data.count == 0 ? Double.nan
            : Double(Loss.softmaxCrossEntropy(logits: z, labels: data.labels).scalar)
        self.init(loss: loss, confusion: Self.confusionMatrix(labels: data.labels, predictions: data.count == 0 ? [] : z.argmaxRows(),
                                                             classCount: classCount))
    }

    /// The loss and accuracy, as a training loop reports them.
    public var evaluation: Evaluation { Evaluation(loss: loss, accuracy: accuracy) }
}
