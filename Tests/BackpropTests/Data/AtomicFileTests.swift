import Foundation
import Testing
@testable import Backprop

@Suite struct AtomicFileTests {
    struct InjectedFailure: Error {}

    @Test func writeReplacesTheFileAndLeavesNoTemporaryFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("out.bin")
        try AtomicFile.write(Data([1, 2, 3]), to: path)
        try AtomicFile.write(Data([4, 5]), to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([4, 5]))
        #expect(try directory.contents() == ["out.bin"])
    }

    @Test func failureBeforeRenameLeavesTheExistingFileByteIdentical() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("model.safetensors")
        let original = Data((0..<1000).map { UInt8($0 % 251) })
        try original.write(to: URL(fileURLWithPath: path))
        #expect(throws: InjectedFailure.self) {
            try AtomicFile.write(Data([9, 9, 9]), to: path, beforeRename: { throw InjectedFailure() })
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)
        #expect(try directory.contents() == ["model.safetensors"])
    }

    @Test func failedSafeTensorsWriteLeavesTheExistingFileByteIdentical() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("model.safetensors")
        let good = SafeTensors<Float>(tensors: [("w", Tensor([1, 2]))])
        try good.write(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let bad = SafeTensors<Float>(tensors: [("w", Tensor([1])), ("w", Tensor([2]))])
        expectDataError(file: path, containing: "appears more than once") { try bad.write(to: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try directory.contents() == ["model.safetensors"])
    }

    @Test func renameOntoADirectoryFailsAndLeavesItAlone() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("taken")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try Data([7]).write(to: URL(fileURLWithPath: path + "/inside"))
        expectDataError(file: path, containing: "cannot replace") { try AtomicFile.write(Data([1]), to: path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["inside"])
        #expect(try directory.contents() == ["taken"])
    }

    @Test func writeIntoAMissingDirectoryNamesThePath() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("no/such/dir/out.bin")
        expectDataError(file: path, containing: "cannot create temporary file: No such file or directory") {
            try AtomicFile.write(Data([1]), to: path)
        }
    }
}
