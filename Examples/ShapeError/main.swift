import Backprop

// What a programmer error in tensor mathematics looks like: this matmul of a [2, 3] matrix by a
// [4, 5] matrix stops the program with a message that names the operation and both shapes —
// in a release build too (`swift run -c release shape-error`):
//
//     Fatal error: matmul: inner dimensions differ: [2, 3] · [4, 5]
//
// Errors that depend on data, files or a model's contents are thrown instead (see docs/models.md).
let a = Tensor<Float>.ones([2, 3])
let b = Tensor<Float>.ones([4, 5])
print(Tensor.matmul(a, b))
