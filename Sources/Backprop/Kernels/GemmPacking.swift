import CBackpropKernels

/// Packing copies a block of op(A) or op(B) into the contiguous, zero-padded micro-panel order
/// the micro-kernel streams through. Transposes are absorbed here: the kernel never sees them,
/// and no transposed copy of a whole operand is ever made.
enum GemmPacking {
    /// Packs rows `0..<rows` and depth `0..<depth` of op(A) into micro-panels of `mr` rows:
    /// `dst[panel·mr·depth + p·mr + r] = op(A)[panel·mr + r, p]`, rows past `rows` zero.
    ///
    /// `a` points at op(A)[0, 0]; op(A)[i, p] is `a[i·lda + p]`, or `a[p·lda + i]` when transposed.
    @inline(__always)
    static func packA<T: TensorScalar>(
        transposed: Bool, rows: Int, depth: Int, mr: Int,
        a: UnsafePointer<T>, lda: Int, into dst: UnsafeMutablePointer<T>
    ) {
        var out = dst
        var i0 = 0
        while i0 < rows {
            let height = min(mr, rows - i0)
            if transposed {
                // Stored depth×rows: each p gives `height` contiguous values.
                for p in 0..<depth {
                    let src = a + p * lda + i0
                    let d = out + p * mr
                    for r in 0..<height { d[r] = src[r] }
                    for r in height..<mr { d[r] = 0 }
                }
            } else if height == mr {
                // Stored rows×depth: each row is read contiguously and written with stride mr.
                interleave(rows: mr, depth: depth, source: a + i0 * lda, sourceStride: lda, into: out, stride: mr)
            } else {
                for r in 0..<height {
                    let src = a + (i0 + r) * lda
                    var d = out + r
                    for p in 0..<depth { d.pointee = src[p]; d += mr }
                }
                if height < mr {
                    for p in 0..<depth {
                        for r in height..<mr { out[p * mr + r] = 0 }
                    }
                }
            }
            out += mr * depth
            i0 += mr
        }
    }

    /// Packs depth `0..<depth` and columns `0..<cols` of op(B) into micro-panels of `nr` columns:
    /// `dst[panel·nr·depth + p·nr + j] = op(B)[p, panel·nr + j]`, columns past `cols` zero.
    ///
    /// `b` points at op(B)[0, 0]; op(B)[p, j] is `b[p·ldb + j]`, or `b[j·ldb + p]` when transposed.
    @inline(__always)
    static func packB<T: TensorScalar>(
        transposed: Bool, depth: Int, cols: Int, nr: Int,
        b: UnsafePointer<T>, ldb: Int, into dst: UnsafeMutablePointer<T>
    ) {
        var out = dst
        var j0 = 0
        while j0 < cols {
            let width = min(nr, cols - j0)
            if transposed && width == nr {
                // Stored cols×depth: each column of op(B) is read contiguously, written with stride nr.
                interleave(rows: nr, depth: depth, source: b + j0 * ldb, sourceStride: ldb, into: out, stride: nr)
            } else if transposed {
                for j in 0..<width {
                    let src = b + (j0 + j) * ldb
                    var d = out + j
                    for p in 0..<depth { d.pointee = src[p]; d += nr }
                }
                if width < nr {
                    for p in 0..<depth {
                        for j in width..<nr { out[p * nr + j] = 0 }
                    }
                }
            } else {
                // Stored depth×cols: each p gives `width` contiguous values.
                let rowBytes = nr * MemoryLayout<T>.stride
                if width == nr && rowBytes % 32 == 0 {
                    // Whole rows as 32-byte vectors (a memmove call per short row cost ~6 % of an MLP step).
                    typealias Chunk = SIMD8<Float>
                    for p in 0..<depth {
                        let src = UnsafeRawPointer(b + p * ldb + j0)
                        let d = UnsafeMutableRawPointer(out + p * nr)
                        var offset = 0
                        while offset < rowBytes {
                            d.storeBytes(of: src.loadUnaligned(fromByteOffset: offset, as: Chunk.self),
                                         toByteOffset: offset, as: Chunk.self)
                            offset += 32
                        }
                    }
                    out += nr * depth
                    j0 += nr
                    continue
                }
                for p in 0..<depth {
                    let src = b + p * ldb + j0
                    let d = out + p * nr
                    if width == nr {
                        d.update(from: src, count: nr)
                    } else {
                        for j in 0..<width { d[j] = src[j] }
                        for j in width..<nr { d[j] = 0 }
                    }
                }
            }
            out += nr * depth
            j0 += nr
        }
    }

    /// `dst[p·stride + r] = source[r·sourceStride + p]` for r < rows, p < depth: the transposing
    /// copy both packings need for operands stored the other way round. Float goes through 4×4
    /// register transposes (rows a multiple of 4); the rest of the depth and Double copy scalars.
    @inline(__always)
    static func interleave<T: TensorScalar>(rows: Int, depth: Int, source: UnsafePointer<T>, sourceStride: Int,
                                            into dst: UnsafeMutablePointer<T>, stride: Int) {
        var p0 = 0
        if T.self == Float.self && rows % 4 == 0 {
            let s = UnsafeRawPointer(source).assumingMemoryBound(to: Float.self)
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self)
            p0 = depth - depth % 4
            for r in Swift.stride(from: 0, to: rows, by: 4) {
                var p = 0
                while p < p0 {
                    backprop_transpose_4x4(s + r * sourceStride + p, sourceStride, d + p * stride + r, stride)
                    p += 4
                }
            }
        }
        for r in 0..<rows {
            let src = source + r * sourceStride
            var d = dst + p0 * stride + r
            for p in p0..<depth { d.pointee = src[p]; d += stride }
        }
    }
}
