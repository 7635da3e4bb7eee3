import Foundation
import Testing
@testable import Backprop

/// Seeded random and mutated inputs for every reader: each must return or throw a
/// `DataError` — a trap would abort the test run.
@Suite struct ReaderFuzzTests {
    static let iterations = 2000

    /// Random bytes, biased towards the given alphabet half of the time.
    static func randomBytes(_ rng: inout SeededGenerator, maxLength: Int, alphabet: [UInt8] = []) -> [UInt8] {
        let length = Int(rng.next() % UInt64(maxLength + 1))
        let useAlphabet = !alphabet.isEmpty && rng.next() % 2 == 0
        return (0..<length).map { _ in
            useAlphabet ? alphabet[Int(rng.next() % UInt64(alphabet.count))] : UInt8(truncatingIfNeeded: rng.next())
        }
    }

    /// `bytes` with one to four random edits: flip, overwrite, truncate, insert, delete, duplicate.
    static func mutated(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var out = bytes
        for _ in 0...(rng.next() % 4) {
            let position = out.isEmpty ? 0 : Int(rng.next() % UInt64(out.count))
            switch rng.next() % 6 {
            case 0 where !out.isEmpty: out[position] ^= UInt8(1 << (rng.next() % 8))
            case 1 where !out.isEmpty: out[position] = [0x00, 0xFF, 0x7F, 0x80, UInt8(truncatingIfNeeded: rng.next())][Int(rng.next() % 5)]
            case 2: out = Array(out.prefix(position))
            case 3: out.insert(contentsOf: randomBytes(&rng, maxLength: 8), at: position)
            case 4 where !out.isEmpty: out.remove(at: position)
            default:
                let end = min(out.count, position + Int(rng.next() % 16))
                out.insert(contentsOf: out[position..<end], at: position)
            }
        }
        return out
    }

    /// Runs `read` on `bytes`; anything but success or a `DataError` is recorded as an issue.
    static func survive(_ bytes: [UInt8], _ read: (Data) throws -> Void) {
        do { try read(Data(bytes)) } catch is DataError {} catch {
            Issue.record("non-DataError \(error) for input \(bytes)")
        }
    }

    /// Random safetensors headers assembled from the format's own tokens.
    static func randomHeader(_ rng: inout SeededGenerator) -> [UInt8] {
        let tokens = ["{", "}", "[", "]", ":", ",", "\"a\"", "\"b\"", "\"dtype\"", "\"F32\"", "\"F16\"", "\"BF16\"",
                      "\"F64\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "0", "1", "4", "8", "-1",
                      "1e300", "true", "null", "18446744073709551616", " "]
        var text = "{"
        for _ in 0..<(rng.next() % 24) { text += tokens[Int(rng.next() % UInt64(tokens.count))] }
        let header = Array(text.utf8)
        return littleEndianBytes(UInt64(header.count)) + header + randomBytes(&rng, maxLength: 16)
    }

    @Test func safeTensorsReaderSurvivesRandomAndMutatedBytes() throws {
        var rng = SeededGenerator(seed: 0x5AFE)
        let valid = [UInt8](try SafeTensors<Float>(tensors: [("0.weight", Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])),
                                                             ("0.bias", Tensor([5, 6]))],
                                                   metadata: ["beta": "1"]).encoded())
        let decode: (Data) throws -> Void = { _ = try SafeTensors<Double>(decoding: $0, source: "fuzz") }
        for _ in 0..<Self.iterations {
            Self.survive(Self.randomBytes(&rng, maxLength: 64), decode)
            Self.survive(Self.randomHeader(&rng), decode)
            Self.survive(Self.mutated(valid, &rng), decode)
        }
    }

    @Test func idxReaderSurvivesRandomAndMutatedBytesRawAndGzip() {
        var rng = SeededGenerator(seed: 0x1D8)
        let valid = [UInt8](handBuiltIDX(type: 0x0B, dims: [2, 3], payload: Array(0..<12)))
        let gzipped = [UInt8](Gzip.compress(Data(valid)))
        let decode: (Data) throws -> Void = { _ = try IDX.decode($0, source: "fuzz", as: Float.self, gzipLimit: 1 << 20) }
        for _ in 0..<Self.iterations {
            Self.survive([0, 0] + Self.randomBytes(&rng, maxLength: 40, alphabet: [0, 1, 2, 8, 9, 0x0B, 0x0C, 0x0D, 0x0E, 0xFF]), decode)
            Self.survive([0x1F, 0x8B] + Self.randomBytes(&rng, maxLength: 40), decode)
            Self.survive(Self.mutated(valid, &rng), decode)
            Self.survive(Self.mutated(gzipped, &rng), decode)
        }
    }

    @Test func csvReadersSurviveRandomAndMutatedBytes() {
        var rng = SeededGenerator(seed: 0xC5F)
        let alphabet = Array("0123456789,,,..--+eE\n\n\r \tnaif".utf8)
        let valid = Array("0,1.5,2,3\n4,5,6e1,1\n7,8,-9,2\n".utf8)
        let labeled: (Data) throws -> Void = { _ = try CSV.decodeLabeled($0, source: "fuzz") }
        let labeledWithClasses: (Data) throws -> Void = { _ = try CSV.decodeLabeled($0, source: "fuzz", classCount: 3) }
        let features: (Data) throws -> Void = { _ = try CSV.decodeFeatures($0, source: "fuzz") }
        for _ in 0..<Self.iterations {
            let random = Self.randomBytes(&rng, maxLength: 64, alphabet: alphabet)
            let mutant = Self.mutated(valid, &rng)
            for read in [labeled, labeledWithClasses, features] {
                Self.survive(random, read)
                Self.survive(mutant, read)
            }
        }
    }
}
