import Backprop
import Foundation

/// y = x ⊙ gain: a layer of our own with one learned tensor.
struct Gain: Layer {
    var gain: Tensor<Float>
    init(_ n: Int) { gain = .ones([n]) }
    mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
        visitor.parameter("gain", &gain)
    }
    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { x * gain }
}

let digits = try LabeledDataset.digits()                 // 1,797 8×8 images, 10 classes
let split = DataSplit.stratified(labels: digits.labels, validationFraction: 0.1, testFraction: 0.2, seed: 0)
let standardize = Standardization.fitted(to: digits.features.gatheringRows(split.train))
let all = try LabeledExamples(inputs: standardize.apply(digits.features), labels: digits.labels)
var rng = SeededGenerator(seed: 0)
let model = Sequential<Float>(
    Gain(64),
    Linear(inputs: 64, outputs: 128, generator: &rng), ReLU(),
    Residual(Sequential<Float>(Linear(inputs: 128, outputs: 128, generator: &rng), ReLU())),
    Linear(inputs: 128, outputs: 10, generator: &rng))

var trainer = try Trainer(model: model, optimizer: Adam<Float>(learningRate: 1e-3),
                          loop: TrainingLoop(epochs: 20, batchSize: 32, seed: 0),
                          trainingData: all.subset(split.train), validationData: all.subset(split.validation))
try trainer.fit { print("epoch \($0.epoch): validation accuracy \($0.validationAccuracy)") }
let test = ClassificationReport(model: trainer.model, data: all.subset(split.test))
print("test accuracy \(test.accuracy) (\(test.correct)/\(test.count))")

let path = FileManager.default.temporaryDirectory.appendingPathComponent("own-model.safetensors").path
try trainer.model.write(to: path)
var loaded = model                                       // same structure, initial weights
try loaded.load(contentsOf: path)
print(loaded.parameterNames)   // ["0.gain", "1.weight", "1.bias", "3.body.0.weight", …, "4.bias"]
print(ClassificationReport(model: loaded, data: all.subset(split.test)).accuracy == test.accuracy)
