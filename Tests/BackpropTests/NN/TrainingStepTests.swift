import Foundation
import Testing
@testable import Backprop

// One full training step of a 4-5-3 ReLU MLP compared with PyTorch (float64), from the same
// initial weights and batch: Fixtures/make_training_step.py wrote Fixtures/training_step.json.
//
// Tolerance: every compared value is the result of at most a few dozen float64 operations
// (a 4- or 5-term dot product, a 3-way log-sum-exp, a 6-row batch sum, then at most two
// optimizer updates) on inputs of size O(1), with condition numbers O(10). With unit roundoff
// u = 1.1e-16 the expected discrepancy from summation order and libm differences is ~1e-14, so
// we allow |swift − torch| ≤ 1e-10·(1 + |torch|). That is still far below the smallest effect the
// tests must detect (weight decay changes a parameter by lr·λ·θ ≈ 1e-4; a wrong bias correction
// or a missing momentum term changes it by ≥ 1e-3), so any formula error fails.
private let tolerance = 1e-10

private struct StepFixture {
    let json: [String: Any]
    let x: Tensor<Double>
    let labels: [Int]
    let initial: [String: Tensor<Double>]

    init() throws {
        json = try loadJSONFixture("training_step.json")
        x = tensorFromJSON(json["x"]!)
        labels = (json["labels"] as! [NSNumber]).map(\.intValue)
        initial = (json["initial"] as! [String: Any]).mapValues(tensorFromJSON)
    }

    /// The 4-5-3 ReLU Sequential with the fixture's initial weights.
    func model() -> Sequential<Double> {
        Sequential<Double>(Linear(weight: initial["0.weight"]!, bias: initial["0.bias"]!), ReLU(),
                           Linear(weight: initial["2.weight"]!, bias: initial["2.bias"]!))
    }

    func named(_ key: String, in object: Any?) -> [String: Tensor<Double>] {
        (object as! [String: Any])[key].map { ($0 as! [String: Any]).mapValues(tensorFromJSON) }!
    }

    /// Loss and gradients at `parameters` (β, label smoothing as given).
    func lossAndGradients(_ model: Sequential<Double>, _ parameters: [Tensor<Double>], beta: Double = 1,
                          smoothing: Double = 0) -> (Double, [Tensor<Double>]) {
        let (loss, grads) = valueWithGradient(at: parameters) { ps in
            Loss.softmaxCrossEntropy(logits: model.replacingParameters(ps)(x), labels: labels,
                                     inverseTemperature: Tensor(beta), labelSmoothing: smoothing)
        }
        return (loss.scalar, grads)
    }
}

@Test func parameterNamesMatchPyTorchSequentialStateDict() throws {
    let f = try StepFixture()
    #expect(f.model().parameterNames == ["0.weight", "0.bias", "2.weight", "2.bias"])
    #expect(Set(f.initial.keys) == Set(f.model().parameterNames))
}

@Test func lossAndEveryGradientMatchPyTorch() throws {
    let f = try StepFixture()
    let model = f.model()
    let (loss, grads) = f.lossAndGradients(model, model.parameters)
    let expectedLoss = (f.json["loss"] as! NSNumber).doubleValue
    #expect(Swift.abs(loss - expectedLoss) <= tolerance * (1 + Swift.abs(expectedLoss)))
    let expected = f.named("gradients", in: f.json)
    for (name, g) in zip(model.parameterNames, grads) {
        #expect(isClose(g, expected[name]!, tolerance: tolerance), "gradient \(name): max difference \(maxDifference(g, expected[name]!))")
    }
}

@Test func betaAndLabelSmoothingLossAndGradientsMatchPyTorch() throws {
    let f = try StepFixture()
    let model = f.model()
    let case_ = f.json["beta_smoothing"] as! [String: Any]
    let (loss, grads) = f.lossAndGradients(model, model.parameters, beta: (case_["beta"] as! NSNumber).doubleValue,
                                           smoothing: (case_["label_smoothing"] as! NSNumber).doubleValue)
    let expectedLoss = (case_["loss"] as! NSNumber).doubleValue
    #expect(Swift.abs(loss - expectedLoss) <= tolerance * (1 + Swift.abs(expectedLoss)))
    let expected = f.named("gradients", in: case_)
    for (name, g) in zip(model.parameterNames, grads) {
        #expect(isClose(g, expected[name]!, tolerance: tolerance), "gradient \(name)")
    }
}

@Test func globalNormClippingMatchesPyTorch() throws {
    let f = try StepFixture()
    let model = f.model()
    var (_, grads) = f.lossAndGradients(model, model.parameters)
    let clipped = f.json["clipped"] as! [String: Any]
    let norm = clipByGlobalNorm(&grads, maxNorm: (clipped["max_norm"] as! NSNumber).doubleValue)
    #expect(Swift.abs(norm - (clipped["total_norm"] as! NSNumber).doubleValue) <= tolerance)
    let expected = f.named("gradients", in: clipped)
    for (name, g) in zip(model.parameterNames, grads) {
        #expect(isClose(g, expected[name]!, tolerance: tolerance), "clipped gradient \(name)")
    }
}

@Test func nllAndMeanSquaredErrorMatchPyTorch() throws {
    let f = try StepFixture()
    let logits = f.model()(f.x)
    let nll = Loss.negativeLogLikelihood(logProbabilities: logits.logSoftmax(), labels: f.labels).scalar
    #expect(Swift.abs(nll - (f.json["nll"] as! NSNumber).doubleValue) <= tolerance)
    let mse = f.json["mse"] as! [String: Any]
    let value = Loss.meanSquaredError(logits, tensorFromJSON(mse["target"]!)).scalar
    #expect(Swift.abs(value - (mse["value"] as! NSNumber).doubleValue) <= tolerance)
}

/// Two steps of `optimizer` (gradient recomputed at the new parameters) against PyTorch.
private func checkTwoSteps<O: Optimizer>(_ name: String, _ optimizer: O) throws where O.Scalar == Double {
    let f = try StepFixture()
    var model = f.model()
    var optimizer = optimizer
    let steps = ((f.json["optimizers"] as! [String: Any])[name] as! [String: Any])["after_steps"] as! [Any]
    for (s, stepJSON) in steps.enumerated() {
        let (_, grads) = f.lossAndGradients(model, model.parameters)
        try optimizer.update(&model, along: NamedTensors(names: model.parameterNames, tensors: grads))
        let expected = (stepJSON as! [String: Any]).mapValues(tensorFromJSON)
        for (pname, p) in model.namedParameters {
            #expect(isClose(p, expected[pname]!, tolerance: tolerance),
                    "\(name) step \(s + 1) \(pname): max difference \(maxDifference(p, expected[pname]!))")
        }
    }
    #expect(optimizer.step == 2)
}

@Test func sgdWithMomentumMatchesPyTorchForTwoSteps() throws {
    try checkTwoSteps("sgd_momentum", SGD<Double>(learningRate: 0.1, momentum: 0.9))
}

@Test func sgdWithNesterovAndWeightDecayMatchesPyTorchForTwoSteps() throws {
    try checkTwoSteps("sgd_nesterov", SGD<Double>(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01))
}

@Test func adamWithL2WeightDecayMatchesPyTorchForTwoSteps() throws {
    try checkTwoSteps("adam", Adam<Double>(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.05))
}

@Test func adamWMatchesPyTorchForTwoSteps() throws {
    try checkTwoSteps("adamw", Adam<Double>.adamW(learningRate: 0.01, weightDecay: 0.1))
}
