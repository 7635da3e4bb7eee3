import Testing
import Backprop

@Suite("Activation: the layer it names, its op and its closed-form derivative")
struct ActivationTests {
    @Test("an activation layer is recognised; any other layer is not")
    func fromLayer() {
        for activation in Activation.allCases {
            #expect(Activation(layer: activation.layer(Double.self)) == activation)
            #expect(Activation(layer: activation.layer(Float.self)) == activation)
        }
        #expect(Activation(layer: Linear<Double>(weight: .zeros([3, 2]), bias: .zeros([3]))) == nil)
        #expect(Activation(layer: Softmax<Double>()) == nil)
    }

    @Test("calling an activation computes what its layer computes", arguments: Activation.allCases)
    func appliesTheLayersFunction(_ activation: Activation) {
        let z = Tensor<Double>([-2.5, -0.3, 0.2, 1.7, 4])
        let layer = Sequential<Double>([activation.layer(Double.self)])
        let expected = layer(z)
        #expect(activation(z).scalars == expected.scalars)
    }

    @Test("the closed-form derivative equals the op's pullback", arguments: Activation.allCases)
    func derivativeIsThePullback(_ activation: Activation) {
        let z = Tensor<Double>([-2.5, -0.3, 0.2, 1.7, 4])
        let h = activation(z)
        let pulled = gradient(at: z) { activation($0).sum() }
        let closedForm = Tensor(shape: z.shape, scalars: zip(z.scalars, h.scalars).map { activation.derivative(at: $0, output: $1) })
        expectClose(closedForm, pulled, tolerance: agreement(Double.self), "\(activation)")
    }
}
