// Derivatives of softmax, log-softmax and the fused cross-entropy (Rules/Softmax.swift,
// Rules/CrossEntropy.swift), routed to the library's rules, β learnable or constant.

import Backprop
import _Differentiation

extension Tensor {
    // MARK: softmax(βx)

    @derivative(of: softmax(inverseTemperature:), wrt: (self, beta))
    public func _vjpSoftmax(inverseTemperature beta: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(self, beta) { $0.softmax(inverseTemperature: $1) }
    }

    @derivative(of: softmax(inverseTemperature:), wrt: self)
    public func _vjpSoftmaxInput(inverseTemperature beta: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.softmax(inverseTemperature: beta) }
    }

    @derivative(of: softmax(inverseTemperature:), wrt: self)
    public func _jvpSoftmaxInput(inverseTemperature beta: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.softmax(inverseTemperature: beta) }
    }

    @derivative(of: softmax(inverseTemperature:), wrt: (self, beta))
    public func _jvpSoftmax(inverseTemperature beta: Tensor) -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(self, beta) { $0.softmax(inverseTemperature: $1) }
    }

    @derivative(of: softmax(inverseTemperature:), wrt: self)
    public func _vjpSoftmax(inverseTemperature beta: Scalar) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.softmax(inverseTemperature: beta) }
    }

    @derivative(of: softmax(inverseTemperature:), wrt: self)
    public func _jvpSoftmax(inverseTemperature beta: Scalar) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.softmax(inverseTemperature: beta) }
    }

    // MARK: log softmax(βx)

    @derivative(of: logSoftmax(inverseTemperature:), wrt: (self, beta))
    public func _vjpLogSoftmax(inverseTemperature beta: Tensor) -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(self, beta) { $0.logSoftmax(inverseTemperature: $1) }
    }

    @derivative(of: logSoftmax(inverseTemperature:), wrt: self)
    public func _vjpLogSoftmaxInput(inverseTemperature beta: Tensor) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.logSoftmax(inverseTemperature: beta) }
    }

    @derivative(of: logSoftmax(inverseTemperature:), wrt: self)
    public func _jvpLogSoftmaxInput(inverseTemperature beta: Tensor) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.logSoftmax(inverseTemperature: beta) }
    }

    @derivative(of: logSoftmax(inverseTemperature:), wrt: (self, beta))
    public func _jvpLogSoftmax(inverseTemperature beta: Tensor) -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(self, beta) { $0.logSoftmax(inverseTemperature: $1) }
    }

    @derivative(of: logSoftmax(inverseTemperature:), wrt: self)
    public func _vjpLogSoftmax(inverseTemperature beta: Scalar) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.logSoftmax(inverseTemperature: beta) }
    }

    @derivative(of: logSoftmax(inverseTemperature:), wrt: self)
    public func _jvpLogSoftmax(inverseTemperature beta: Scalar) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.logSoftmax(inverseTemperature: beta) }
    }

    // MARK: cross-entropy of softmax(βz) (targets and labels are constants)

    @derivative(of: softmaxCrossEntropy(logits:targets:inverseTemperature:), wrt: (z, beta))
    public static func _vjpSoftmaxCrossEntropy(logits z: Tensor, targets: Tensor, inverseTemperature beta: Tensor)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        LibraryRule.vjp(z, beta) { softmaxCrossEntropy(logits: $0, targets: targets, inverseTemperature: $1) }
    }

    @derivative(of: softmaxCrossEntropy(logits:targets:inverseTemperature:), wrt: z)
    public static func _vjpSoftmaxCrossEntropyLogits(logits z: Tensor, targets: Tensor, inverseTemperature beta: Tensor)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(z) { softmaxCrossEntropy(logits: $0, targets: targets, inverseTemperature: beta) }
    }

    @derivative(of: softmaxCrossEntropy(logits:targets:inverseTemperature:), wrt: z)
    public static func _jvpSoftmaxCrossEntropyLogits(logits z: Tensor, targets: Tensor, inverseTemperature beta: Tensor)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(z) { softmaxCrossEntropy(logits: $0, targets: targets, inverseTemperature: beta) }
    }

    @derivative(of: softmaxCrossEntropy(logits:targets:inverseTemperature:), wrt: (z, beta))
    public static func _jvpSoftmaxCrossEntropy(logits z: Tensor, targets: Tensor, inverseTemperature beta: Tensor)
        -> (value: Tensor, differential: (Tensor, Tensor) -> Tensor) {
        LibraryRule.jvp(z, beta) { softmaxCrossEntropy(logits: $0, targets: targets, inverseTemperature: $1) }
    }

    @derivative(of: softmaxCrossEntropy(logits:labels:inverseTemperature:), wrt: z)
    public static func _vjpSoftmaxCrossEntropy(logits z: Tensor, labels: [Int], inverseTemperature beta: Scalar)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(z) { softmaxCrossEntropy(logits: $0, labels: labels, inverseTemperature: beta) }
    }

    @derivative(of: softmaxCrossEntropy(logits:labels:inverseTemperature:), wrt: z)
    public static func _jvpSoftmaxCrossEntropy(logits z: Tensor, labels: [Int], inverseTemperature beta: Scalar)
        -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(z) { softmaxCrossEntropy(logits: $0, labels: labels, inverseTemperature: beta) }
    }
}

extension Loss {
    @derivative(of: softmaxCrossEntropy(logits:labels:inverseTemperature:labelSmoothing:), wrt: (logits, beta))
    public static func _vjpSoftmaxCrossEntropy<Scalar>(logits: Tensor<Scalar>, labels: [Int], inverseTemperature beta: Tensor<Scalar>,
                                                       labelSmoothing epsilon: Scalar)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>)) {
        LibraryRule.vjp(logits, beta) { softmaxCrossEntropy(logits: $0, labels: labels, inverseTemperature: $1, labelSmoothing: epsilon) }
    }

    @derivative(of: softmaxCrossEntropy(logits:labels:inverseTemperature:labelSmoothing:), wrt: logits)
    public static func _vjpSoftmaxCrossEntropyLogits<Scalar>(logits: Tensor<Scalar>, labels: [Int], inverseTemperature beta: Tensor<Scalar>,
                                                             labelSmoothing epsilon: Scalar)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> Tensor<Scalar>) {
        LibraryRule.vjp(logits) { softmaxCrossEntropy(logits: $0, labels: labels, inverseTemperature: beta, labelSmoothing: epsilon) }
    }

    @derivative(of: softmaxCrossEntropy(logits:labels:inverseTemperature:labelSmoothing:), wrt: logits)
    public static func _jvpSoftmaxCrossEntropyLogits<Scalar>(logits: Tensor<Scalar>, labels: [Int], inverseTemperature beta: Tensor<Scalar>,
                                                             labelSmoothing epsilon: Scalar)
        -> (value: Tensor<Scalar>, differential: (Tensor<Scalar>) -> Tensor<Scalar>) {
        LibraryRule.jvp(logits) { softmaxCrossEntropy(logits: $0, labels: labels, inverseTemperature: beta, labelSmoothing: epsilon) }
    }

    @derivative(of: softmaxCrossEntropy(logits:labels:inverseTemperature:labelSmoothing:), wrt: (logits, beta))
    public static func _jvpSoftmaxCrossEntropy<Scalar>(logits: Tensor<Scalar>, labels: [Int], inverseTemperature beta: Tensor<Scalar>,
                                                       labelSmoothing epsilon: Scalar)
        -> (value: Tensor<Scalar>, differential: (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>) {
        LibraryRule.jvp(logits, beta) { softmaxCrossEntropy(logits: $0, labels: labels, inverseTemperature: $1, labelSmoothing: epsilon) }
    }

    @derivative(of: negativeLogLikelihood(logProbabilities:labels:))
    public static func _vjpNegativeLogLikelihood<Scalar>(logProbabilities logp: Tensor<Scalar>, labels: [Int])
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> Tensor<Scalar>) {
        LibraryRule.vjp(logp) { negativeLogLikelihood(logProbabilities: $0, labels: labels) }
    }

    @derivative(of: negativeLogLikelihood(logProbabilities:labels:))
    public static func _jvpNegativeLogLikelihood<Scalar>(logProbabilities logp: Tensor<Scalar>, labels: [Int])
        -> (value: Tensor<Scalar>, differential: (Tensor<Scalar>) -> Tensor<Scalar>) {
        LibraryRule.jvp(logp) { negativeLogLikelihood(logProbabilities: $0, labels: labels) }
    }

    @derivative(of: meanSquaredError(_:_:))
    public static func _vjpMeanSquaredError<Scalar>(_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>)) {
        LibraryRule.vjp(prediction, target) { meanSquaredError($0, $1) }
    }

    @derivative(of: meanSquaredError(_:_:), wrt: prediction)
    public static func _vjpMeanSquaredErrorPrediction<Scalar>(_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, pullback: (Tensor<Scalar>) -> Tensor<Scalar>) {
        LibraryRule.vjp(prediction) { meanSquaredError($0, target) }
    }

    @derivative(of: meanSquaredError(_:_:), wrt: prediction)
    public static func _jvpMeanSquaredErrorPrediction<Scalar>(_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (Tensor<Scalar>) -> Tensor<Scalar>) {
        LibraryRule.jvp(prediction) { meanSquaredError($0, target) }
    }

    @derivative(of: meanSquaredError(_:_:))
    public static func _jvpMeanSquaredError<Scalar>(_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>)
        -> (value: Tensor<Scalar>, differential: (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>) {
        LibraryRule.jvp(prediction, target) { meanSquaredError($0, $1) }
    }
}
