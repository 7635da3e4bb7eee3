import Testing
@testable import Backprop

@Test func affineSoftmaxGradientsMatchSeedFormulas() {
    let w = Tensor<Double>(rows: [[1, 2, 3], [4, 5, 6]])
    let b = Tensor<Double>([0.5, -1])
    let x = Tensor<Double>([1, 0, 2])
    let g = gradient(at: w, b) { w, b in Tensor.affine(x, weight: w, bias: b).softmax(inverseTemperature: 2).rows(0..<1).sum() }
    print(g.0, g.1)
    let h = hessian(of: { z in Tensor.softmaxCrossEntropy(logits: z, targets: Tensor([0, 1, 0]), inverseTemperature: Tensor(2.0)) }, at: Tensor<Double>([0.1, 0.2, 0.3]))
    let p = Tensor<Double>([0.1, 0.2, 0.3]).softmax(inverseTemperature: 2)
    print(h, ClosedForm.softmaxJacobian(output: p, inverseTemperature: 2.0) * 2)
    let hf = hessian(of: { z in Tensor.softmaxCrossEntropy(logits: z, targets: Tensor([0, 1, 0]), inverseTemperature: Tensor(2.0)) }, at: Tensor<Double>([0.1, 0.2, 0.3]), mode: .forward)
    print(hf)
    #expect(h.shape == [3, 3])
}
