// Gradients with respect to a whole model, in the model's names.

/// The value of a scalar-valued `f` at `model` and ∂f/∂θ for every parameter θ of the model,
/// by the parameter's dotted name (`gradient["2.body.0.weight"]`, the parameter's shape).
///
/// The parameters are made variables, `f` runs once on a copy of the model that holds them,
/// and one reverse walk of the recorded graph gives every gradient. Buffers are constants.
///
/// A dense layer's weight gradient Gᵀ·X is kept as that product until something reads it
/// (`grads["0.weight"]`, iterating, an optimizer other than plain SGD): reading it computes it
/// once, the same values bit for bit. Plain SGD (no momentum, no weight decay) instead adds
/// −η·Gᵀ·X to the weight in one matrix product, so the gradient is never written out.
///
///     let (loss, grads) = valueWithGradient(at: model) { m in
///         Loss.softmaxCrossEntropy(logits: m(x), labels: y)
///     }
///     try optimizer.update(&model, along: grads)
public func valueWithGradient<Model: Module>(at model: Model, of f: (Model) -> Tensor<Model.Scalar>)
    -> (value: Tensor<Model.Scalar>, gradient: NamedTensors<Model.Scalar>) {
    let parameters = model.collectTensors(role: .parameter)
    let (value, gradients) = valueWithDeferredGradient(at: parameters.tensors) { variables in
        var tracked = model
        var replacer = TensorReplacer<Model.Scalar>(role: .parameter, replacements: variables)
        tracked.visitTensors(with: &replacer)
        return f(tracked)
    }
    return (value, NamedTensors(names: parameters.names, gradients: gradients))
}

/// ∂f/∂θ for every parameter θ of `model`, by dotted name (see `valueWithGradient(at:of:)`).
public func gradient<Model: Module>(at model: Model, of f: (Model) -> Tensor<Model.Scalar>) -> NamedTensors<Model.Scalar> {
    valueWithGradient(at: model, of: f).gradient
}
