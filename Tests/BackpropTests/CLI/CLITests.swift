import Foundation
import Testing
@testable import Backprop

// End-to-end tests of the `backprop` executable (built by `swift build` / `swift test` next to
// the test bundle). Skipped when the executable is not there.

let executable: URL? = {
    let candidate = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("backprop")
    return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
}()

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func backprop(_ arguments: [String], environment: [String: String] = [:]) throws -> RunResult {
    let process = Process()
    process.executableURL = executable!
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A clean failure: non-zero exit, exactly one line on stderr containing `fragments`.
func expectOneLineError(_ r: RunResult, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status != 0, sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    for f in fragments { #expect(r.stderr.contains(f), "stderr: \(r.stderr)", sourceLocation: sourceLocation) }
    #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
}

@Suite(.enabled(if: executable != nil, "the backprop executable is not built"), .serialized)
struct CLITests {
    @Test func trainWritesModelMetricsPlotAndEvaluatePredictUseTheModel() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = dir + "/m.safetensors", metrics = dir + "/m.jsonl", plot = dir + "/m.svg"
        let r = try backprop(["train", "--epochs", "2", "--layers", "64,32,10", "--out", model, "--metrics", metrics, "--plot", plot])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("epoch 1/2") && r.stdout.contains("test accuracy") && r.stdout.contains("true\\pred"))
        #expect(!r.stdout.contains("\u{1B}["), "no terminal control codes when not a terminal")
        let lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect(Set(first.keys).isSuperset(of: ["epoch", "train_loss", "val_loss", "val_accuracy", "seconds"]))
        let last = try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as! [String: Any]
        #expect(Set(last.keys) == ["test_loss", "test_accuracy", "seconds"])
        let svg = try String(contentsOfFile: plot, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("validation accuracy") && svg.contains("<polyline"))
        #expect(FileManager.default.fileExists(atPath: dir + "/m.checkpoint.safetensors"))

        let e = try backprop(["evaluate", "--model", model])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout.contains("held-out test split") && e.stdout.contains("accuracy"))

        let input = dir + "/rows.csv"
        try "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0\n"
            .write(toFile: input, atomically: true, encoding: .utf8)
        let p = try backprop(["predict", "--model", model, "--input", input, "--json"])
        #expect(p.status == 0, "\(p.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(p.stdout.split(separator: "\n")[0].utf8)) as! [String: Any]
        let probabilities = obj["probabilities"] as! [Double]
        #expect(probabilities.count == 10 && Swift.abs(probabilities.reduce(0, +) - 1) < 1e-5)
        #expect(obj["label"] as? Int == probabilities.indices.max { probabilities[$0] < probabilities[$1] })
        let plain = try backprop(["predict", "--model", model, "--input", input])
        #expect(plain.status == 0 && plain.stdout.split(separator: "\n").count == 1)
    }

    @Test func layerSizesThatDoNotFitTheDataFailWithOneLine() throws {
        expectOneLineError(try backprop(["train", "--layers", "10,5,10", "--epochs", "1"]), "digits", "64 features")
        expectOneLineError(try backprop(["train", "--layers", "64,5,3", "--epochs", "1"]), "10 classes")
        expectOneLineError(try backprop(["train", "--layers", "64,x,10"]), "--layers")
    }

    @Test func missingAndMalformedFilesFailWithOneLineNamingTheFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        expectOneLineError(try backprop(["train", "--data", dir + "/nope.csv"]), "nope.csv")
        let ragged = dir + "/ragged.csv"
        try "1,2,0\n3,1\n".write(toFile: ragged, atomically: true, encoding: .utf8)
        expectOneLineError(try backprop(["train", "--data", ragged]), "ragged.csv")
        let truncated = dir + "/t.safetensors"
        try Data([0x40, 0, 0, 0, 0, 0, 0, 0, 0x7B]).write(to: URL(fileURLWithPath: truncated))
        expectOneLineError(try backprop(["evaluate", "--model", truncated]), "t.safetensors")
        expectOneLineError(try backprop(["predict", "--model", dir + "/none.safetensors", "--input", ragged]), "none.safetensors")
    }

    @Test func failedRunsNeverOverwriteAnExistingOut() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/keep.safetensors", checkpoint = dir + "/ckpt.safetensors"
        let metrics = dir + "/keep.jsonl", plot = dir + "/keep.svg"
        for path in [out, metrics, plot] { try Data("precious".utf8).write(to: URL(fileURLWithPath: path)) }
        // Bad data: nothing is written.
        let bad = dir + "/bad.csv"
        try "1,2,0\n1,oops,1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        expectOneLineError(try backprop(["train", "--data", bad, "--out", out]), "bad.csv")
        // Divergence: the message names epoch, step and the checkpoint; --out is untouched.
        let r = try backprop(["train", "--optimizer", "sgd", "--lr", "1e30", "--epochs", "3", "--out", out, "--checkpoint", checkpoint,
                              "--metrics", metrics, "--plot", plot])
        expectOneLineError(r, "epoch", "step", "--lr", "keep.safetensors")
        for path in [out, metrics, plot] { #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("precious".utf8), "\(path)") }
    }

    @Test func trainsOnIDXAndCSVFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 60 tiny 2×2 "images" in 3 classes: the bright pixel gives the class.
        var images: [UInt8] = [0, 0, 0x08, 3, 0, 0, 0, 60, 0, 0, 0, 2, 0, 0, 0, 2]
        var labels: [UInt8] = [0, 0, 0x08, 1, 0, 0, 0, 60]
        var csv = ""
        for i in 0..<60 {
            let c = i % 3
            let pixels = (0..<4).map { p in UInt8(p == c ? 200 + i % 7 : (i * 13 + p * 5) % 40) }
            images += pixels
            labels.append(UInt8(c))
            csv += pixels.map(String.init).joined(separator: ",") + ",\(c)\n"
        }
        try Data(images).write(to: URL(fileURLWithPath: dir + "/images-idx3-ubyte"))
        try Data(labels).write(to: URL(fileURLWithPath: dir + "/labels-idx1-ubyte"))
        try csv.write(toFile: dir + "/blobs.csv", atomically: true, encoding: .utf8)
        let r = try backprop(["train", "--data", dir + "/images-idx3-ubyte", "--labels", dir + "/labels-idx1-ubyte",
                              "--epochs", "3", "--layers", "4,8,3"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("60 examples, 4 features, 3 classes"))
        let c = try backprop(["train", "--data", dir + "/blobs.csv", "--epochs", "3"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.contains("model 4-128-3"))
        // A wrong magic number is one line naming the file.
        try Data([1, 2, 3, 4, 0, 0, 0, 1, 7]).write(to: URL(fileURLWithPath: dir + "/bad-idx"))
        expectOneLineError(try backprop(["train", "--data", dir + "/bad-idx", "--labels", dir + "/labels-idx1-ubyte"]), "bad-idx")
    }

    /// Every option that takes a number or a list of numbers accepts a negative value after a
    /// space, as other command-line tools do: it is parsed as the value (and then accepted or
    /// rejected on its merits), never taken for an option.
    @Test func numericOptionsAcceptNegativeValuesAfterASpace() throws {
        let jacobian = try backprop(["jacobian", "softmax", "--beta", "-1.5", "--x", "-1,2,3", "--json"])
        #expect(jacobian.status == 0, "\(jacobian.stderr)")
        let affine = try backprop(["jacobian", "affine", "--w", "-1,2;3,-4", "--b", "-0.5,1", "--x", "-1,2", "--wrt", "w", "--json"])
        #expect(affine.status == 0, "\(affine.stderr)")
        let explained = try backprop(["explain", "--beta", "-1", "--seed", "3"])
        #expect(explained.status == 0, "\(explained.stderr)")
        // Values that are parsed and then rejected: the message is about the value, not a
        // missing one.
        let rejected: [[String]] = [
            ["train", "--lr", "-1"], ["train", "--epochs", "-2"], ["train", "--batch-size", "-8"],
            ["train", "--layers", "-64,10"], ["train", "--label-smoothing", "-0.1"], ["train", "--clip-norm", "-1"],
            ["train", "--step-size", "-1", "--schedule", "step"], ["train", "--seed", "-1"],
            ["explain", "--target", "-1"], ["explain", "--inputs", "-3"], ["explain", "--outputs", "-3"],
            ["check", "--seed", "-1"], ["bench", "--seconds", "-1", "--workload", "gemm", "--smoke"],
        ]
        for arguments in rejected {
            let r = try backprop(arguments)
            #expect(!r.stderr.contains("Missing value"), "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains(arguments[1]) || r.stderr.contains(arguments[2]) || r.status == 0,
                    "\(arguments): \(r.stderr)")
        }
        // Options that accept negative values run.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (option, value) in [("--beta", "-1"), ("--momentum", "-0"), ("--weight-decay", "-0"), ("--gamma", "-0.5")] {
            var arguments = ["train", "--epochs", "1", option, value, "--layers", "64,8,10"]
            if option == "--gamma" { arguments += ["--schedule", "step"] }
            if option == "--momentum" { arguments += ["--optimizer", "sgd"] }
            let r = try backprop(arguments)
            #expect(!r.stderr.contains("Missing value"), "\(arguments): \(r.stderr)")
        }
    }

    /// With the library's own kernels (a multi-threaded system BLAS may round differently from
    /// one run to the next; see docs/formats.md, "Checkpoints").
    @Test func resumedRunWritesTheSameModelAsAnUninterruptedOne() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = ["--layers", "64,16,10", "--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--seed", "5"]
        let swiftKernels = ["BACKPROP_BLAS": "off"]
        let straight = try backprop(["train", "--epochs", "3", "--out", dir + "/straight.safetensors"] + common, environment: swiftKernels)
        #expect(straight.status == 0, "\(straight.stderr)")
        let part = try backprop(["train", "--epochs", "1", "--checkpoint", dir + "/c.safetensors"] + common, environment: swiftKernels)
        #expect(part.status == 0, "\(part.stderr)")
        let resumed = try backprop(["train", "--resume", dir + "/c.safetensors", "--epochs", "3", "--out", dir + "/resumed.safetensors"],
                                   environment: swiftKernels)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("resuming") && resumed.stdout.contains("epoch 2/3") && !resumed.stdout.contains("epoch 1/3"))
        let a = try Classifier(contentsOf: dir + "/straight.safetensors"), b = try Classifier(contentsOf: dir + "/resumed.safetensors")
        for (x, y) in zip(a.network.parameters, b.network.parameters) {
            #expect(x.scalars.map(\.bitPattern) == y.scalars.map(\.bitPattern))
        }
    }

    @Test func predictRejectsRowsOfTheWrongWidth() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = dir + "/rows.csv"
        try "1,2,3\n".write(toFile: input, atomically: true, encoding: .utf8)
        let model = fixtureURL("torch_sequential.safetensors").path
        let r = try backprop(["predict", "--model", model, "--input", input, "--activation", "tanh"])
        expectOneLineError(r, "rows.csv", "expects 4 features")
    }

    /// `backprop jacobian --json` by every method equals the closed forms to 1e-12 (the seed's
    /// example for the affine map, with respect to w, b and x; softmax at β = 2).
    @Test func jacobianJSONMatchesClosedFormsByEveryMethod() throws {
        func matrix(_ r: RunResult) throws -> [[Double]] {
            #expect(r.status == 0, "\(r.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            let rows = object["jacobian"] as! [[Double]]
            #expect(object["rows"] as? Int == rows.count && object["cols"] as? Int == rows.first?.count)
            return rows
        }
        let x: [Double] = [1, 2, 3]
        let e: [Double] = x.map { Double.exp(2 * $0) }
        let total: Double = e.reduce(0, +)
        let y: [Double] = e.map { $0 / total }
        var softmax: [[Double]] = []
        for i in 0..<3 {
            var row: [Double] = []
            for j in 0..<3 { row.append(2 * ((i == j ? y[i] : 0) - y[i] * y[j])) }
            softmax.append(row)
        }
        let affine: [String: [[Double]]] = [
            "w": [[1, 0, 2, 0, 0, 0], [0, 0, 0, 1, 0, 2]], "b": [[1, 0], [0, 1]], "x": [[1, 2, 3], [4, 5, 6]],
        ]
        // Exact methods: 1e-12. The numeric stencil (h = 1e-3) adds rounding of up to
        // (1+8+8+1)/12 · ε·max|y| / h per entry, doubled for safety: 6.7e-13 for softmax
        // (|y| ≤ 1), 1.0e-11 for the affine example (|y| ≤ 15); its truncation is zero for the
        // linear affine map and ≈ h⁴|f⁽⁵⁾|/30 ≈ 1e-12 for softmax at β = 2.
        func tolerance(_ method: String, maxOutput: Double) -> Double {
            method == "numeric" ? 1e-12 + 2 * 1.5 * Double.ulpOfOne * maxOutput / 1e-3 : 1e-12
        }
        for method in ["reverse", "forward", "closed-form", "numeric"] {
            let s = try matrix(try backprop(["jacobian", "softmax", "--beta", "2", "--x", "1,2,3", "--method", method, "--json"]))
            for (a, b) in zip(Array(s.joined()), Array(softmax.joined())) {
                #expect(Swift.abs(a - b) <= tolerance(method, maxOutput: 1), "softmax \(method)")
            }
            for (wrt, expected) in affine {
                let j = try matrix(try backprop(["jacobian", "affine", "--w", "1,2,3;4,5,6", "--b", "0.5,-1", "--x", "1,0,2",
                                                 "--wrt", wrt, "--method", method, "--json"]))
                #expect(j.count == expected.count && j.first?.count == expected.first?.count, "affine \(wrt) \(method)")
                for (a, b) in zip(Array(j.joined()), Array(expected.joined())) {
                    #expect(Swift.abs(a - b) <= tolerance(method, maxOutput: 15), "affine \(wrt) \(method)")
                }
            }
        }
    }

    @Test func jacobianRejectsBadInputWithOneLine() throws {
        expectOneLineError(try backprop(["jacobian", "tanh", "--x", "1"]), "'tanh' is invalid", "'softmax' and 'affine'")
        expectOneLineError(try backprop(["jacobian", "softmax", "--x", "1,two,3"]), "--x", "'two' is not a finite number")
        expectOneLineError(try backprop(["jacobian", "affine", "--w", "1,2;3", "--b", "0,0", "--x", "1,2"]), "ragged rows")
        expectOneLineError(try backprop(["jacobian", "affine", "--w", "1,2;3,4", "--b", "0,0", "--x", "1,2,3"]), "--x has 3 entries")
        expectOneLineError(try backprop(["jacobian", "affine", "--w", "1,2;3,4", "--b", "0", "--x", "1,2"]), "--b has 1 entries")
        expectOneLineError(try backprop(["jacobian", "softmax", "--x", "1", "--method", "magic"]), "'magic' is invalid", "--method")
        expectOneLineError(try backprop(["jacobian", "softmax", "--x", "1", "--wrt", "w"]), "--wrt w is for affine")
    }

    /// `backprop check` prints the table and a passing summary, and `--filter` selects ops.
    @Test func checkPrintsATableAndPasses() throws {
        let r = try backprop(["check", "--filter", "softmax"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("max abs error") && r.stdout.contains("softmax β=-3") && r.stdout.contains("0 failed"))
        #expect(!r.stdout.contains("FAIL"))
        expectOneLineError(try backprop(["check", "--filter", "no-such-op"]), "no op matches")
    }
}
