// Gradients with respect to a whole model, in the model's names.

/// The value of a scalar-valued `f` at `model` and ∂f/∂θ for every parameter θ of the model,
/// by the parameter's dotted name (`gradient["2.body.0.weight"]`, the parameter's shape).
///
/// The parameters are made variables, `f` runs once on a copy of the model that holds them,
/// and one reverse walk of the recorded graph gives every gradient. Buffers are constants.
///
///     let (loss, grads) = valueWithGradient(at: model) { m in
///         Loss.softmaxCrossEntropy(logits: m(x), labels: y)
///     }
///     try optimizer.update(&model, along: grads)
public func valueWithGradient<Model: Module>(at model: Model, of f: (Model) -> Tensor<Model.Scalar>)
    -> (value: Tensor<Model.Scalar>, gradient: NamedTensors<Model.Scalar>) {
    let parameters = model.collectTensors(role: .parameter)
    let (value, gradients) = valueWithGradient(at: parameters.tensors) { variables in
        var tracked = model
        var replacer = TensorReplacer<Model.Scalar>(role: .parameter, replacements: variables)
        tracked.visitTensors(with: &replacer)
        return f(tracked)
    }
    return (value, NamedTensors(names: parameters.names, tensors: gradients))
}

/// ∂f/∂θ for every parameter θ of `model`, by dotted name (see `valueWithGradient(at:of:)`).
public func gradient<Model: Module>(at model: Model, of f: (Model) -> Tensor<Model.Scalar>) -> NamedTensors<Model.Scalar> {
    valueWithGradient(at: model, of: f).gradient
}
