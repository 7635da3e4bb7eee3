// Derivatives of the shape operations (Rules/Shape.swift), routed to the library's rules.

import Backprop
import _Differentiation

extension Tensor {
    @derivative(of: reshaped(_:))
    public func _vjpReshaped(_ newShape: [Int]) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.reshaped(newShape) }
    }

    @derivative(of: reshaped(_:))
    public func _jvpReshaped(_ newShape: [Int]) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.reshaped(newShape) }
    }

    @derivative(of: transposed())
    public func _vjpTransposed() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.transposed() }
    }

    @derivative(of: transposed())
    public func _jvpTransposed() -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.transposed() }
    }

    @derivative(of: broadcast(to:))
    public func _vjpBroadcast(to target: [Int]) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.broadcast(to: target) }
    }

    @derivative(of: broadcast(to:))
    public func _jvpBroadcast(to target: [Int]) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.broadcast(to: target) }
    }

    @derivative(of: sum(toShape:))
    public func _vjpSumToShape(toShape target: [Int]) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.sum(toShape: target) }
    }

    @derivative(of: sum(toShape:))
    public func _jvpSumToShape(toShape target: [Int]) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.sum(toShape: target) }
    }

    @derivative(of: slice(_:alongAxis:))
    public func _vjpSlice(_ range: Range<Int>, alongAxis axis: Int) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.slice(range, alongAxis: axis) }
    }

    @derivative(of: slice(_:alongAxis:))
    public func _jvpSlice(_ range: Range<Int>, alongAxis axis: Int) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.slice(range, alongAxis: axis) }
    }

    @derivative(of: padded(before:after:alongAxis:))
    public func _vjpPadded(before: Int, after: Int, alongAxis axis: Int) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.padded(before: before, after: after, alongAxis: axis) }
    }

    @derivative(of: padded(before:after:alongAxis:))
    public func _jvpPadded(before: Int, after: Int, alongAxis axis: Int) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.padded(before: before, after: after, alongAxis: axis) }
    }

    @derivative(of: rows(_:))
    public func _vjpRows(_ range: Range<Int>) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.rows(range) }
    }

    @derivative(of: rows(_:))
    public func _jvpRows(_ range: Range<Int>) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.rows(range) }
    }

    @derivative(of: padded(rowsBefore:rowsAfter:))
    public func _vjpPaddedRows(rowsBefore: Int, rowsAfter: Int) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        LibraryRule.vjp(self) { $0.padded(rowsBefore: rowsBefore, rowsAfter: rowsAfter) }
    }

    @derivative(of: padded(rowsBefore:rowsAfter:))
    public func _jvpPaddedRows(rowsBefore: Int, rowsAfter: Int) -> (value: Tensor, differential: (Tensor) -> Tensor) {
        LibraryRule.jvp(self) { $0.padded(rowsBefore: rowsBefore, rowsAfter: rowsAfter) }
    }

    // MARK: Lists of tensors

    @derivative(of: concatenating(_:alongAxis:))
    public static func _vjpConcatenating(_ parts: [Tensor], alongAxis axis: Int)
        -> (value: Tensor, pullback: (Tensor) -> [Tensor].TangentVector) {
        let (value, pullback) = LibraryRule.vjp(parts) { concatenating($0, alongAxis: axis) }
        return (value, { .init(pullback($0)) })
    }

    @derivative(of: concatenating(_:alongAxis:))
    public static func _jvpConcatenating(_ parts: [Tensor], alongAxis axis: Int)
        -> (value: Tensor, differential: ([Tensor].TangentVector) -> Tensor) {
        let (value, differential) = LibraryRule.jvp(parts) { concatenating($0, alongAxis: axis) }
        return (value, { differential(Self.tangents($0, count: parts.count)) })
    }

    @derivative(of: concatenatingRows(_:))
    public static func _vjpConcatenatingRows(_ parts: [Tensor]) -> (value: Tensor, pullback: (Tensor) -> [Tensor].TangentVector) {
        let (value, pullback) = LibraryRule.vjp(parts) { concatenatingRows($0) }
        return (value, { .init(pullback($0)) })
    }

    @derivative(of: concatenatingRows(_:))
    public static func _jvpConcatenatingRows(_ parts: [Tensor]) -> (value: Tensor, differential: ([Tensor].TangentVector) -> Tensor) {
        let (value, differential) = LibraryRule.jvp(parts) { concatenatingRows($0) }
        return (value, { differential(Self.tangents($0, count: parts.count)) })
    }

    /// The pieces of `split` are the library's slices: each piece's VJP is its slice's rule
    /// (the cotangent padded back to the full shape), and the pieces' cotangents are summed;
    /// pieces with a zero cotangent cost nothing.
    @derivative(of: split(sizes:alongAxis:))
    public func _vjpSplit(sizes: [Int], alongAxis axis: Int) -> (value: [Tensor], pullback: ([Tensor].TangentVector) -> Tensor) {
        var start = 0
        let pieces = sizes.map { size in
            defer { start += size }
            let range = start..<(start + size)
            return LibraryRule.vjp(self) { $0.slice(range, alongAxis: axis) }
        }
        return (pieces.map { $0.value }, { cotangents in
            var sum = Tensor.zero
            for (piece, g) in zip(pieces, cotangents.base) where !(g.isZeroTangent && g.shape != piece.value.shape) {
                sum = Tensor.tangentSum(sum, piece.pullback(g))
            }
            return sum
        })
    }

    @derivative(of: split(sizes:alongAxis:))
    public func _jvpSplit(sizes: [Int], alongAxis axis: Int) -> (value: [Tensor], differential: (Tensor) -> [Tensor].TangentVector) {
        var start = 0
        let pieces = sizes.map { size in
            defer { start += size }
            let range = start..<(start + size)
            return LibraryRule.jvp(self) { $0.slice(range, alongAxis: axis) }
        }
        return (pieces.map { $0.value }, { t in .init(pieces.map { $0.differential(t) }) })
    }

    /// The tangents of a list of `count` tensors (an empty list is the zero tangent of each).
    static func tangents(_ t: [Tensor].TangentVector, count: Int) -> [Tensor] {
        t.base.isEmpty ? [Tensor](repeating: .zero, count: count) : t.base
    }
}
