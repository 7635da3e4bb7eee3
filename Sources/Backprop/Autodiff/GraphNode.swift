final class GraphNode<Scalar: TensorScalar> {}
