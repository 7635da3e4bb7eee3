import CBackpropKernels

/// Packing copies a block of op(A) or op(B) into the contiguous, zero-padded micro-panel order
/// the micro-kernel streams through. Transposes are absorbed here: the kernel never sees them,
/// and no transposed copy of a whole operand is ever made.
package enum GemmPacking {
    /// Packs rows `0..<rows` and depth `0..<depth` of op(A) into micro-panels of `mr` rows:
    /// `dst[panel·mr·depth + p·mr + r] = op(A)[panel·mr + r, p]`, rows past `rows` zero.
    ///
    /// `a` points at op(A)[0, 0]; op(A)[i, p] is `a[i·lda + p]`, or `a[p·lda + i]` when transposed.
    @inline(__always)
    package static func packA<T: TensorScalar>(
        transposed: Bool, rows: Int, depth: Int, mr: Int,
        a: UnsafePointer<T>, lda: Int, into dst: UnsafeMutablePointer<T>
    ) {
        if transposed {
            // Stored depth×rows: row p of the storage holds op(A)[·, p], `mr` values per panel.
            packRows(depth: depth, cols: rows, nr: mr, b: a, ldb: lda, into: dst)
            return
        }
        var out = dst
        var i0 = 0
        while i0 < rows {
            let height = min(mr, rows - i0)
            if height == mr {
                // Stored rows×depth: each row is read contiguously and written with stride mr.
                interleave(rows: mr, depth: depth, source: a + i0 * lda, sourceStride: lda, into: out, stride: mr)
            } else {
                for r in 0..<height {
                    let src = a + (i0 + r) * lda
                    var d = out + r
                    for p in 0..<depth { d.pointee = src[p]; d += mr }
                }
                for p in 0..<depth {
                    for r in height..<mr { out[p * mr + r] = 0 }
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
    package static func packB<T: TensorScalar>(
        transposed: Bool, depth: Int, cols: Int, nr: Int,
        b: UnsafePointer<T>, ldb: Int, into dst: UnsafeMutablePointer<T>
    ) {
        if !transposed {
            packRows(depth: depth, cols: cols, nr: nr, b: b, ldb: ldb, into: dst)
            return
        }
        var out = dst
        var j0 = 0
        while j0 < cols {
            let width = min(nr, cols - j0)
            if width == nr {
                // Stored cols×depth: each column of op(B) is read contiguously, written with stride nr.
                interleave(rows: nr, depth: depth, source: b + j0 * ldb, sourceStride: ldb, into: out, stride: nr)
            } else {
                for j in 0..<width {
                    let src = b + (j0 + j) * ldb
                    var d = out + j
                    for p in 0..<depth { d.pointee = src[p]; d += nr }
                }
                for p in 0..<depth {
                    for j in width..<nr { out[p * nr + j] = 0 }
                }
            }
            out += nr * depth
            j0 += nr
        }
    }

    /// Packs an operand stored depth×cols (op(B) not transposed, or op(A) transposed) into
    /// micro-panels of `nr` columns: `dst[panel·nr·depth + p·nr + j] = b[p·ldb + panel·nr + j]`,
    /// columns past `cols` zero. Works in bands of `bandRows` rows of the storage: within a
    /// band, each panel's pieces come from `bandRows` rows that advance together (streams the
    /// hardware prefetcher follows) and go to one contiguous block of the panel. (Panel by panel
    /// over the whole depth, the reads were a few lines per row, `ldb` apart, and stalled on
    /// memory; row by row over all panels, the writes were as many streams as panels, and with
    /// a depth of 128 all of them fell in one L1 set.)
    @inline(__always)
    package static func packRows<T: TensorScalar>(depth: Int, cols: Int, nr: Int, b: UnsafePointer<T>, ldb: Int,
                                          into dst: UnsafeMutablePointer<T>) {
        let bandRows = 8
        let fullPanels = cols / nr, width = cols - fullPanels * nr
        let panelStride = nr * depth
        let pieceBytes = nr * MemoryLayout<T>.stride
        var p0 = 0
        while p0 < depth {
            let band = p0..<min(p0 + bandRows, depth)
            for panel in 0..<fullPanels {
                let column = panel * nr
                for p in band {
                    copyBytes(pieceBytes, from: UnsafeRawPointer(b + p * ldb + column),
                              to: UnsafeMutableRawPointer(dst + panel * panelStride + p * nr))
                }
            }
            if width > 0 {
                for p in band {
                    let src = b + p * ldb + fullPanels * nr, d = dst + fullPanels * panelStride + p * nr
                    for j in 0..<width { d[j] = src[j] }
                    for j in width..<nr { d[j] = 0 }
                }
            }
            p0 += bandRows
        }
    }

    /// Copies a short piece (a micro-panel row: 16–96 bytes) in 32-, 16-, 8- and 4-byte moves. A
    /// `memmove` call per piece cost ~6 % of an MLP step, and a scalar loop stalls on each move.
    @inline(__always)
    package static func copyBytes(_ count: Int, from: UnsafeRawPointer, to: UnsafeMutableRawPointer) {
        var offset = 0
        while offset &+ 32 <= count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt32>.self),
                          toByteOffset: offset, as: SIMD8<UInt32>.self)
            offset &+= 32
        }
        if offset &+ 16 <= count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt32>.self),
                          toByteOffset: offset, as: SIMD4<UInt32>.self)
            offset &+= 16
        }
        if offset &+ 8 <= count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
            offset &+= 8
        }
        if offset &+ 4 <= count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: offset, as: UInt32.self), toByteOffset: offset, as: UInt32.self)
        }
    }

    /// `dst[p·stride + r] = source[r·sourceStride + p]` for r < rows, p < depth: the transposing
    /// copy both packings need for operands stored the other way round. Float goes through 4×4
    /// register transposes (rows a multiple of 4); the rest of the depth and Double copy scalars.
    @inline(__always)
    package static func interleave<T: TensorScalar>(rows: Int, depth: Int, source: UnsafePointer<T>, sourceStride: Int,
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
