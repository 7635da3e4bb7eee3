import Foundation
import Testing
@testable import Backprop
#if canImport(Glibc)
import Glibc
#endif

// The `backprop` executable against hostile and unusual input: every case ends in one line on
// stderr and a non-zero exit (or a one-line warning and success), never a trap, a stack trace
// or a replaced device.

/// A model written by the library for the tests to tamper with: 4 inputs, 3 classes.
private func writeSmallModel(to path: String, metadata: [String: String] = [:]) throws {
    var rng = SeededGenerator(seed: 1)
    let model = Classifier(layerSizes: [4, 5, 3], activation: .relu, generator: &rng)
    try SafeTensors(tensors: model.safeTensors().tensors, metadata: model.modelMetadata.merging(metadata) { _, new in new })
        .write(to: path)
}

/// 60 rows of 4 features in 3 classes (the bright pixel gives the class), as CSV text.
private func blobsCSV(rows: Int = 60) -> String {
    (0..<rows).map { i in
        let c = i % 3
        return ((0..<4).map { p in String(p == c ? 200 + i % 7 : (i * 13 + p * 5) % 40) } + [String(c)]).joined(separator: ",")
    }.joined(separator: "\n") + "\n"
}

/// A clean success that printed exactly the given warnings (one line each) on stderr.
private func expectSuccessWarning(_ r: RunResult, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == 0, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1 && lines[0].hasPrefix("backprop: warning: "), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    for f in fragments { #expect(r.stderr.contains(f), "stderr: \(r.stderr)", sourceLocation: sourceLocation) }
}

@Suite(.enabled(if: executable != nil, "the backprop executable is not built"), .serialized)
struct HostileInputCLITests {
    @Test func outOfRangeArchitectureInAModelIsOneLineForEvaluateAndPredict() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try blobsCSV().write(toFile: dir + "/rows.csv", atomically: true, encoding: .utf8)
        for architecture in ["[4,5,1e20]", "[1e308,5,3]"] {
            let model = dir + "/m.safetensors"
            try writeSmallModel(to: model, metadata: ["architecture": architecture])
            expectOneLineError(try backprop(["evaluate", "--model", model, "--data", dir + "/rows.csv"]),
                               "m.safetensors", "metadata architecture \(architecture) does not match")
            expectOneLineError(try backprop(["predict", "--model", model, "--input", dir + "/rows.csv"]),
                               "m.safetensors", "metadata architecture \(architecture) does not match")
        }
    }

    @Test func oneLargeLabelIsOneLineNamingTheLabelAndRow() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rows = (0..<9).map { "\($0),\($0 * 2),\($0 % 3)" }
        rows.append("1,2,65535")
        try (rows.joined(separator: "\n") + "\n").write(toFile: dir + "/ten.csv", atomically: true, encoding: .utf8)
        expectOneLineError(try backprop(["train", "--data", dir + "/ten.csv", "--epochs", "1"]),
                           "ten.csv: line 10: label 65535 implies 65536 classes")
    }

    @Test func impossibleSizesAreRefusedWithTheMemoryTheyNeed() throws {
        expectOneLineError(try backprop(["train", "--layers", "64,999999999,10", "--epochs", "1"]),
                           "training the 64-999999999-10 model with batch size 32 needs about", "of memory, more than", "--layers")
        expectOneLineError(try backprop(["train", "--layers", "64,100000,100000,10", "--epochs", "1"]),
                           "64-100000-100000-10", "of memory, more than")
        // A 2000×2000 Jacobian (about 122 MB by the estimate) under a 64 MB limit.
        let x = Array(repeating: "1", count: 2000).joined(separator: ",")
        expectOneLineError(try backprop(["jacobian", "softmax", "--x", x], environment: ["BACKPROP_MEMORY_LIMIT": "64M"]),
                           "jacobian: the 2000×2000 Jacobian needs about 122.1 MB of memory, more than the 64.0 MB available")
        expectOneLineError(try backprop(["jacobian", "softmax", "--x", "1,2"], environment: ["BACKPROP_MEMORY_LIMIT": "lots"]),
                           "BACKPROP_MEMORY_LIMIT=\"lots\" is not a positive size")
    }

    @Test func aNulByteInsideACSVNumberIsAnErrorNamingRowAndColumn() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data((blobsCSV() + "1\u{0} 9999,2,3,4,0\n").utf8).write(to: URL(fileURLWithPath: dir + "/nul.csv"))
        expectOneLineError(try backprop(["train", "--data", dir + "/nul.csv", "--epochs", "1"]),
                           "nul.csv: line 61, column 1: \"1\\u{0} 9999\" is not a number")
        try Data((blobsCSV() + "1,2,3,4,7\u{0}garbage\n").utf8).write(to: URL(fileURLWithPath: dir + "/label.csv"))
        expectOneLineError(try backprop(["train", "--data", dir + "/label.csv", "--epochs", "1"]),
                           "label.csv: line 61, column 5: label \"7\\u{0}garbage\" is not a non-negative integer")
    }

    @Test func safetensorsLooserThanTheReferenceIsRejected() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = dir + "/m.safetensors"
        try writeSmallModel(to: model)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        let n = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        let body = bytes[(8 + n)...]
        func variant(_ name: String, _ edit: (String) -> String) throws -> String {
            let text = Array(edit(header).utf8)
            try Data(littleEndianBytes(UInt64(text.count)) + text + body).write(to: URL(fileURLWithPath: dir + "/" + name))
            return dir + "/" + name
        }
        let duplicate = try variant("dup.safetensors") { "{\"__metadata__\":{\"format\":\"x\"}," + $0.dropFirst() }
        expectOneLineError(try backprop(["evaluate", "--model", duplicate]), "dup.safetensors", "duplicate key \"__metadata__\"")
        let floatOffsets = try variant("offsets.safetensors") { $0.replacingOccurrences(of: "\"data_offsets\":[0,", with: "\"data_offsets\":[0.0,") }
        expectOneLineError(try backprop(["evaluate", "--model", floatOffsets]), "offsets.safetensors", "\"data_offsets\" holds the number 0.0")
        let floatShape = try variant("shape.safetensors") { $0.replacingOccurrences(of: "\"shape\":[5,4]", with: "\"shape\":[5.0,4.0]") }
        expectOneLineError(try backprop(["evaluate", "--model", floatShape]), "shape.safetensors", "\"shape\" holds the number 5.0")
    }

    @Test func optionsThatMakeNoSenseAreRejectedOrWarnedAbout() throws {
        for (option, fragment) in [("--momentum=-1", "--momentum must be ≥ 0, got -1.0"),
                                   ("--weight-decay=-1", "--weight-decay must be ≥ 0, got -1.0"),
                                   ("--gamma=0", "--gamma must be in (0, 1]"), ("--gamma=-1", "--gamma must be in (0, 1]"),
                                   ("--gamma=2", "--gamma must be in (0, 1]")] {
            expectOneLineError(try backprop(["train", "--optimizer", "sgd", "--schedule", "step", option]), fragment)
        }
        expectSuccessWarning(try backprop(["train", "--epochs", "1", "--layers", "64,8,10", "--momentum", "0.5", "--nesterov"]),
                             "--momentum and --nesterov have no effect with --optimizer adam")
        expectSuccessWarning(try backprop(["train", "--epochs", "1", "--layers", "64,8,10", "--beta=-1"]), "β ≤ 0")
        expectSuccessWarning(try backprop(["train", "--epochs", "1", "--layers", "64,8,12"]),
                             "--layers ends with 12 outputs but digits has 10 classes")
        expectOneLineError(try backprop(["jacobian", "softmax", "--x", "1,2", "--wrt", "w"]),
                           "softmax is differentiated with respect to x only; --wrt w is for affine")
        let affine = try backprop(["jacobian", "affine", "--w", "1,2;3,4", "--b", "0,0", "--x", "1,2", "--beta", "3"])
        expectSuccessWarning(affine, "--beta 3.0 has no effect on the affine map")
    }

    @Test func resumeWarnsAboutTheOptionsItIgnores() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try backprop(["train", "--epochs", "1", "--layers", "64,8,10", "--checkpoint", dir + "/c.safetensors"]).status == 0)
        expectSuccessWarning(try backprop(["train", "--resume", dir + "/c.safetensors", "--epochs", "2", "--lr", "0.5", "--seed", "3"]),
                             "--lr, --seed have no effect with --resume")
    }

    @Test func nonFiniteNumericOptionsAreRejectedByName() throws {
        for (option, value) in [("--clip-norm", "inf"), ("--momentum", "nan"), ("--weight-decay", "inf"), ("--gamma", "nan"),
                                ("--lr", "inf"), ("--label-smoothing", "nan"), ("--beta", "inf")] {
            let r = try backprop(["train", "--optimizer", "sgd", "--schedule", "step", option, value])
            expectOneLineError(r, "\(option) must be a finite number")
            #expect(!r.stderr.contains("EncodingError"))
        }
        // (--smoke, so that a bench that ignored the check would end at once instead of running forever.)
        expectOneLineError(try backprop(["bench", "--smoke", "--workload", "gemm", "--seconds", "inf"]), "--seconds must be a finite number")
    }

    @Test func nonFiniteOrZeroWidthIDXImagesGetMessagesAboutTheData() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let labels = Data([0, 0, 0x08, 1, 0, 0, 0, 30] + (0..<30).map { UInt8($0 % 3) })
        try labels.write(to: URL(fileURLWithPath: dir + "/labels-idx1"))
        var pixels: [UInt8] = []
        for i in 0..<30 { for p in 0..<2 { pixels += withUnsafeBytes(of: Float(i % 3 == p ? 1 : 0).bitPattern.bigEndian) { Array($0) } } }
        pixels.replaceSubrange(44..<48, with: [0x7F, 0xC0, 0, 0])  // image 5, pixel 1 is NaN
        try Data([0, 0, 0x0D, 2, 0, 0, 0, 30, 0, 0, 0, 2] + pixels).write(to: URL(fileURLWithPath: dir + "/nan-idx2"))
        let r = try backprop(["train", "--data", dir + "/nan-idx2", "--labels", dir + "/labels-idx1", "--epochs", "1"])
        expectOneLineError(r, "nan-idx2: image 5, pixel 1: the value nan is not finite")
        #expect(!r.stderr.contains("diverged") && !r.stderr.contains("--lr"))
        try Data([0, 0, 0x08, 3, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 28]).write(to: URL(fileURLWithPath: dir + "/empty-idx3"))
        let e = try backprop(["train", "--data", dir + "/empty-idx3", "--labels", dir + "/labels-idx1", "--epochs", "1"])
        expectOneLineError(e, "empty-idx3: IDX images of shape [30, 0, 28] have no pixels")
        #expect(!e.stderr.contains("--layers"))
    }

    @Test func outputsThroughLinksFIFOsAndStandardStreamsAreNotReplaced() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = ["train", "--epochs", "2", "--layers", "64,8,10"]
        // --out naming a symlink: the target is written, the link stays a link.
        try FileManager.default.createDirectory(atPath: dir + "/models", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: dir + "/latest.safetensors", withDestinationPath: "models/run1.safetensors")
        let linked = try backprop(common + ["--out", dir + "/latest.safetensors", "--checkpoint", dir + "/c.safetensors"])
        #expect(linked.status == 0, "\(linked.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/latest.safetensors") == "models/run1.safetensors")
        _ = try Classifier(contentsOf: dir + "/models/run1.safetensors")
        // --metrics into a FIFO: the lines stream into it and it stays a FIFO.
        let fifo = dir + "/metrics.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = Thread.detachNewThreadReadingAll(fifo)
        let streamed = try backprop(common + ["--metrics", fifo])
        #expect(streamed.status == 0, "\(streamed.stderr)")
        let lines = String(decoding: reader.wait(), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 3 && lines[0].hasPrefix("{\"epoch\":1,") && lines[2].contains("\"test_loss\":"))
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
        // --metrics /dev/stdout: the metrics lines appear on standard output, /dev/stdout stays a link.
        let stdout = try backprop(common + ["--metrics", "/dev/stdout"])
        #expect(stdout.status == 0, "\(stdout.stderr)")
        #expect(stdout.stdout.split(separator: "\n").filter { $0.hasPrefix("{\"epoch\":") }.count == 2)
        #expect(stdout.stdout.contains("\"test_loss\":"))
        #expect(lstat("/dev/stdout", &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
        // --out /dev/null: written through, no checkpoint beside it, /dev/null stays a device.
        let null = try backprop(common + ["--out", "/dev/null"])
        #expect(null.status == 0 && !null.stdout.contains("checkpoint"), "\(null.stderr)")
        #expect(lstat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
        #expect(!FileManager.default.fileExists(atPath: "/dev/null.checkpoint.safetensors"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
                == ["c.safetensors", "latest.safetensors", "metrics.fifo", "models"])
    }

    @Test(.enabled(if: canMakeDeviceNodes, "mknod is not permitted here"))
    func metricsToAFullDeviceFailsWithNoSpaceLeftAndKeepsTheDevice() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let full = dir + "/full"
        #expect(mknod(full, S_IFCHR | 0o666, dev_t(1 << 8 | 7)) == 0)
        let r = try backprop(["train", "--epochs", "2", "--layers", "64,8,10", "--metrics", full, "--out", dir + "/m.safetensors"])
        expectOneLineError(r, "full: cannot write: No space left on device")
        var info = stat()
        #expect(lstat(full, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.safetensors"), "a failed run wrote --out")
    }

    @Test func staleTemporariesLeftByAKilledRunAreRemovedByTheNextRun() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dead = deadProcessID()
        let stale = [".m.safetensors.tmp-\(dead)-k1", ".m.checkpoint.safetensors.tmp-\(dead)-k2"]
        for name in stale { try Data("partial".utf8).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        let r = try backprop(["train", "--epochs", "1", "--layers", "64,8,10", "--out", dir + "/m.safetensors"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["m.checkpoint.safetensors", "m.safetensors"])
    }

    @Test func aSecondRunOnTheSameOutputIsRefusedAndLeavesItAlone() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/m.safetensors"
        try Data("first run's result".utf8).write(to: URL(fileURLWithPath: out))
        let held = try OutputLock(for: out)  // as a first run holds it for its duration
        let r = try backprop(["train", "--epochs", "1", "--layers", "64,8,10", "--out", out])
        expectOneLineError(r, "m.safetensors: another process (pid \(getpid())) is writing this file")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data("first run's result".utf8))
        let checkpointHeld = try OutputLock(for: dir + "/other.checkpoint.safetensors")
        expectOneLineError(try backprop(["train", "--epochs", "1", "--layers", "64,8,10", "--out", dir + "/other.safetensors"]),
                           "other.checkpoint.safetensors: another process")
        held.release()
        checkpointHeld.release()
        let after = try backprop(["train", "--epochs", "1", "--layers", "64,8,10", "--out", out])
        #expect(after.status == 0, "\(after.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["m.checkpoint.safetensors", "m.safetensors"])
    }

    @Test func resumingACosineRunWithMoreEpochsKeepsTraining() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try backprop(["train", "--epochs", "2", "--layers", "64,8,10", "--schedule", "cosine", "--checkpoint", dir + "/c.safetensors"])
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try backprop(["train", "--resume", dir + "/c.safetensors", "--epochs", "4", "--metrics", dir + "/m.jsonl"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // The "lr" field's text, read with Swift's exact decimal conversion (it is written round-trip).
        let rates = try String(contentsOfFile: dir + "/m.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            line.components(separatedBy: "\"lr\":").dropFirst().first.flatMap { Double($0.prefix { $0 != "," && $0 != "}" }) }
        }
        #expect(rates.count == 4)
        // The horizon follows --epochs 4: epoch 3 runs at (1 + cos(π/2))/2 of 0.001, epoch 4 at (1 + cos(3π/4))/2.
        #expect(rates[2] == LearningRateSchedule.cosine(epochs: 4, minimum: 0).learningRate(base: 0.001, epoch: 2))
        #expect(rates[3] == LearningRateSchedule.cosine(epochs: 4, minimum: 0).learningRate(base: 0.001, epoch: 3))
        #expect(rates[2] > 0 && rates[3] > 0)
    }

    /// predict answers the first row before the rest of the input exists: the input is a FIFO
    /// whose writer stays open until the first answer has been read.
    @Test func predictStreamsTheFirstAnswerBeforeTheInputEnds() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = dir + "/m.safetensors"
        try writeSmallModel(to: model)
        let fifo = dir + "/rows.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let process = Process()
        process.executableURL = executable!
        process.arguments = ["predict", "--model", model, "--input", fifo]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Open the writing end once predict has opened the reading end (without blocking, so a
        // predict that fails before opening it cannot hang the test).
        var writer: Int32 = -1
        while writer < 0 && process.isRunning {
            writer = open(fifo, O_WRONLY | O_NONBLOCK)
            if writer < 0 { usleep(10_000) }
        }
        try #require(writer >= 0, "predict exited before opening its input")
        _ = fcntl(writer, F_SETFL, fcntl(writer, F_GETFL) & ~O_NONBLOCK)
        _ = "1,2,3,4\n".withCString { write(writer, $0, 8) }
        // A watchdog closes the input if no answer comes (as it would not if predict read to the
        // end first), so that the test fails instead of waiting forever.
        let state = WriterState(fd: writer)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 120)
            state.closeIfOpen()
        }
        var received = Data()
        while !received.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received.append(chunk)
        }
        let answeredWhileOpen = state.closeIfOpen()
        #expect(answeredWhileOpen, "the first answer came only after the input was closed")
        received.append(out.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        #expect(String(decoding: received, as: UTF8.self).split(separator: "\n").count == 1)
    }
}

/// A FIFO writer's descriptor that either the test or its watchdog closes, once.
private final class WriterState: @unchecked Sendable {
    private let lock = NSLock()
    private var fd: Int32?

    init(fd: Int32) { self.fd = fd }

    /// Closes the descriptor; true if this call closed it (false if it was already closed).
    @discardableResult
    func closeIfOpen() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let fd else { return false }
        close(fd)
        self.fd = nil
        return true
    }
}
