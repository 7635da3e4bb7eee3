import Backprop
import CZlib
import Foundation

/// The IDX rules of docs/formats.md, applied independently of Backprop's reader: magic
/// `00 00 type rank` with a known type and rank ≥ 1, big-endian extents whose running product
/// (outermost first) fits in Int, a payload of exactly
/// product(extents) × element size, and (read as Float) no finite Float64 beyond Float's range.
/// Pairing as a labelled data set adds: rank-1 labels, one per image, at least one image with
/// at least one pixel, finite pixels, integer labels in [0, 2⁵³) and a supportable class count.
enum IDXReference {
    static let sizes: [UInt8: Int] = [0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8]

    /// The values as Double (nil: invalid), and the shape.
    static func check(_ b: [UInt8]) -> (shape: [Int], values: [Double])? {
        guard b.count >= 4, b[0] == 0, b[1] == 0, let size = sizes[b[2]], b[3] > 0 else { return nil }
        let rank = Int(b[3])
        guard b.count >= 4 + 4 * rank else { return nil }
        var shape: [Int] = []
        var count = 1
        for d in 0..<rank {
            let extent = (0..<4).reduce(0) { $0 << 8 | Int(b[4 + 4 * d + $1]) }
            shape.append(extent)
            // The running product, outermost first, must fit in Int (as for a tensor's shape),
            // even when a later extent is 0.
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else { return nil }
            count = product
        }
        let start = 4 + 4 * rank
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, bytes == b.count - start else { return nil }
        var values: [Double] = []
        for i in 0..<count {
            let bytes = b[(start + size * i)..<(start + size * (i + 1))]
            let bits = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            switch b[2] {
            case 0x08: values.append(Double(bits))
            case 0x09: values.append(Double(Int8(truncatingIfNeeded: bits)))
            case 0x0B: values.append(Double(Int16(truncatingIfNeeded: bits)))
            case 0x0C: values.append(Double(Int32(truncatingIfNeeded: bits)))
            case 0x0D: values.append(Double(Float(bitPattern: UInt32(bits))))
            default:
                let x = Double(bitPattern: bits)
                guard !x.isFinite || Float(x).isFinite else { return nil }
                values.append(x)
            }
        }
        return (shape, values)
    }

    static func pairs(images: (shape: [Int], values: [Double]), labels: (shape: [Int], values: [Double])) -> Bool {
        guard labels.shape.count == 1, labels.shape[0] == images.shape[0], images.shape[0] > 0 else { return false }
        guard images.shape.dropFirst().reduce(1, *) > 0, images.values.allSatisfy({ Float($0).isFinite }) else { return false }
        guard labels.values.allSatisfy({ $0 >= 0 && $0 < 0x1p53 && $0 == $0.rounded() }) else { return false }
        let ints = labels.values.map { Int($0) }
        let largest = ints.max()!
        let present = Set(ints).count
        return largest < 65_536 && largest + 1 - present <= max(present, 8)
    }
}

/// gzip (RFC 1952) as zlib's gzip reader accepts it, parsed by hand around zlib's raw
/// inflate: ID1 ID2, method 8, no reserved flag bits, the optional extra field, name,
/// comment and header CRC (checked), the deflate data, then CRC-32 and ISIZE of the output;
/// further members may follow, anything else may not.
enum GzipReference {
    static func decompress(_ b: [UInt8], limit: Int) -> [UInt8]? {
        var output: [UInt8] = []
        var i = 0
        repeat {
            let start = i
            guard b.count - i >= 10, b[i] == 0x1F, b[i + 1] == 0x8B, b[i + 2] == 8, b[i + 3] & 0xE0 == 0 else { return nil }
            let flags = b[i + 3]
            i += 10
            if flags & 4 != 0 {
                guard b.count - i >= 2 else { return nil }
                let length = Int(b[i]) | Int(b[i + 1]) << 8
                i += 2 + length
                guard i <= b.count else { return nil }
            }
            for flag in [UInt8(8), 16] where flags & flag != 0 {
                guard let end = b[i...].firstIndex(of: 0) else { return nil }
                i = end + 1
            }
            if flags & 2 != 0 {
                guard b.count - i >= 2 else { return nil }
                let crc = UInt32(crc32(0, Array(b[start..<i]), UInt32(i - start))) & 0xFFFF
                guard crc == UInt32(b[i]) | UInt32(b[i + 1]) << 8 else { return nil }
                i += 2
            }
            guard let (member, used) = rawInflate(Array(b[i...]), limit: limit - output.count) else { return nil }
            i += used
            guard b.count - i >= 8 else { return nil }
            let crc = (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[i + $1]) << (8 * UInt32($1)) }
            let size = (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[i + 4 + $1]) << (8 * UInt32($1)) }
            guard crc == UInt32(crc32(0, member, UInt32(member.count))), size == UInt32(truncatingIfNeeded: member.count) else { return nil }
            i += 8
            output += member
        } while i < b.count
        return output
    }

    /// Inflates raw deflate data: the output and the bytes consumed, or nil if it is corrupt,
    /// truncated or longer than `limit`.
    static func rawInflate(_ input: [UInt8], limit: Int) -> ([UInt8], Int)? {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 14)
        return input.withUnsafeBufferPointer { inBuffer -> ([UInt8], Int)? in
            stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
            stream.avail_in = UInt32(inBuffer.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    output += out[0..<(out.count - Int(stream.avail_out))]
                    return status
                }
                if output.count > limit { return nil }
                if status == Z_STREAM_END { return (output, inBuffer.count - Int(stream.avail_in)) }
                if status != Z_OK && !(status == Z_BUF_ERROR && stream.avail_in > 0) { return nil }
            }
        }
    }

    /// One gzip member of `data` with the given header flags (extra field, name, comment and
    /// header CRC built correctly), for valid variants beyond what `Gzip.compress` writes.
    static func member(_ data: [UInt8], flags: UInt8) -> [UInt8] {
        var header: [UInt8] = [0x1F, 0x8B, 8, flags, 0, 0, 0, 0, 0, 3]
        if flags & 4 != 0 { header += [3, 0, 0x41, 0x42, 0x43] }
        if flags & 8 != 0 { header += Array("name.idx".utf8) + [0] }
        if flags & 16 != 0 { header += Array("comment".utf8) + [0] }
        if flags & 2 != 0 {
            let crc = UInt32(crc32(0, header, UInt32(header.count)))
            header += [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF)]
        }
        var stream = z_stream()
        _ = deflateInit2_(&stream, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var input = data
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(data.count))) + 16)
        input.withUnsafeMutableBufferPointer { inBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                _ = deflate(&stream, Z_FINISH)
            }
        }
        let compressed = Array(out[0..<Int(stream.total_out)])
        let crc = UInt32(crc32(0, data, UInt32(data.count)))
        let size = UInt32(truncatingIfNeeded: data.count)
        return header + compressed + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) }
            + (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * UInt32($0))) }
    }
}

/// IDX inputs: valid arrays of every element type and rank with special values (NaN, ±∞,
/// Float64 beyond Float's range, −0, subnormals), mutated in the type, rank, extents and payload
/// length, then at the byte level; with `gzip`, compressed (with and without header fields)
/// and mutated in the gzip framing and the compressed bytes too.
struct IDXFuzzer {
    let gzip: Bool
    static let gzipLimit = 1 << 20

    func array(_ rng: inout FuzzRandom) -> [UInt8] {
        let type = rng.pick([UInt8(0x08), 0x09, 0x0B, 0x0C, 0x0D, 0x0E])
        let size = IDXReference.sizes[type]!
        let rank = 1 + rng.below(3)
        let dims = (0..<rank).map { _ in rng.oneIn(10) ? 0 : 1 + rng.below(4) }
        var bytes: [UInt8] = [0, 0, type, UInt8(rank)] + dims.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (8 * (3 - $0))) } }
        for _ in 0..<dims.reduce(1, *) {
            if type == 0x0D && rng.oneIn(4) {
                let x = rng.pick([Float.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude])
                bytes += (0..<4).map { UInt8(truncatingIfNeeded: x.bitPattern >> (8 * (3 - UInt32($0)))) }
            } else if type == 0x0E && rng.oneIn(3) {
                let x = rng.pick([Double.nan, .infinity, 1e300, -1e39, 3.4028235677973366e38, 3.4028235e38, 0x1p-1060, 2.5])
                bytes += (0..<8).map { UInt8(truncatingIfNeeded: x.bitPattern >> (8 * (7 - UInt64($0)))) }
            } else {
                bytes += (0..<size).map { k in k == size - 1 ? UInt8(rng.below(10)) : (rng.oneIn(6) ? 0xFF : 0) }
            }
        }
        return bytes
    }

    func mutateStructure(_ input: [UInt8], _ rng: inout FuzzRandom) -> [UInt8] {
        var b = input
        switch rng.below(16) {
        case 0: b[2] = rng.pick([0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0xFF])
        case 1: b[3] = rng.pick([0, 1, 2, 4, 255])
        case 2 where b.count >= 8:
            let d = rng.below(Int(b[3]) == 0 ? 1 : Int(b[3]))
            let value = rng.pick([UInt32(0), 1, 2, 3, 0x7FFF_FFFF, 0xFFFF_FFFF, 60000])
            for k in 0..<4 where 4 + 4 * d + k < b.count { b[4 + 4 * d + k] = UInt8(truncatingIfNeeded: value >> (8 * (3 - UInt32(k)))) }
        case 3: b = Array(b.prefix(rng.below(b.count + 1)))
        case 4: b += rng.bytes(1 + rng.below(8))
        case 5: b[1] = 1
        default: break
        }
        return rng.oneIn(6) ? flipBytes(b, &rng, edits: 1 + rng.below(2)) : b
    }

    func input(_ rng: inout FuzzRandom) -> [UInt8] {
        let raw = mutateStructure(array(&rng), &rng)
        guard gzip else { return raw }
        var g = rng.oneIn(3) ? GzipReference.member(raw, flags: rng.pick([0, 2, 4, 8, 16, 30])) : [UInt8](Gzip.compress(Data(raw)))
        switch rng.below(16) {
        case 0: g[3] |= rng.pick([0x20, 0x40, 0x80, 0x02, 0x04, 0x08])      // flags without their fields
        case 1: g[g.count - 1 - rng.below(8)] ^= 1                           // CRC-32 or ISIZE
        case 2: g = Array(g.prefix(rng.below(g.count)))                      // truncated
        case 3: g += rng.oneIn(2) ? [0x1F, 0x8B] + rng.bytes(rng.below(12)) : rng.bytes(1 + rng.below(4))
        case 4: g += GzipReference.member(Array(raw.suffix(rng.below(6))), flags: 0)  // a second member
        case 5: g[2] = 7
        case 6: g = flipBytes(g, &rng, edits: 1 + rng.below(3))
        default: break
        }
        return g
    }

    func run(_ input: [UInt8], _ rng: inout FuzzRandom) -> Outcome {
        var expected: (shape: [Int], values: [Double])?
        if gzip && input.starts(with: [0x1F, 0x8B]) {
            if let inner = GzipReference.decompress(input, limit: Self.gzipLimit) { expected = IDXReference.check(inner) }
        } else {
            expected = IDXReference.check(input)
        }
        let images: IDXArray<Float>
        do {
            images = try IDX.decode(Data(input), source: "fuzz", as: Float.self, gzipLimit: Self.gzipLimit)
            guard let expected else { return .acceptedInvalid("idx") }
            // Equal bits, except that NaN payloads may differ (the reference reads through Double).
            guard images.shape == expected.shape,
                  zip(images.tensor.scalars, expected.values).allSatisfy({ $0.bitPattern == Float($1).bitPattern || ($0.isNaN && $1.isNaN) })
            else {
                return .wrongResult("values")
            }
        } catch is DataError {
            return expected == nil ? .rejected : .rejectedValid
        } catch {
            return .foreignError("\(error)")
        }
        // Pairing with labels (one label per image, sometimes not).
        let count = images.shape[0]
        // (An empty array may declare billions of images: their labels are not built.)
        let labelCount = count > 4096 ? 3 : (rng.oneIn(8) ? count + 1 : count)
        let labelValues = (0..<labelCount).map { _ in rng.oneIn(10) ? rng.pick([70_000.0, -1, 2.5, .nan, 1e300]) : Double(rng.below(4)) }
        let labelBytes: [UInt8] = [0, 0, 0x0E, 1] + (0..<4).map { UInt8(truncatingIfNeeded: labelCount >> (8 * (3 - $0))) }
            + labelValues.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * (7 - UInt64($0)))) } }
        // A well-formed rank-1 Float64 file built just above (any values, NaN included, decode).
        let labels = try! IDX.decode(Data(labelBytes), as: Double.self)
        let pairs = IDXReference.pairs(images: expected!, labels: (labels.shape, labelValues))
        do {
            _ = try LabeledDataset.fromIDX(images: images, imagesSource: "fuzz", labels: labels, labelsSource: "fuzz-labels")
            return pairs ? .accepted : .acceptedInvalid("pairing")
        } catch is DataError {
            return pairs ? .rejectedValid : .rejected
        } catch {
            return .foreignError("\(error)")
        }
    }
}
