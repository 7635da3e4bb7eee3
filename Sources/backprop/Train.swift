import ArgumentParser
import Backprop
import Foundation

/// `backprop train`: trains a classifier (an MLP, or a network from an `--arch` spec) and reports test accuracy.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a classifier: an MLP (default: 64-128-10 ReLU with Adam on the embedded 8×8 digits) or, with --arch, a CNN.",
        discussion: """
        Splits the data (seeded, stratified: 70% train, 10% validation, 20% test), standardises \
        inputs with training-split statistics, trains, and prints test accuracy and a confusion \
        matrix. On a terminal a progress bar shows epoch, step, loss, examples/s and ETA.
        """)

    @OptionGroup var dataOptions: DataOptions

    @Option(help: ArgumentHelp("Layer widths, input first and classes last (default: 64,128,10 for the digits; features,128,classes otherwise).", valueName: "sizes"))
    var layers: String?

    @Option(help: "Activation between linear layers: relu, tanh, sigmoid or gelu.")
    var activation: Activation?

    @Option(help: ArgumentHelp("The network as a spec instead of --layers, e.g. \"conv 16 3 pad 1, relu, maxpool 2, flatten, linear\" (a last linear without a width gets one output per class), or a preset: \(NetworkArchitecture.presets.map(\.name).joined(separator: ", ")). See the README.", valueName: "spec"))
    var arch: String?

    @Option(help: ArgumentHelp("The shape of one example for --arch, as C,H,W (CSV rows; IDX images are 1,H,W and the digits 1,8,8 by themselves).", valueName: "C,H,W"))
    var inputShape: String?

    @Option(help: "Inverse temperature β of the output softmax (probabilities = softmax(β·logits)).")
    var beta: Float?

    @Flag(help: "Learn β with the weights.")
    var learnBeta = false

    @Option(help: "Optimizer: sgd, adam or adamw.")
    var optimizer: OptimizerKind?

    @Option(help: "Learning rate (default: 0.001 for adam/adamw, 0.05 for sgd).")
    var lr: Double?

    @Option(help: "SGD momentum.")
    var momentum: Double?

    @Flag(help: "SGD with Nesterov momentum.")
    var nesterov = false

    @Option(help: "Weight decay (default: 0; 0.01 for adamw).")
    var weightDecay: Double?

    @Option(help: "Learning-rate schedule: constant, step or cosine.")
    var schedule: ScheduleKind?

    @Option(help: "Step schedule: epochs between decays.")
    var stepSize: Int?

    @Option(help: "Step schedule: factor applied at each decay.")
    var gamma: Double?

    @Option(help: "Number of epochs (default: 20).")
    var epochs: Int?

    @Option(help: "Mini-batch size (default: 32).")
    var batchSize: Int?

    @Option(help: "Seed for initialisation, the data split and shuffling (default: 0).")
    var seed: UInt64?

    @Option(help: "Label smoothing ε in [0, 1].")
    var labelSmoothing: Double?

    @Option(help: "Clip gradients to this global L2 norm.")
    var clipNorm: Double?

    @Option(help: ArgumentHelp("Write the trained model here (safetensors, PyTorch nn.Sequential names), only if training succeeds.", valueName: "model.safetensors"))
    var out: String?

    @Option(help: ArgumentHelp("Write a checkpoint (weights, optimizer state, epoch) here after every epoch (default: <out>.checkpoint.safetensors when --out is given).", valueName: "path"))
    var checkpoint: String?

    @Option(help: ArgumentHelp("Continue training from this checkpoint (its configuration is used; --epochs may extend it).", valueName: "checkpoint"))
    var resume: String?

    @Option(help: ArgumentHelp("Write per-epoch metrics as JSON Lines.", valueName: "file.jsonl"))
    var metrics: String?

    @Option(help: ArgumentHelp("Write an SVG plot of losses and validation accuracy.", valueName: "file.svg"))
    var plot: String?

    enum ScheduleKind: String, ExpressibleByArgument, CaseIterable { case constant, step, cosine }

    func run() throws {
        try train()
    }

    /// The configuration from the options (defaults filled in), for a fresh run.
    func makeConfiguration(featureCount: Int, classCount: Int, exampleShape: [Int]? = nil) throws -> TrainingConfiguration {
        var c = TrainingConfiguration()
        if let arch {
            let shape = try parsedInputShape() ?? exampleShape ?? [featureCount]
            guard shape.reduce(1, *) == featureCount else {
                throw CommandLineError("--input-shape \(shape.map(String.init).joined(separator: ",")) has \(shape.reduce(1, *)) values, but the data have \(featureCount) features per row")
            }
            let output: [Int]
            do {
                let resolved = try NetworkArchitecture(parsing: arch).resolved(classes: classCount)
                output = try resolved.shapes(inputShape: shape).last ?? []
                c.architecture = resolved.description
            } catch let error as ModelError {
                throw CommandLineError("--arch: \(Self.reason(error))")
            }
            guard output.count == 1 else {
                throw CommandLineError("--arch: the network's output must be one score per class (end with flatten and linear), got \(output.map(String.init).joined(separator: "×"))")
            }
            guard output[0] >= classCount else {
                throw CommandLineError("--arch ends with \(output[0]) outputs, but the data have \(classCount) classes")
            }
            c.inputShape = shape
        }
        if let layers {
            let parts = layers.split(separator: ",", omittingEmptySubsequences: false)
            let sizes = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard sizes.count == parts.count, sizes.count >= 2, sizes.allSatisfy({ $0 > 0 }) else {
                throw CommandLineError("--layers \(layers): expected at least two positive integers separated by commas, e.g. 64,128,10")
            }
            c.layerSizes = sizes
        } else {
            c.layerSizes = [featureCount, 128, classCount]
        }
        if let activation { c.activation = activation }
        if let beta { c.beta = beta }
        c.learnBeta = learnBeta
        if let optimizer { c.optimizer = optimizer }
        c.learningRate = lr ?? (c.optimizer == .sgd ? 0.05 : 1e-3)
        if let momentum { c.momentum = momentum }
        c.nesterov = nesterov
        c.weightDecay = weightDecay
        if let epochs { c.epochs = epochs }
        switch schedule ?? .constant {
        case .constant: c.schedule = .constant
        case .step: c.schedule = .step(every: stepSize ?? max(c.epochs / 3, 1), factor: gamma ?? 0.1)
        case .cosine: c.schedule = .cosine(epochs: c.epochs, minimum: 0)
        }
        if let batchSize { c.batchSize = batchSize }
        if let seed { c.seed = seed }
        if let labelSmoothing { c.labelSmoothing = labelSmoothing }
        c.clipNorm = clipNorm
        if let problem = c.problem() { throw CommandLineError(Self.message(for: problem)) }
        return c
    }

    /// The reason in an architecture error, without the error's own prefix.
    static func reason(_ error: ModelError) -> String {
        if case let .invalidArchitecture(reason) = error { return reason }
        return "\(error)"
    }

    /// `--input-shape C,H,W` as integers, or nil when not given.
    func parsedInputShape() throws -> [Int]? {
        guard let inputShape else { return nil }
        let parts = inputShape.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == parts.count, values.count == 3 || values.count == 1, values.allSatisfy({ $0 > 0 }) else {
            throw CommandLineError("--input-shape \(inputShape): expected C,H,W (three positive integers, e.g. 1,28,28)")
        }
        return values
    }

    /// Option checks that need no data: done before reading anything.
    func checkArguments() throws {
        try dataOptions.check()
        if let arch {
            if layers != nil { throw CommandLineError("--arch and --layers both describe the network; give one") }
            if activation != nil { throw CommandLineError("--activation is for --layers; write activations into --arch") }
            do { _ = try NetworkArchitecture(parsing: arch) } catch let error as ModelError {
                throw CommandLineError("--arch: \(Self.reason(error))")
            }
        } else if inputShape != nil {
            throw CommandLineError("--input-shape needs --arch")
        }
        _ = try parsedInputShape()
        if let epochs, epochs < 1 { throw CommandLineError("--epochs must be at least 1, got \(epochs)") }
        if let batchSize, batchSize < 1 { throw CommandLineError("--batch-size must be at least 1, got \(batchSize)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw CommandLineError("--lr must be a positive number, got \(lr)") }
        if let stepSize, stepSize < 1 { throw CommandLineError("--step-size must be at least 1, got \(stepSize)") }
        if (stepSize != nil || gamma != nil) && schedule != .step { throw CommandLineError("--step-size and --gamma need --schedule step") }
        var outputs: [(String, String)] = []
        if let out { outputs.append((out, "--out")) }
        if let checkpointPath { outputs.append((checkpointPath, "--checkpoint")) }
        if let metrics { outputs.append((metrics, "--metrics")) }
        if let plot { outputs.append((plot, "--plot")) }
        for (path, option) in outputs { try checkWritable(path, option: option) }
        let paths = outputs.map { URL(fileURLWithPath: $0.0).standardizedFileURL.path }
        if Set(paths).count != paths.count { throw CommandLineError("--out, --checkpoint, --metrics and --plot must name different files") }
        if let resume, !FileManager.default.fileExists(atPath: resume) {
            throw CommandLineError("\(resume): cannot open: No such file or directory")
        }
    }

    /// Where checkpoints go: --checkpoint, else beside --out, else the resumed file.
    var checkpointPath: String? {
        if let checkpoint { return checkpoint }
        if let out {
            let base = out.hasSuffix(".safetensors") ? String(out.dropLast(".safetensors".count)) : out
            return base + ".checkpoint.safetensors"
        }
        return resume
    }

    func train() throws {
        try checkArguments()
        let dataset = try dataOptions.load()
        let source = dataOptions.sourceName
        var trainer: ClassifierTraining
        if let resume {
            trainer = try Self.mappingErrors(source: source) {
                try ClassifierTraining(resumingFrom: resume, features: dataset.features, labels: dataset.labels,
                                       classCount: dataset.classCount, epochs: epochs)
            }
            print("resuming \(resume) after epoch \(trainer.epochsCompleted) of \(trainer.configuration.epochs) (configuration from the checkpoint)")
        } else {
            let configuration = try makeConfiguration(featureCount: dataset.featureCount, classCount: dataset.classCount,
                                                      exampleShape: dataset.exampleShape)
            trainer = try Self.mappingErrors(source: source) {
                try ClassifierTraining(configuration: configuration, features: dataset.features, labels: dataset.labels,
                                       classCount: dataset.classCount)
            }
        }
        let c = trainer.configuration
        print("data \(source): \(dataset.count) examples, \(dataset.featureCount) features, \(dataset.classCount) classes; "
              + "split \(trainer.count(.train))/\(trainer.count(.validation))/\(trainer.count(.test)) (train/val/test), seed \(c.seed)")
        let network = c.architecture.map { "\($0) on \(trainer.classifier.inputShape.map(String.init).joined(separator: "×"))" }
            ?? "\(c.layerSizes.map(String.init).joined(separator: "-")) \(c.activation.rawValue)"
        print("model \(network), \(trainer.classifier.network.parameterCount) parameters; "
              + "\(c.optimizer.rawValue) lr \(c.learningRate), batch \(c.batchSize), \(c.epochs) epochs")
        flushOutput()

        let dataMetadata = [ModelMetadataKey.data: source, ModelMetadataKey.training: try trainingJSON(c)]
        let stepsPerEpoch = (trainer.count(.train) + c.batchSize - 1) / c.batchSize
        let reporter = ProgressReporter(live: standardOutputIsTerminal, stepsPerEpoch: stepsPerEpoch,
                                        remainingEpochs: c.epochs - trainer.epochsCompleted)
        var savedCheckpointEpoch: Int? = resume != nil ? trainer.epochsCompleted : nil
        // Metrics and plot files are refreshed after every epoch so a long run can be watched —
        // but only when they are new: a file that existed before the run is replaced only when the
        // run succeeds, so a run that fails or diverges loses nothing.
        let isNew = { (path: String?) in path.map { !FileManager.default.fileExists(atPath: $0) } ?? false }
        let metricsPerEpoch = isNew(metrics), plotPerEpoch = isNew(plot)
        while !trainer.isFinished {
            let record: EpochRecord
            do {
                record = try trainer.trainEpoch(progress: reporter.step)
            } catch let error as TrainingError {
                reporter.clear()
                var message = Self.message(for: error)
                if let path = checkpointPath, let epoch = savedCheckpointEpoch {
                    message += "; the last good weights (after epoch \(epoch)) are in \(path)"
                }
                if let out { message += "; \(out) was not written" }
                throw CommandLineError(message)
            }
            reporter.epoch(record, of: c.epochs)
            if let path = checkpointPath {
                try trainer.writeCheckpoint(to: path, extraMetadata: [ModelMetadataKey.data: source])
                savedCheckpointEpoch = trainer.epochsCompleted
            }
            if let metrics, metricsPerEpoch { try AtomicFile.write(Data(metricsLines(trainer.history, final: nil).utf8), to: metrics) }
            if let plot, plotPerEpoch { try writePlot(trainer.history, source: source, to: plot) }
        }
        let test = trainer.evaluate(.test)
        let totalSeconds = trainer.history.reduce(0) { $0 + $1.seconds }
        if let metrics {
            try AtomicFile.write(Data(metricsLines(trainer.history, final: (test, totalSeconds)).utf8), to: metrics)
        }
        if let plot { try writePlot(trainer.history, source: source, to: plot) }
        if let out {
            try trainer.classifier.write(to: out, metadata: dataMetadata)
        }
        reporter.clear()
        print("")
        print("test accuracy \(percent(test.accuracy)) (\(test.correct)/\(test.count)), test loss \(fixed(test.loss)), "
              + "\(c.epochs) epochs in \(String(format: "%.2f", totalSeconds))s")
        print("confusion matrix (rows: true class, columns: predicted class):")
        print(test.confusionTable())
        if let out { print("wrote \(out)") }
        if let path = checkpointPath { print("checkpoint \(path)") }
        if let metrics { print("wrote \(metrics)") }
        if let plot { print("wrote \(plot)") }
    }

    func writePlot(_ history: [EpochRecord], source: String, to path: String) throws {
        try AtomicFile.write(Data(TrainingPlot.svg(history: history, title: "backprop train: \(source)").utf8), to: path)
    }

    /// The JSON Lines text: one object per epoch, then (when finished) the test result.
    func metricsLines(_ history: [EpochRecord], final: (ClassificationReport, Double)?) -> String {
        var lines = history.map { r in
            "{\"epoch\":\(r.epoch),\"train_loss\":\(jsonNumber(r.trainLoss)),\"val_loss\":\(jsonNumber(r.validationLoss)),"
                + "\"val_accuracy\":\(jsonNumber(r.validationAccuracy)),\"lr\":\(jsonNumber(r.learningRate)),\"seconds\":\(jsonNumber(r.seconds))}"
        }
        if let (test, seconds) = final {
            lines.append("{\"test_loss\":\(jsonNumber(test.loss)),\"test_accuracy\":\(jsonNumber(test.accuracy)),\"seconds\":\(jsonNumber(seconds))}")
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// The library's training errors in the words of this command's options.
    static func message(for error: TrainingError) -> String {
        switch error {
        case .diverged:
            return "\(error); try a smaller --lr, --clip-norm 1, or another --optimizer"
        case let .invalidSetting(setting, requirement):
            let option: String
            switch setting {
            case .layerSizes: option = "--layers"
            case .epochs: option = "--epochs"
            case .batchSize: option = "--batch-size"
            case .learningRate: option = "--lr"
            case .beta: option = "--beta"
            case .labelSmoothing: option = "--label-smoothing"
            case .clipNorm: option = "--clip-norm"
            case .momentum: option = "--momentum"
            case .nesterov: option = "--nesterov"
            case .splitFractions: return "validation and test fractions \(requirement)"
            }
            return "\(option) \(requirement)"
        case .tooFewExamples:
            return "\(error)"
        }
    }

    /// Runs `body`, turning the library's errors about the data into one line naming `source`
    /// and this command's options.
    static func mappingErrors<R>(source: String, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as TrainingError {
            if case .tooFewExamples = error { throw CommandLineError("\(source): \(error)") }
            throw CommandLineError(message(for: error))
        } catch let error as ModelError {
            switch error {
            case let .inputMismatch(expected, found):
                throw CommandLineError("\(source): --layers starts with \(expected.map(String.init).joined(separator: ",")) inputs, but the data have \(found.map(String.init).joined(separator: ",")) features per row")
            case let .classCountMismatch(outputs, classes):
                throw CommandLineError("\(source): --layers ends with \(outputs) outputs, but the data have \(classes) classes")
            case .invalidArchitecture:
                throw CommandLineError("--arch: \(reason(error))")
            default:
                throw CommandLineError("\(source): \(error)")
            }
        }
    }

    func trainingJSON(_ c: TrainingConfiguration) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(c), as: UTF8.self)
    }
}

extension Activation: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
