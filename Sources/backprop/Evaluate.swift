import ArgumentParser
import Backprop
import Foundation

/// `backprop evaluate`: loss, accuracy and confusion matrix of a model on labelled data.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model: loss, accuracy and confusion matrix.",
        discussion: """
        Inputs are standardised with the model's input_mean/input_std. With no --data, a model \
        trained here on the embedded digits is evaluated on the same held-out test split it never \
        saw (use --all for every example).
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var dataOptions: DataOptions

    @Flag(help: "Use every example, not the held-out test split of a model trained on the embedded digits.")
    var all = false

    func run() throws {
        try evaluate()
    }

    func evaluate() throws {
        try dataOptions.check()
        let (file, classifier) = try modelOptions.load()
        if let problem = Self.memoryProblem(classCount: classifier.classCount) {
            throw CommandLineError("\(modelOptions.model): \(problem)")
        }
        let dataset = try dataOptions.load(classCount: classifier.classCount)
        let source = dataOptions.sourceName
        guard dataset.featureCount == classifier.inputCount else {
            throw CommandLineError("\(source): rows have \(dataset.featureCount) features but \(modelOptions.model) expects \(classifier.inputCount)")
        }
        var features = dataset.features, labels = dataset.labels
        var description = "all \(dataset.count) examples"
        if !all, dataOptions.isEmbeddedDigits, file.metadata[ModelMetadataKey.data] == "digits",
           let text = file.metadata[ModelMetadataKey.training],
           let configuration = try? trainingDecoder.decode(TrainingConfiguration.self, from: Data(text.utf8)) {
            if let problem = configuration.problem() {
                throw CommandLineError("\(modelOptions.model): metadata training: \(problem)")
            }
            let split = DataSplit.stratified(labels: labels, validationFraction: configuration.validationFraction,
                                             testFraction: configuration.testFraction, seed: configuration.seed)
            features = features.gatheringRows(split.test)
            labels = split.test.map { labels[$0] }
            description = "the held-out test split (\(labels.count) examples, seed \(configuration.seed))"
        }
        let report = try classifier.evaluate(features, labels: labels)
        let network = classifier.architecture.map { "\($0) on \(classifier.inputShape.map(String.init).joined(separator: "×"))" }
            ?? "\(classifier.layerSizes.map(String.init).joined(separator: "-")) \(classifier.activation.rawValue)"
        print("model \(modelOptions.model): \(network)")
        print("data \(source): \(description)")
        print("loss \(fixed(report.loss))  accuracy \(percent(report.accuracy)) (\(report.correct)/\(report.count))")
        print("confusion matrix (rows: true class, columns: predicted class):")
        print(report.confusionTable())
    }

    /// The confusion matrix of a model with `classCount` classes takes classCount² counts:
    /// refused when that alone exceeds the machine's memory.
    static func memoryProblem(classCount: Int) -> String? {
        let needed = Double(classCount) * Double(classCount) * 8 * 2
        let available = SystemMemory.available
        guard needed > Double(available) else { return nil }
        return "the confusion matrix of its \(classCount) classes needs about \(SystemMemory.describe(needed >= 0x1p62 ? 1 << 62 : Int(needed))) of memory, more than the \(SystemMemory.describe(available)) available"
    }

    var trainingDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
