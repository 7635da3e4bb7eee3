import Foundation
import Testing
@testable import Backprop

/// An IDX file built by hand: magic `00 00 type rank`, big-endian dimensions, payload.
func handBuiltIDX(type: UInt8, dims: [UInt32], payload: [UInt8]) -> Data {
    Data([0, 0, type, UInt8(dims.count)] + dims.flatMap { bigEndianBytes($0) } + payload)
}

@Suite struct IDXTests {
    static let images = handBuiltIDX(type: 0x08, dims: [3, 2, 2], payload: Array(0..<12).map { UInt8($0 * 20) })
    static let labels = handBuiltIDX(type: 0x08, dims: [3], payload: [7, 0, 9])

    @Test func readsUnsignedBytesWithTheirShape() throws {
        let array = try IDX.decode(Self.images, as: Float.self)
        #expect(array.elementType == .ubyte)
        #expect(array.tensor == Tensor(shape: [3, 2, 2], scalars: (0..<12).map { Float($0 * 20) }))
    }

    @Test func readsEverySignedAndFloatingTypeBigEndian() throws {
        #expect(try IDX.decode(handBuiltIDX(type: 0x09, dims: [3], payload: [0xFF, 0x80, 0x7F]), as: Double.self).tensor
                == Tensor([-1, -128, 127]))
        #expect(try IDX.decode(handBuiltIDX(type: 0x0B, dims: [2], payload: [0x01, 0x02, 0xFF, 0xFE]), as: Double.self).tensor
                == Tensor([258, -2]))
        #expect(try IDX.decode(handBuiltIDX(type: 0x0C, dims: [2], payload: [0x80, 0, 0, 0, 0, 0, 1, 0]), as: Double.self).tensor
                == Tensor([-2_147_483_648, 256]))
        #expect(try IDX.decode(handBuiltIDX(type: 0x0D, dims: [1, 1], payload: [0x3F, 0xC0, 0, 0]), as: Float.self).tensor
                == Tensor(shape: [1, 1], scalars: [1.5]))
        #expect(try IDX.decode(handBuiltIDX(type: 0x0E, dims: [1], payload: [0xC0, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18]), as: Double.self).tensor
                == Tensor([-3.141592653589793]))
    }

    @Test func gzipFileDecodesToTheSameArray() throws {
        let compressed = Gzip.compress(Self.images)
        #expect(compressed.starts(with: [0x1F, 0x8B]))
        #expect(try IDX.decode(compressed, as: Float.self).tensor == IDX.decode(Self.images, as: Float.self).tensor)
        // Two concatenated gzip members decode as their concatenation.
        let half = Self.images.count / 2
        let twoMembers = Gzip.compress(Self.images.prefix(half)) + Gzip.compress(Self.images.dropFirst(half))
        #expect(try IDX.decode(twoMembers, as: Float.self).tensor == IDX.decode(Self.images, as: Float.self).tensor)
    }

    @Test func gzipFileIsReadFromDisk() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("labels-idx1-ubyte.gz")
        try Gzip.compress(Self.labels).write(to: URL(fileURLWithPath: path))
        #expect(try IDX.read(path, as: Float.self).tensor == Tensor([7, 0, 9]))
    }

    @Test func truncatedCorruptOrPaddedGzipIsAnError() {
        let compressed = Gzip.compress(Self.images)
        for cut in [3, 10, compressed.count - 4, compressed.count - 1] {
            expectDataError(file: "x.gz", containing: "gzip: truncated stream") {
                _ = try IDX.decode(compressed.prefix(cut), source: "x.gz", as: Float.self)
            }
        }
        expectDataError(file: "x.gz", containing: "gzip: 3 bytes of trailing data") {
            _ = try IDX.decode(compressed + [1, 2, 3], source: "x.gz", as: Float.self)
        }
        var corrupt = compressed
        corrupt[corrupt.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        expectDataError(file: "x.gz", containing: "gzip: corrupt stream") {
            _ = try IDX.decode(corrupt, source: "x.gz", as: Float.self)
        }
    }

    @Test func gzipOutputBeyondTheLimitIsAnError() {
        let big = Gzip.compress(handBuiltIDX(type: 0x08, dims: [100_000], payload: [UInt8](repeating: 0, count: 100_000)))
        expectDataError(file: "bomb.gz", containing: "exceeds the limit of 1000 bytes") {
            _ = try IDX.decode(big, source: "bomb.gz", as: Float.self, gzipLimit: 1000)
        }
    }

    @Test func malformedHeadersAndSizesAreRejected() {
        let cases: [(Data, String)] = [
            (Data([0, 0, 8]), "too short for the 4-byte magic number"),
            (Data([0x12, 0x34, 8, 1, 0, 0, 0, 0]), "not an IDX file (magic starts 12 34"),
            (Data([0, 0, 0x0A, 1, 0, 0, 0, 0]), "unknown element type 0x0a"),
            (Data([0, 0, 8, 0]), "rank 0"),
            (Data([0, 0, 8, 3, 0, 0, 0, 1]), "header declares 3 dimensions (16 bytes) but the file has 8 bytes"),
            (handBuiltIDX(type: 0x08, dims: [2, 3], payload: [1, 2, 3, 4, 5]), "payload is 5 bytes but dimensions [2, 3] of ubyte need 6 (truncated)"),
            (handBuiltIDX(type: 0x0C, dims: [2], payload: [UInt8](repeating: 0, count: 9)), "payload is 9 bytes but dimensions [2] of int need 8 (trailing bytes)"),
            (handBuiltIDX(type: 0x0E, dims: [.max, .max, .max, .max], payload: []), "have too many elements"),
            (handBuiltIDX(type: 0x0E, dims: [.max, 2], payload: []), "need 68719476720 (truncated)"),
        ]
        for (bytes, fragment) in cases {
            expectDataError(file: "bad.idx", containing: fragment) {
                _ = try IDX.decode(bytes, source: "bad.idx", as: Float.self)
            }
        }
    }

    @Test func imagesAndLabelsPairIntoFlattenedRows() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let imagesPath = directory.file("images.idx"), labelsPath = directory.file("labels.idx.gz")
        try Self.images.write(to: URL(fileURLWithPath: imagesPath))
        try Gzip.compress(Self.labels).write(to: URL(fileURLWithPath: labelsPath))
        let dataset = try LabeledDataset.readIDX(images: imagesPath, labels: labelsPath)
        #expect(dataset.features == Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0 * 20) }))
        #expect(dataset.labels == [7, 0, 9])
        #expect(dataset.classCount == 10)
        #expect(try LabeledDataset.readIDX(images: imagesPath, labels: labelsPath, classCount: 12).classCount == 12)
    }

    @Test func mismatchedOrInvalidLabelsAreRejectedNamingTheLabelsFile() throws {
        let images = try IDX.decode(Self.images, as: Float.self)
        func pair(_ labels: Data, classCount: Int? = nil) throws {
            _ = try LabeledDataset.fromIDX(images: images, imagesSource: "images.idx",
                                           labels: try IDX.decode(labels, as: Double.self),
                                           labelsSource: "labels.idx", classCount: classCount)
        }
        expectDataError(file: "labels.idx", containing: "2 labels for 3 images in images.idx") {
            try pair(handBuiltIDX(type: 0x08, dims: [2], payload: [1, 2]))
        }
        expectDataError(file: "labels.idx", containing: "must have one dimension") {
            try pair(handBuiltIDX(type: 0x08, dims: [3, 1], payload: [1, 2, 3]))
        }
        expectDataError(file: "labels.idx", containing: "index 1: label -1.0 is not a non-negative integer") {
            try pair(handBuiltIDX(type: 0x09, dims: [3], payload: [1, 0xFF, 3]))
        }
        expectDataError(file: "labels.idx", containing: "index 0: label 7 is not below the class count 5") {
            try pair(Self.labels, classCount: 5)
        }
        expectDataError(file: "labels.idx", containing: "index 0: label 100000 implies more than 65536 classes") {
            try pair(handBuiltIDX(type: 0x0C, dims: [3], payload: bigEndianBytes(Int32(100_000)) + [0, 0, 0, 1, 0, 0, 0, 2]))
        }
    }
}
