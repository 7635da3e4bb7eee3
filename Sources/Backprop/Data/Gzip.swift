import CZlib
import Foundation

/// gzip (RFC 1952) decompression and compression through zlib.
///
/// Decompression is bounded: the output grows in chunks only as zlib actually produces bytes,
/// and stops with an error past `limit`, so a small "zip bomb" or a lying size field cannot
/// make it allocate without bound. Concatenated gzip members (as `cat a.gz b.gz` makes) are
/// decoded one after another; anything else after the last member is an error, as is a stream
/// that ends before its trailer.
public enum Gzip {
    /// The largest decompressed size accepted by default: 4 GiB.
    public static let defaultLimit = 1 << 32

    /// Whether `data` starts with the gzip magic bytes `1f 8b`.
    public static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// The decompressed contents of the gzip stream `data`.
    ///
    /// - Parameters:
    ///   - data: the compressed bytes (a gzip member, starting 1F 8B).
    ///   - source: the file name used in error messages.
    ///   - limit: the most decompressed bytes accepted.
    /// - Throws: `DataError` for a corrupt or truncated stream, trailing bytes, or output past `limit`.
    public static func decompress(_ data: Data, source: String, limit: Int = defaultLimit) throws -> Data {
        guard data.count <= Int(UInt32.max) else {
            throw DataError(file: source, problem: "gzip: compressed input larger than 4 GiB is not supported")
        }
        let input = [UInt8](data)
        var output = Data()
        var stream = z_stream()
        // 15 + 16: a 32 KiB window, gzip wrapper only.
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(file: source, problem: "gzip: zlib could not be initialised")
        }
        defer { inflateEnd(&stream) }

        let chunkSize = 1 << 16
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        try input.withUnsafeBufferPointer { inBuffer in
            stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
            stream.avail_in = UInt32(inBuffer.count)
            while true {
                let status: Int32 = chunk.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = UInt32(chunkSize)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    let produced = chunkSize - Int(stream.avail_out)
                    output.append(outBuffer.baseAddress!, count: produced)
                    return status
                }
                if output.count > limit {
                    throw DataError(file: source, problem: "gzip: decompressed size exceeds the limit of \(limit) bytes")
                }
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    let remaining = Int(stream.avail_in)
                    if remaining == 0 { return }
                    let next = inBuffer.count - remaining
                    guard remaining >= 2, inBuffer[next] == 0x1F, inBuffer[next + 1] == 0x8B else {
                        throw DataError(file: source, problem: "gzip: \(remaining) bytes of trailing data after the compressed stream")
                    }
                    guard inflateReset(&stream) == Z_OK else {
                        throw DataError(file: source, problem: "gzip: zlib could not be reset")
                    }
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw DataError(file: source, problem: "gzip: truncated stream (ends before its trailer)")
                case Z_BUF_ERROR:
                    continue
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw DataError(file: source, problem: "gzip: corrupt stream (\(reason))")
                }
            }
        }
        return output
    }

    /// `data` compressed as a single gzip member.
    public static func compress(_ data: Data, level: Int32 = 6) -> Data {
        var stream = z_stream()
        let initStatus = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                       zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "Gzip.compress: deflateInit2 failed (\(initStatus))")
        defer { deflateEnd(&stream) }
        var input = [UInt8](data)
        var output = Data()
        let chunkSize = 1 << 16
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = UInt32(inBuffer.count)
            var status = Z_OK
            while status != Z_STREAM_END {
                chunk.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = UInt32(chunkSize)
                    status = deflate(&stream, Z_FINISH)
                    precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR,
                                 "Gzip.compress: deflate failed (\(status))")
                    output.append(outBuffer.baseAddress!, count: chunkSize - Int(stream.avail_out))
                }
            }
        }
        return output
    }
}
