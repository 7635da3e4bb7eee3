import Foundation
import Testing
@testable import Backprop

@Test func architectureSpecsParseBuildAndPrintCanonically() throws {
    let spec = try NetworkArchitecture(parsing: "Conv 16 3 pad 1, relu, maxpool 2, conv 32 3x5 stride 2x1 pad 1x2 dilation 2 groups 2 nobias, gap, flatten, dropout 0.5, linear")
    #expect(spec.layers.count == 8)
    let resolved = try spec.resolved(classes: 10)
    #expect(resolved.description
            == "conv 16 3 pad 1, relu, maxpool 2, conv 32 3x5 stride 2x1 pad 1x2 dilation 2 groups 2 nobias, gap, flatten, dropout 0.5, linear 10")
    #expect(try NetworkArchitecture(parsing: resolved.description) == resolved)
    let shapes = try resolved.shapes(inputShape: [1, 28, 28])
    #expect(shapes == [[1, 28, 28], [16, 28, 28], [16, 28, 28], [16, 14, 14], [32, 6, 10], [32, 1, 1], [32], [32], [10]])
    var rng = SeededGenerator(seed: 0)
    let network = try resolved.makeNetwork(inputShape: [1, 28, 28], generator: &rng)
    #expect(network.parameterNames == ["0.weight", "0.bias", "3.weight", "7.weight", "7.bias"])
    #expect(network.namedParameters["3.weight"]!.shape == [32, 8, 3, 5])
    #expect(network(.zeros([2, 1, 28, 28])).shape == [2, 10])
    #expect(try resolved.pytorchModules(inputShape: [1, 28, 28]) == [
        "Conv2d(1, 16, kernel_size=(3, 3), padding=(1, 1))", "ReLU()", "MaxPool2d(kernel_size=(2, 2), stride=(2, 2))",
        "Conv2d(16, 32, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2), dilation=(2, 2), groups=2, bias=False)",
        "AdaptiveAvgPool2d(1)", "Flatten()", "Dropout(0.5)", "Linear(32, 10)"])
}

@Test func architecturePresetsAreSpecs() throws {
    let cnn = try NetworkArchitecture(parsing: "cnn").resolved(classes: 10)
    #expect(cnn.description == "conv 16 3 pad 1, relu, maxpool 2, conv 32 3 pad 1, relu, maxpool 2, flatten, linear 10")
    let bn = try NetworkArchitecture(parsing: "cnn-bn").resolved(classes: 10)
    var rng = SeededGenerator(seed: 0)
    let network = try bn.makeNetwork(inputShape: [1, 8, 8], generator: &rng)
    #expect(network.namedBuffers.names.contains("1.running_mean"))
}

@Test(arguments: [
    ("", "the spec is empty"),
    ("conv 16", "layer 1 (\"conv 16\"): conv needs an output channel count and a kernel size"),
    ("conv 16 3, frobnicate", "layer 2 (\"frobnicate\"): unknown layer \"frobnicate\""),
    ("conv 16 3 pad", "\"pad\" needs a value"),
    ("conv 16 3 stride 0", "stride must be an integer ≥ 1, got \"0\""),
    ("conv 16 3 padding 1", "unknown setting \"padding\""),
    ("maxpool 2 pad 2", "pad 2 must be at most half the kernel 2"),
    ("relu 3", "\"relu\" takes no settings"),
    ("dropout 1.5", "dropout needs one probability in [0, 1)"),
    ("conv 8 3,, linear", "layer 2 (\"\"): empty layer"),
])
func architectureSpecErrorsNameTheLayer(_ spec: String, _ fragment: String) {
    do {
        _ = try NetworkArchitecture(parsing: spec)
        Issue.record("\(spec) parsed")
    } catch let error as ModelError {
        #expect("\(error)".contains(fragment), "\(error)")
        #expect(!"\(error)".contains("\n") && !"\(error)".contains("--"))
    } catch {
        Issue.record("\(error)")
    }
}

@Test func architectureShapeErrorsNameTheLayerAndItsInput() throws {
    func reason(_ spec: String, _ shape: [Int]) -> String {
        do {
            _ = try NetworkArchitecture(parsing: spec).resolved(classes: 10).shapes(inputShape: shape)
            return ""
        } catch { return "\(error)" }
    }
    #expect(reason("conv 8 3, linear", [1, 8, 8]).contains("layer 2 (\"linear 10\") on input 8×6×6: needs a flat input; add flatten before it"))
    #expect(reason("maxpool 2, maxpool 2, maxpool 2, maxpool 2, flatten, linear", [1, 8, 8]).contains("layer 4 (\"maxpool 2\") on input 1×1×1: the window does not fit"))
    #expect(reason("conv 8 3, flatten, linear", [64]).contains("needs an image [C, H, W]"))
    #expect(reason("conv 6 3 groups 4, flatten, linear", [2, 8, 8]).contains("4 groups must divide"))
    #expect(reason("flatten, relu", [4]).contains("must end with a linear layer"))
    #expect(reason("linear, linear", [4]).contains("only the last linear layer may omit its width"))
}

@Test func classifierFromASpecTrainsSavesAndLoadsWithItsInputShape() throws {
    let digits = try LabeledDataset.digits()
    #expect(digits.exampleShape == [1, 8, 8])
    var configuration = TrainingConfiguration()
    configuration.architecture = "conv 4 3 pad 1, batchnorm, relu, maxpool 2, flatten, dropout 0.1, linear 10"
    configuration.inputShape = [1, 8, 8]
    configuration.epochs = 1
    var run = try ClassifierTraining(configuration: configuration, features: digits.features, labels: digits.labels, classCount: 10)
    try run.trainer.fit()
    let classifier = run.classifier
    #expect(classifier.inputShape == [1, 8, 8] && classifier.layerSizes == [64, 10])
    // One mean and std for the one channel, written out per pixel.
    #expect(Set(classifier.standardization.mean).count == 1 && classifier.standardization.mean.count == 64)
    #expect(classifier.network.namedBuffers["1.num_batches_tracked"]!.scalar == Float((run.count(.train) + 31) / 32))
    let file = classifier.safeTensors()
    #expect(file.metadata["format"] == "backprop-sequential" && file.metadata["input_shape"] == "[1,8,8]")
    #expect(file.metadata["arch"] == "conv 4 3 pad 1, batchnorm, relu, maxpool 2, flatten, dropout 0.1, linear 10")
    #expect(file.metadata["architecture"] == nil && file.metadata["activation"] == nil)
    let loaded = try Classifier(safeTensors: try SafeTensors<Float>(decoding: try file.encoded()), source: "m")
    #expect(loaded.architecture == classifier.architecture && loaded.inputShape == [1, 8, 8])
    #expect(loaded.network.stateDict == classifier.network.stateDict)
    let x = digits.features.gatheringRows(Array(0..<20))
    #expect(try loaded.probabilities(x) == classifier.probabilities(x))
    // A spec that does not fit the input shape is a typed error.
    configuration.inputShape = [64]
    #expect(throws: ModelError.self) {
        try ClassifierTraining(configuration: configuration, features: digits.features, labels: digits.labels, classCount: 10)
    }
}

@Test func modelFilesWithBrokenSpecsAreOneLineDataErrors() throws {
    var metadata = ["arch": "conv 4 3, flatten, linear 10", "input_shape": "[1,8,8]"]
    func problem() -> String {
        do {
            _ = try Classifier(safeTensors: SafeTensors<Float>(tensors: [], metadata: metadata), source: "m.safetensors")
            return ""
        } catch { return "\(error)" }
    }
    // The spec is checked against the file's tensors before anything is allocated.
    #expect(problem().contains("m.safetensors") && problem().contains("needs 1490 values for input shape [1, 8, 8], but the file holds 0"))
    metadata["arch"] = "conv 100000 3, flatten, linear 10"
    #expect(problem().contains("needs") && problem().contains("but the file holds 0"))
    metadata["input_shape"] = "[1,100000,100000]"
    #expect(problem().contains("more than 67108864 values per example"))
    metadata["input_shape"] = "[1,8,8]"
    metadata["arch"] = "conv 4 3, flatten, linear 10"
    metadata["arch"] = "conv 4 three"
    #expect(problem().contains("metadata arch: invalid architecture: layer 1"))
    metadata["arch"] = "conv 4 3, flatten, linear 10"
    metadata["input_shape"] = "[1,8]"
    #expect(problem().contains("needs an image [C, H, W]"))
    metadata["input_shape"] = "1,8,8"
    #expect(problem().contains("input_shape must be a JSON array"))
}
