import BackpropKernels

/// The graph walks shared by every transform: reverse accumulation of cotangents and forward
/// propagation of tangents. Both are iterative (no recursion limit) and visit only the nodes
/// that lie between the variables and the result.
enum Engine {
    /// The nodes reachable backwards from `root` whose identifiers are at least `minimumID`,
    /// sorted by identifier (a topological order: inputs before the nodes that use them).
    static func subgraph<Scalar>(from root: GraphNode<Scalar>, minimumID: Int) -> [GraphNode<Scalar>] {
        var stack = [root]
        var seen: Set<Int> = [root.id]
        var nodes: [GraphNode<Scalar>] = []
        while let node = stack.popLast() {
            nodes.append(node)
            for case let input? in node.inputs where input.id >= minimumID && !seen.contains(input.id) {
                seen.insert(input.id)
                stack.append(input)
            }
        }
        nodes.sort { $0.id < $1.id }
        return nodes
    }

    /// Reverse mode: pulls `seed` (∂L/∂result, the shape of `result`) back to each variable.
    ///
    /// Cotangents reaching a node from several uses are summed (a value used twice gets both
    /// contributions); a cotangent with a broadcast shape is summed down to the input's shape.
    /// Returns nil for a variable the result does not depend on.
    ///
    /// `whenFinished(i, g)` is called as soon as variable i's cotangent g is complete — every
    /// node that uses the variable has been pulled back — while the rest of the walk is still
    /// to come (for example to start sending the gradient). The walk then keeps no reference
    /// to g (the receiver may change it in place without a copy) and returns nil for that
    /// variable. It is not called for variables the result does not depend on.
    static func pullback<Scalar>(_ seed: Tensor<Scalar>, through result: Tensor<Scalar>,
                                 to variables: [GraphNode<Scalar>],
                                 whenFinished: ((Int, Tensor<Scalar>) -> Void)? = nil) -> [Tensor<Scalar>?] {
        require(seed.shape == result.shape,
                     "pullback: cotangent shape \(seed.shape) does not match result shape \(result.shape)")
        return walkBackwards(seed, batch: nil, through: result, to: variables, deferring: false,
                             whenFinished: whenFinished).map { $0?.tensor }
    }

    /// Reverse mode as `pullback`, except that a variable's cotangent may come back as an
    /// unevaluated product (`DeferredProduct`): when the rule that uses it offers one (a dense
    /// layer's weight) and nothing else contributes to it. A second contribution evaluates the
    /// product and adds to it, in the order the eager walk adds.
    static func pullbackDeferringProducts<Scalar>(_ seed: Tensor<Scalar>, through result: Tensor<Scalar>,
                                                  to variables: [GraphNode<Scalar>]) -> [Cotangent<Scalar>?] {
        require(seed.shape == result.shape,
                     "pullback: cotangent shape \(seed.shape) does not match result shape \(result.shape)")
        return walkBackwards(seed, batch: nil, through: result, to: variables, deferring: true)
    }

    /// Reverse mode for a batch of k cotangents at once: `seeds` has shape [k] + result's shape,
    /// and each variable's cotangent comes back as [k] + its shape.
    ///
    /// Each node runs its batched pullback when it has one (one kernel call for the whole batch:
    /// how `jacobian` pulls back the identity in one walk); otherwise the engine pulls that node's
    /// k cotangents back one by one and stacks them, so every graph is supported.
    static func pullbackBatch<Scalar>(_ seeds: Tensor<Scalar>, through result: Tensor<Scalar>,
                                      to variables: [GraphNode<Scalar>]) -> [Tensor<Scalar>?] {
        require(seeds.rank >= 1 && Array(seeds.shape.dropFirst()) == result.shape,
                     "pullbackBatch: cotangents of shape \(seeds.shape) do not match [k] + result shape \(result.shape)")
        return walkBackwards(seeds, batch: seeds.shape[0], through: result, to: variables, deferring: false)
            .map { $0?.tensor }
    }

    /// The reverse walk shared by both: nodes in decreasing identifier order, each node's
    /// cotangent (with a leading batch axis of `batch` when given) pulled back through its rule,
    /// un-broadcast to the input's shape and added to what the input already received. With
    /// `deferring`, a variable's first cotangent is taken in its deferred form where the rule
    /// offers one.
    private static func walkBackwards<Scalar>(_ seed: Tensor<Scalar>, batch: Int?, through result: Tensor<Scalar>,
                                              to variables: [GraphNode<Scalar>], deferring: Bool,
                                              whenFinished: ((Int, Tensor<Scalar>) -> Void)? = nil) -> [Cotangent<Scalar>?] {
        // (Closures, not `\.id`: a generic key path is instantiated anew at each evaluation.)
        guard let root = result.node, let minimumID = variables.map({ $0.id }).min() else {
            return variables.map { _ in nil }
        }
        let variableIDs = Set(variables.map { $0.id })
        var cotangents: [Int: Tensor<Scalar>] = [root.id: seed]
        var deferred: [Int: DeferredProduct<Scalar>] = [:]
        var finished: [Int: Cotangent<Scalar>] = [:]
        // Variable index by node identifier, only when someone listens.
        let variableIndex = whenFinished.map { _ in
            Dictionary(variables.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
        for node in subgraph(from: root, minimumID: minimumID).reversed() {
            if variableIDs.contains(node.id) {
                if let product = deferred.removeValue(forKey: node.id) {
                    finished[node.id] = .product(product)
                } else if let cotangent = cotangents.removeValue(forKey: node.id) {
                    if let whenFinished, let i = variableIndex?[node.id] {
                        whenFinished(i, cotangent)
                    } else {
                        finished[node.id] = .tensor(cotangent)
                    }
                }
                continue
            }
            guard let cotangent = cotangents.removeValue(forKey: node.id) else { continue }
            var needs = node.inputs.map { input in input.map { $0.id >= minimumID } ?? false }
            if deferring, batch == nil, let offer = node.deferredPullback {
                for (i, input) in node.inputs.enumerated() {
                    guard let input, needs[i], variableIDs.contains(input.id), cotangents[input.id] == nil,
                          deferred[input.id] == nil, let product = offer(i, cotangent),
                          product.shape == node.inputShapes[i] else { continue }
                    deferred[input.id] = product
                    needs[i] = false
                }
            }
            let request = PullbackInput(cotangent: cotangent, output: node.output, needs: needs)
            let inputCotangents = batch.map { node.batchedPullback?(request) ?? pullbackOneByOne(node, request, count: $0) }
                ?? node.pullback(request)
            require(inputCotangents.count == node.inputs.count,
                         "\(node.op): pullback returned \(inputCotangents.count) cotangents for \(node.inputs.count) inputs")
            for (i, input) in node.inputs.enumerated() {
                guard let input, needs[i], var g = inputCotangents[i] else { continue }
                if let k = batch {
                    if g.shape != [k] + node.inputShapes[i] { g = g.sumBatch(toShape: node.inputShapes[i]) }
                } else if g.shape != node.inputShapes[i] {
                    g = g.sum(toShape: node.inputShapes[i])
                }
                if let existing = cotangents[input.id] {
                    cotangents[input.id] = existing + g
                } else if let product = deferred.removeValue(forKey: input.id) {
                    cotangents[input.id] = product.value + g
                } else {
                    cotangents[input.id] = g
                }
            }
        }
        return variables.map { finished[$0.id] }
    }

    /// A batched pullback from the node's ordinary one: each cotangent of the batch in turn,
    /// the results stacked along a new leading axis (zeros where the rule returned nil).
    private static func pullbackOneByOne<Scalar>(_ node: GraphNode<Scalar>, _ request: PullbackInput<Scalar>,
                                                 count k: Int) -> [Tensor<Scalar>?] {
        var parts = [[Tensor<Scalar>]](repeating: [], count: node.inputs.count)
        for b in 0..<k {
            let single = request.cotangent.rows(b..<(b + 1)).reshaped(node.shape)
            let gs = node.pullback(PullbackInput(cotangent: single, output: request.output, needs: request.needs))
            for i in node.inputs.indices where request.needs[i] {
                var g = gs[i] ?? .zeros(node.inputShapes[i])
                if g.shape != node.inputShapes[i] { g = g.sum(toShape: node.inputShapes[i]) }
                parts[i].append(g.reshaped([1] + node.inputShapes[i]))
            }
        }
        return parts.map { $0.isEmpty ? nil : .concatenatingRows($0) }
    }

    /// Forward mode: pushes `tangents` (one per variable, each the variable's shape) through
    /// the graph in evaluation order with each node's differential, and returns the tangent of
    /// `result` (nil when it does not depend on the variables: a zero tangent).
    static func pushforward<Scalar>(_ tangents: [Tensor<Scalar>], from variables: [GraphNode<Scalar>],
                                    through result: Tensor<Scalar>) -> Tensor<Scalar>? {
        guard let root = result.node, let minimumID = variables.map({ $0.id }).min() else { return nil }
        var known: [Int: Tensor<Scalar>] = [:]
        for (variable, tangent) in zip(variables, tangents) {
            require(tangent.shape == variable.shape,
                         "pushforward: tangent shape \(tangent.shape) does not match variable shape \(variable.shape)")
            known[variable.id] = tangent
        }
        for node in subgraph(from: root, minimumID: minimumID) where known[node.id] == nil {
            let inputTangents = node.inputs.map { input in input.flatMap { known[$0.id] } }
            guard inputTangents.contains(where: { $0 != nil }) else { continue }
            guard var t = node.differential(inputTangents, node.output) else { continue }
            if t.shape != node.shape { t = t.broadcast(to: node.shape) }
            known[node.id] = t
        }
        return known[root.id]
    }
}
