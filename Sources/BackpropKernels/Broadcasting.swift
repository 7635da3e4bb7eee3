/// NumPy/PyTorch broadcasting of shapes: dimensions are aligned from the right, and an extent
/// of 1 (or a missing dimension) stretches to match the other.
package enum Broadcasting {
    /// The broadcast shape of `a` and `b`, or nil when they do not broadcast.
    package static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else { return nil }
        }
        return result
    }

    /// Element strides of a tensor of shape `shape` read as `target` (0 along stretched dimensions).
    package static func strides(of shape: [Int], broadcastTo target: [Int]) -> [Int] {
        let offset = target.count - shape.count
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for i in Swift.stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i + offset] = shape[i] == 1 ? 0 : step
            step *= shape[i]
        }
        return strides
    }
}

/// Visits every element of an output of shape `shape`, giving the flat offsets of two
/// broadcast inputs (with strides `sa`, `sb`) and of the output, one innermost run at a time.
@inline(__always)
package func forEachBroadcastRun(shape: [Int], _ sa: [Int], _ sb: [Int],
                         _ body: (_ ia: Int, _ ib: Int, _ io: Int, _ n: Int, _ da: Int, _ db: Int) -> Void) {
    let rank = shape.count
    let total = shape.reduce(1, *)
    if total == 0 { return }
    if rank == 0 { body(0, 0, 0, 1, 0, 0); return }
    let inner = shape[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var ia = 0, ib = 0, io = 0
    while io < total {
        body(ia, ib, io, inner, sa[rank - 1], sb[rank - 1])
        io += inner
        // advance the outer multi-index
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            ia += sa[d]; ib += sb[d]
            if index[d] < shape[d] { break }
            ia -= sa[d] * shape[d]; ib -= sb[d] * shape[d]
            index[d] = 0
            d -= 1
        }
        if d < 0 { break }
    }
}
