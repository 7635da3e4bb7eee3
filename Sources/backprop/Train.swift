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

    @Option(parsing: .unconditional, help: ArgumentHelp("Layer widths, input first and classes last (default: 64,128,10 for the digits; features,128,classes otherwise).", valueName: "sizes"))
    var layers: String?

    @Option(help: "Activation between linear layers: relu, tanh, sigmoid or gelu.")
    var activation: Activation?

    @Option(help: ArgumentHelp("The network as a spec instead of --layers, e.g. \"conv 16 3 pad 1, relu, maxpool 2, flatten, linear\" (a last linear without a width gets one output per class), or a preset: \(NetworkArchitecture.presets.map(\.name).joined(separator: ", ")). See the README.", valueName: "spec"))
    var arch: String?

    @Option(help: ArgumentHelp("The shape of one example for --arch, as C,H,W (CSV rows; IDX images are 1,H,W and the digits 1,8,8 by themselves).", valueName: "C,H,W"))
    var inputShape: String?

    @Option(parsing: .unconditional, help: "Inverse temperature β of the output softmax (probabilities = softmax(β·logits)).")
    var beta: Float?

    @Flag(help: "Learn β with the weights.")
    var learnBeta = false

    @Option(help: "Optimizer: sgd, adam or adamw.")
    var optimizer: OptimizerKind?

    @Option(parsing: .unconditional, help: "Learning rate (default: 0.001 for adam/adamw, 0.05 for sgd).")
    var lr: Double?

    @Option(parsing: .unconditional, help: "SGD momentum.")
    var momentum: Double?

    @Flag(help: "SGD with Nesterov momentum.")
    var nesterov = false

    @Option(parsing: .unconditional, help: "Weight decay (default: 0; 0.01 for adamw).")
    var weightDecay: Double?

    @Option(help: "Learning-rate schedule: constant, step or cosine.")
    var schedule: ScheduleKind?

    @Option(parsing: .unconditional, help: "Step schedule: epochs between decays.")
    var stepSize: Int?

    @Option(parsing: .unconditional, help: "Step schedule: factor applied at each decay.")
    var gamma: Double?

    @Option(parsing: .unconditional, help: "Number of epochs (default: 20).")
    var epochs: Int?

    @Option(parsing: .unconditional, help: "Mini-batch size (default: 32).")
    var batchSize: Int?

    @Option(parsing: .unconditional, help: "Seed for initialisation, the data split and shuffling (default: 0).")
    var seed: UInt64?

    @Option(parsing: .unconditional, help: "Label smoothing ε in [0, 1].")
    var labelSmoothing: Double?

    @Option(parsing: .unconditional, help: "Clip gradients to this global L2 norm.")
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

    @Flag(help: "Train data-parallel as one rank of an MPI job: mpirun -np N backprop train --distributed … (--batch-size stays the global batch; only rank 0 prints and writes files).")
    var distributed = false

    enum ScheduleKind: String, ExpressibleByArgument, CaseIterable { case constant, step, cosine }

    func run() throws {
        if try DistributedTraining.isRequested(distributed, command: "train") { return try trainDistributed() }
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

    /// Option checks that need no data: done before reading anything. Returns where each
    /// output goes.
    @discardableResult
    func checkArguments() throws -> [Output] {
        try dataOptions.check()
        if let problem = SystemMemory.environmentProblem { throw CommandLineError(problem) }
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
        try checkFinite(lr, "--lr")
        try checkFinite(momentum, "--momentum")
        try checkFinite(weightDecay, "--weight-decay")
        try checkFinite(gamma, "--gamma")
        try checkFinite(clipNorm, "--clip-norm")
        try checkFinite(labelSmoothing, "--label-smoothing")
        try checkFinite(beta, "--beta")
        if let lr, !(lr > 0) { throw CommandLineError("--lr must be a positive number, got \(lr)") }
        if let momentum, momentum < 0 { throw CommandLineError("--momentum must be ≥ 0, got \(momentum)") }
        if let weightDecay, weightDecay < 0 { throw CommandLineError("--weight-decay must be ≥ 0, got \(weightDecay)") }
        if let gamma, !(gamma > 0 && gamma <= 1) {
            throw CommandLineError("--gamma must be in (0, 1] (the factor that multiplies the learning rate at each step), got \(gamma)")
        }
        if let clipNorm, !(clipNorm > 0) { throw CommandLineError("--clip-norm must be positive, got \(clipNorm)") }
        if let labelSmoothing, !(0...1).contains(labelSmoothing) {
            throw CommandLineError("--label-smoothing must be in [0, 1], got \(labelSmoothing)")
        }
        if let stepSize, stepSize < 1 { throw CommandLineError("--step-size must be at least 1, got \(stepSize)") }
        if (stepSize != nil || gamma != nil) && schedule != .step { throw CommandLineError("--step-size and --gamma need --schedule step") }
        var outputs: [Output] = []
        if let out { outputs.append(Output(path: out, option: "--out", destination: try checkWritable(out, option: "--out"))) }
        if let checkpointPath {
            let destination = try checkWritable(checkpointPath, option: "--checkpoint")
            guard destination.isRegularFile else {
                throw CommandLineError("\(checkpointPath): --checkpoint must name a regular file (it is rewritten after every epoch), not a device, FIFO or standard stream")
            }
            outputs.append(Output(path: checkpointPath, option: "--checkpoint", destination: destination))
        }
        if let metrics { outputs.append(Output(path: metrics, option: "--metrics", destination: try checkWritable(metrics, option: "--metrics"))) }
        if let plot { outputs.append(Output(path: plot, option: "--plot", destination: try checkWritable(plot, option: "--plot"))) }
        let files = outputs.compactMap { output -> String? in
            guard case let .file(target) = output.destination else { return nil }
            return URL(fileURLWithPath: target).standardizedFileURL.path
        }
        if Set(files).count != files.count { throw CommandLineError("--out, --checkpoint, --metrics and --plot must name different files") }
        if let resume, !FileManager.default.fileExists(atPath: resume) {
            throw CommandLineError("\(resume): cannot open: No such file or directory")
        }
        warnAboutIneffectiveOptions()
        return outputs
    }

    /// An output file and where writing it goes.
    struct Output {
        var path: String
        var option: String
        var destination: OutputDestination
    }

    /// One warning line for options that have no effect, and for valid but unusual values.
    func warnAboutIneffectiveOptions() {
        if resume != nil {
            let ignored: [(Bool, String)] = [
                (layers != nil, "--layers"), (activation != nil, "--activation"), (beta != nil, "--beta"),
                (learnBeta, "--learn-beta"), (optimizer != nil, "--optimizer"), (lr != nil, "--lr"),
                (momentum != nil, "--momentum"), (nesterov, "--nesterov"), (weightDecay != nil, "--weight-decay"),
                (schedule != nil, "--schedule"), (stepSize != nil, "--step-size"), (gamma != nil, "--gamma"),
                (batchSize != nil, "--batch-size"), (seed != nil, "--seed"), (labelSmoothing != nil, "--label-smoothing"),
                (clipNorm != nil, "--clip-norm"),
            ]
            let names = ignored.filter(\.0).map(\.1)
            if !names.isEmpty {
                warn("\(names.joined(separator: ", ")) \(names.count == 1 ? "has" : "have") no effect with --resume (the checkpoint's configuration is used; only --epochs may change)")
            }
            return
        }
        let kind = optimizer ?? TrainingConfiguration().optimizer
        if kind != .sgd {
            let names = [(momentum != nil, "--momentum"), (nesterov, "--nesterov")].filter(\.0).map(\.1)
            if !names.isEmpty {
                warn("\(names.joined(separator: " and ")) \(names.count == 1 ? "has" : "have") no effect with --optimizer \(kind.rawValue) (only sgd uses momentum)")
            }
        }
        if let beta, beta <= 0 {
            warn("--beta \(beta): β ≤ 0 makes the softmax \(beta == 0 ? "give every class the same probability" : "favour the smallest logit")")
        }
        if gamma == 1 { warn("--gamma 1 leaves the learning rate unchanged at every step") }
    }

    /// Where checkpoints go: --checkpoint, else beside --out when --out is a regular file (not
    /// a device or stream), else the resumed file.
    var checkpointPath: String? {
        if DistributedTraining.isFollower { return nil }
        if let checkpoint { return checkpoint }
        if let out, (try? OutputDestination(resolving: out))?.isRegularFile ?? true {
            let base = out.hasSuffix(".safetensors") ? String(out.dropLast(".safetensors".count)) : out
            return base + ".checkpoint.safetensors"
        }
        return resume
    }

    func train(distribution: DistributedTraining? = nil) throws {
        let outputs = try checkArguments()
        // Held until the run ends (or the process dies): a second run on the same files is refused.
        // (Only the rank that writes them takes them in a distributed run.)
        let locks = DistributedTraining.isFollower ? []
            : try outputs.filter(\.destination.isRegularFile).map { try OutputLock(for: $0.path) }
        defer { locks.forEach { $0.release() } }
        let dataset = try dataOptions.load()
        let source = dataOptions.sourceName
        var trainer: ClassifierTraining
        if let resume {
            trainer = try Self.mappingErrors(source: source, network: "the network of \(resume)") {
                try ClassifierTraining(resumingFrom: resume, features: dataset.features, labels: dataset.labels,
                                       classCount: dataset.classCount, epochs: epochs)
            }
            print("resuming \(resume) after epoch \(trainer.epochsCompleted) of \(trainer.configuration.epochs) (configuration from the checkpoint)")
        } else {
            let configuration = try makeConfiguration(featureCount: dataset.featureCount, classCount: dataset.classCount,
                                                      exampleShape: dataset.exampleShape)
            let outputUnits = configuration.layerSizes[configuration.layerSizes.count - 1]
            if configuration.architecture == nil && outputUnits > dataset.classCount {
                warn("--layers ends with \(outputUnits) outputs but \(source) has \(dataset.classCount) classes; outputs \(dataset.classCount)…\(outputUnits - 1) are never a label")
            }
            trainer = try Self.mappingErrors(source: source, network: configuration.architecture == nil ? "--layers" : "--arch") {
                try ClassifierTraining(configuration: configuration, features: dataset.features, labels: dataset.labels,
                                       classCount: dataset.classCount)
            }
        }
        let absent = dataset.absentClasses
        if !absent.isEmpty && !DistributedTraining.isFollower {
            let list = absent.prefix(10).map(String.init).joined(separator: ", ") + (absent.count > 10 ? ", …" : "")
            warn("\(source): \(absent.count == 1 ? "class" : "classes") \(list) \(absent.count == 1 ? "has" : "have") no examples (labels run 0…\(dataset.classCount - 1))")
        }
        try distribution?.start(&trainer)
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
        let reporter = ProgressReporter(live: standardOutputIsTerminal && distribution == nil, stepsPerEpoch: stepsPerEpoch,
                                        remainingEpochs: c.epochs - trainer.epochsCompleted)
        var savedCheckpointEpoch: Int? = resume != nil ? trainer.epochsCompleted : nil
        // Metrics and plot files are refreshed after every epoch so a long run can be watched —
        // but only when they are new: a file that existed before the run is replaced only when the
        // run succeeds, so a run that fails or diverges loses nothing.
        let isNew = { (path: String?) in path.map { !FileManager.default.fileExists(atPath: $0) } ?? false }
        let metricsPerEpoch = isNew(metrics), plotPerEpoch = isNew(plot)
        // Metrics to a device, FIFO or standard stream are streamed: one line per epoch as it ends.
        let metricsStream = try outputs.first { $0.option == "--metrics" && !$0.destination.isRegularFile }
            .map { try StreamingOutput($0.path) }
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
            if let metricsStream {
                try metricsStream.write(Data(metricsLines([record], final: nil).utf8))
            } else if let metrics, metricsPerEpoch {
                try AtomicFile.write(Data(metricsLines(trainer.history, final: nil).utf8), to: metrics)
            }
            if let plot, plotPerEpoch { try writePlot(trainer.history, source: source, to: plot) }
        }
        let test = try trainer.evaluateAcrossRanks(.test)
        let totalSeconds = trainer.history.reduce(0) { $0 + $1.seconds }
        if let metricsStream {
            try metricsStream.write(Data(metricsLines([], final: (test, totalSeconds)).utf8))
            try metricsStream.close()
        } else if let metrics {
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
            JSONLine.encode(EpochMetrics(epoch: r.epoch, trainLoss: r.trainLoss, validationLoss: r.validationLoss,
                                         validationAccuracy: r.validationAccuracy, learningRate: r.learningRate, seconds: r.seconds))
        }
        if let (test, seconds) = final {
            lines.append(JSONLine.encode(TestMetrics(testLoss: test.loss, testAccuracy: test.accuracy, seconds: seconds)))
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
            case .weightDecay: option = "--weight-decay"
            case .stepSize: option = "--step-size"
            case .stepFactor: option = "--gamma"
            case .cosineHorizon: option = "--epochs"
            case .cosineMinimum: return "the cosine schedule's minimum learning rate \(requirement)"
            }
            return "\(option) \(requirement)"
        case .tooFewExamples:
            return "\(error)"
        case .exceedsMemory:
            return "\(error); use smaller --layers or --batch-size (or set \(SystemMemory.environmentVariable) if the estimate is wrong for this machine)"
        }
    }

    /// Runs `body`, turning the library's errors about the data into one line naming `source`
    /// and this command's options; `network` names where the network came from (`--layers`,
    /// `--arch`, or the checkpoint being resumed).
    static func mappingErrors<R>(source: String, network: String, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as TrainingError {
            if case .tooFewExamples = error { throw CommandLineError("\(source): \(error)") }
            throw CommandLineError(message(for: error))
        } catch let error as ModelError {
            switch error {
            case let .inputMismatch(expected, found):
                throw CommandLineError("\(source): \(network) starts with \(expected.map(String.init).joined(separator: ",")) inputs, but the data have \(found.map(String.init).joined(separator: ",")) features per row")
            case let .classCountMismatch(outputs, classes):
                throw CommandLineError("\(source): \(network) ends with \(outputs) outputs, but the data have \(classes) classes")
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
