import Testing
@testable import Backprop
import BackpropKernels

// `valueWithGradient(at: model)` hands a dense layer's weight gradient over as the product
// Gᵀ·X, evaluated on first read, and plain SGD adds −η·Gᵀ·X to the weight in one product. These
// tests prove that every read sees the eager gradient bit for bit, that a second contribution
// to the same weight is added as the eager walk adds it, and that the fused update stays within
// the rounding bound of the product it replaces.

/// A Linear layer used twice in a row (one weight, two contributions to its gradient).
private struct Twice: Layer {
    var layer: Linear<Float>

    mutating func visitTensors(with visitor: inout some TensorVisitor<Float>) {
        visitor.module("layer", &layer)
    }

    func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> { layer(layer(x).relu()) }
}

private func mlp(_ sizes: [Int], seed: UInt64) -> Sequential<Float> {
    var rng = SeededGenerator(seed: seed)
    var layers: [any Layer<Float>] = []
    for l in 0..<(sizes.count - 1) {
        if l > 0 { layers.append(ReLU<Float>()) }
        layers.append(Linear<Float>(inputs: sizes[l], outputs: sizes[l + 1], generator: &rng))
    }
    return Sequential(layers)
}

private func batch(_ rows: Int, _ columns: Int, seed: UInt64) -> Tensor<Float> {
    var rng = SeededGenerator(seed: seed)
    return .randomNormal(rows == 0 ? [columns] : [rows, columns], generator: &rng)
}

private func loss(_ logits: Tensor<Float>, classes: Int) -> Tensor<Float> {
    let rows = logits.rank == 2 ? logits.shape[0] : 1
    let labels = (0..<rows).map { $0 % classes }
    return Loss.softmaxCrossEntropy(logits: logits.rank == 2 ? logits : logits.reshaped([1, classes]), labels: labels)
}

private func bits(_ t: Tensor<Float>) -> [UInt32] { t.scalars.map(\.bitPattern) }

/// The gradients by the list-of-tensors transform, which evaluates every rule eagerly.
private func eagerGradients<M: Module<Float>>(_ model: M, _ f: @escaping (M) -> Tensor<Float>) -> [Tensor<Float>] {
    gradient(at: model.parameters) { ps in f(model.replacingParameters(ps)) }
}

@Suite("Deferred weight gradients")
struct DeferredWeightGradientTests {
    @Test("weight gradients are held as products and read back as the eager gradients, bit for bit",
          arguments: [0, 1, 32])
    func readsEqualEager(rows: Int) {
        let model = mlp([24, 40, 30, 5], seed: 3)
        let x = batch(rows, 24, seed: 4)
        let f = { (m: Sequential<Float>) in loss(m(x), classes: 5) }
        let (_, grads) = valueWithGradient(at: model, of: f)
        let eager = eagerGradients(model, f)
        // The three weights are pending products; the biases are tensors.
        let pending = grads.indices.filter { grads.pendingProduct(at: $0) != nil }.map { grads.names[$0] }
        #expect(pending == ["0.weight", "2.weight", "4.weight"])
        for (i, name) in grads.names.enumerated() {
            #expect(grads.shape(at: i) == eager[i].shape, "\(name)")
            #expect(bits(grads[name]!) == bits(eager[i]), "\(name)")
        }
        #expect(grads.tensors.map(bits) == eager.map(bits))
        #expect(grads.map { bits($0.tensor) } == eager.map(bits))
        #expect(grads == NamedTensors(names: grads.names, tensors: eager))
        #expect(grads.mapTensors { $0 * 2 }.tensors.map(bits) == eager.map { bits($0 * 2) })
    }

    @Test("a weight used twice gets both contributions, added in the eager walk's order")
    func sharedWeight() {
        var rng = SeededGenerator(seed: 5)
        let model = Twice(layer: Linear<Float>(inputs: 12, outputs: 12, generator: &rng))
        let x = batch(16, 12, seed: 6)
        let f = { (m: Twice) in loss(m(x), classes: 12) }
        let (_, grads) = valueWithGradient(at: model, of: f)
        #expect(grads.pendingProduct(at: 0) == nil, "the second use evaluates the product and adds to it")
        #expect(grads.tensors.map(bits) == eagerGradients(model, f).map(bits))
    }

    @Test("a weight that also enters the loss directly gets both contributions")
    func weightInTheLoss() {
        let model = mlp([10, 8, 4], seed: 7)
        let x = batch(6, 10, seed: 8)
        let f = { (m: Sequential<Float>) in
            loss(m(x), classes: 4) + 0.01 * (m.parameters[0] * m.parameters[0]).sum()
        }
        let (_, grads) = valueWithGradient(at: model, of: f)
        #expect(grads.tensors.map(bits) == eagerGradients(model, f).map(bits))
    }

    @Test("changing, adding and removing entries of pending gradients keeps the others' values")
    func editing() {
        let model = mlp([6, 5, 3], seed: 9)
        let x = batch(4, 6, seed: 10)
        let f = { (m: Sequential<Float>) in loss(m(x), classes: 3) }
        let eager = eagerGradients(model, f)
        var grads = valueWithGradient(at: model, of: f).gradient
        grads["0.bias"] = nil
        #expect(grads.names == ["0.weight", "2.weight", "2.bias"])
        #expect(grads.tensors.map(bits) == [eager[0], eager[2], eager[3]].map(bits))
        var other = valueWithGradient(at: model, of: f).gradient
        other["2.weight"] = .zeros([3, 5])
        other["extra"] = Tensor([1])
        #expect(bits(other["0.weight"]!) == bits(eager[0]))
        #expect(bits(other["2.weight"]!) == bits(.zeros([3, 5])))
        #expect(other.count == 5)
        var scaled = valueWithGradient(at: model, of: f).gradient
        scaled.tensors[0] = scaled.tensors[0] * 0.5
        #expect(bits(scaled["0.weight"]!) == bits(eager[0] * 0.5))
        #expect(bits(scaled["2.weight"]!) == bits(eager[2]))
    }

    @Test("inside another transform, gradients are computed, not deferred")
    func nested() {
        let model = mlp([5, 4, 3], seed: 11)
        let x = batch(3, 5, seed: 12)
        let f = { (m: Sequential<Float>) in loss(m(x), classes: 3) }
        let scale = Tensor<Float>(2)
        _ = gradient(at: scale) { s in
            let grads = valueWithGradient(at: model) { m in f(m) * s }.gradient
            #expect(grads.indices.allSatisfy { grads.pendingProduct(at: $0) == nil })
            return grads.tensors.reduce(Tensor<Float>(0)) { $0 + $1.sum() }
        }
    }
}

@Suite("Plain SGD applies deferred weight gradients in one product")
struct FusedSGDTests {
    /// One SGD step on `model` from pending gradients (fused) and from the same gradients read
    /// first (the separate θ − η·g pass), checked against a Double reference.
    ///
    /// Tolerance. The separate path computes g = fl(Σₚ gₚᵢxₚⱼ) (error ≤ γ_k·S, S = Σₚ|gₚᵢ||xₚⱼ|,
    /// the batch being k), then fl(θ − fl(η·g)): two roundings more. The fused path computes
    /// θ + Σₚ(−η)gₚᵢxₚⱼ in one product: within γ_{k+2}·(η·S + |θ|) (`Gemm.multiplyAdd`). Both
    /// are within γ_{k+2}·(η·S + |θ|) + u·|θ − η·g| of the exact θ − η·Σₚgₚᵢxₚⱼ computed in Double
    /// from the same Float G and X; biases take the same pass in both and must agree bit for bit.
    func check(sizes: [Int], rows: Int, learningRate: Float) throws {
        let model = mlp(sizes, seed: 13)
        let x = batch(rows, sizes[0], seed: 14)
        let f = { (m: Sequential<Float>) in loss(m(x), classes: sizes.last!) }
        var fused = model, separate = model
        let pending = valueWithGradient(at: model, of: f).gradient
        let read = valueWithGradient(at: model, of: f).gradient
        _ = read.tensors   // evaluates every product: the update then takes the separate pass
        var sgd = SGD<Float>(learningRate: learningRate)
        try sgd.update(&fused, along: pending)
        sgd = SGD<Float>(learningRate: learningRate)
        try sgd.update(&separate, along: read)
        #expect(pending.indices.compactMap { pending.pendingProduct(at: $0) }.allSatisfy { !$0.isEvaluated },
                "the fused update never evaluated a gradient")

        let u = Double(Float.ulpOfOne) / 2
        func gamma(_ n: Int) -> Double { Double(n) * u / (1 - Double(n) * u) }
        let eta = Double(learningRate)
        let before = model.parameters, afterFused = fused.parameters, afterSeparate = separate.parameters
        for (i, name) in model.parameterNames.enumerated() {
            guard let product = pending.pendingProduct(at: i) else {
                #expect(bits(afterFused[i]) == bits(afterSeparate[i]), "\(name)")
                continue
            }
            // G is [B, T] (read transposed), X is [B, N]; the weight is [T, N].
            let g = product.a, xs = product.b
            let (k, t, n) = (g.shape[0], g.shape[1], xs.shape[1])
            #expect(product.transposeA && !product.transposeB && [t, n] == before[i].shape)
            var failures = 0
            for r in 0..<t {
                for c in 0..<n {
                    var sum = 0.0, magnitude = 0.0
                    for p in 0..<k {
                        let term = Double(g.scalars[p * t + r]) * Double(xs.scalars[p * n + c])
                        sum += term
                        magnitude += abs(term)
                    }
                    let theta = Double(before[i].scalars[r * n + c])
                    let exact = theta - eta * sum
                    let bound = gamma(k + 2) * (eta * magnitude + abs(theta)) + u * abs(exact)
                    for (path, value) in [("fused", afterFused[i]), ("separate", afterSeparate[i])] {
                        let error = abs(Double(value.scalars[r * n + c]) - exact)
                        if !(error <= bound) {
                            failures += 1
                            if failures <= 3 { Issue.record("\(name) \(path) [\(r),\(c)]: |error| \(error) > \(bound)") }
                        }
                    }
                }
            }
            #expect(failures == 0, "\(name): \(failures) entries out of bound")
        }
    }

    @Test("fused and separate updates agree within the product's rounding bound, on the active GEMM",
          arguments: [([8, 6, 3], 4), ([64, 48, 30, 10], 32), ([100, 130, 10], 128)])
    func withinBound(_ sizes: [Int], _ rows: Int) throws {
        try check(sizes: sizes, rows: rows, learningRate: 0.01)
        try check(sizes: sizes, rows: rows, learningRate: 0.5)
    }

    @Test("momentum and weight decay read the gradients, as the list-of-tensors path does, bit for bit")
    func otherUpdatesUnchanged() throws {
        let model = mlp([9, 7, 4], seed: 15)
        let x = batch(5, 9, seed: 16)
        let f = { (m: Sequential<Float>) in loss(m(x), classes: 4) }
        for make in [{ SGD<Float>(learningRate: 0.1, momentum: 0.9) }, { SGD<Float>(learningRate: 0.1, weightDecay: 0.01) },
                     { SGD<Float>(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01) }] {
            var viaModel = model, viaList = model
            var a = make(), b = make()
            for _ in 0..<2 {
                try a.update(&viaModel, along: valueWithGradient(at: viaModel, of: f).gradient)
                let eager = NamedTensors(names: viaList.parameterNames, tensors: eagerGradients(viaList, f))
                try b.update(&viaList, along: eager)
            }
            #expect(viaModel.parameters.map(bits) == viaList.parameters.map(bits))
            #expect(a.state == b.state)
        }
    }
}
