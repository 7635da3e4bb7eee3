import Foundation
import Testing
@testable import Backprop

// `backprop train --arch`: CNNs from a spec, recorded in the model file so that evaluate,
// predict and explain reload them, and one-line errors for specs and shapes that do not fit.
// Skipped when the executable is not built.

// (`executable` is the one CLITests finds.)
private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = executable!
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

private func expectOneLineError(_ arguments: [String], _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) throws {
    let r = try run(arguments)
    #expect(r.status != 0, sourceLocation: sourceLocation)
    #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    for f in fragments { #expect(r.stderr.contains(f), "stderr: \(r.stderr)", sourceLocation: sourceLocation) }
    #expect(!r.stderr.contains("Fatal error"), sourceLocation: sourceLocation)
}

@Suite(.enabled(if: executable != nil, "the backprop executable is not built"), .serialized)
struct ArchitectureCLITests {
    let dir: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-arch-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    @Test func trainsACNNOnTheDigitsAndEvaluatePredictExplainReloadIt() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = dir + "/cnn.safetensors"
        let t = try run(["train", "--arch", "conv 4 3 pad 1, relu, maxpool 2, flatten, linear", "--epochs", "1", "--out", model])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(t.stdout.contains("model conv 4 3 pad 1, relu, maxpool 2, flatten, linear 10 on 1×8×8"))
        let e = try run(["evaluate", "--model", model])
        #expect(e.status == 0 && e.stderr.isEmpty, "\(e.stderr)")
        #expect(e.stdout.contains("conv 4 3 pad 1") && e.stdout.contains("held-out test split"))
        let row = "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0"
        try (row + "\n").write(toFile: dir + "/row.csv", atomically: true, encoding: .utf8)
        let p = try run(["predict", "--model", model, "--input", dir + "/row.csv"])
        #expect(p.status == 0 && p.stdout.split(separator: "\n").count == 1, "\(p.stderr)")
        let x = try run(["explain", "--model", model, "--input", row])
        #expect(x.status == 0, "\(x.stderr)")
        #expect(x.stdout.contains("All checks agree"), "\(x.stdout)")
    }

    @Test func csvRowsTakeTheirShapeFromInputShape() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var csv = ""
        for i in 0..<40 {
            let c = i % 2
            csv += (0..<18).map { p in String(c == 0 ? (p < 9 ? 1 : 0) : (p < 9 ? 0 : 1)) }.joined(separator: ",") + ",\(c)\n"
        }
        try csv.write(toFile: dir + "/two.csv", atomically: true, encoding: .utf8)
        let r = try run(["train", "--data", dir + "/two.csv", "--arch", "conv 2 2, relu, flatten, linear", "--input-shape", "2,3,3", "--epochs", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("on 2×3×3"))
        try expectOneLineError(["train", "--data", dir + "/two.csv", "--arch", "conv 2 2, relu, flatten, linear"], "--arch", "needs an image [C, H, W]")
        try expectOneLineError(["train", "--data", dir + "/two.csv", "--arch", "cnn", "--input-shape", "1,4,4"],
                               "--input-shape 1,4,4 has 16 values, but the data have 18 features per row")
    }

    @Test func badSpecsAndConflictingOptionsFailWithOneLine() throws {
        try expectOneLineError(["train", "--arch", "conv 4"], "--arch: layer 1 (\"conv 4\"): conv needs an output channel count and a kernel size")
        try expectOneLineError(["train", "--arch", "conv 4 3, linear"], "--arch: layer 2 (\"linear 10\") on input 4×6×6: needs a flat input; add flatten before it")
        try expectOneLineError(["train", "--arch", "maxpool 4, maxpool 4, flatten, linear"], "--arch: layer 2", "does not fit")
        try expectOneLineError(["train", "--arch", "conv 4 3, flatten, linear 5"], "--arch ends with 5 outputs, but the data have 10 classes")
        try expectOneLineError(["train", "--arch", "cnn", "--layers", "64,10"], "--arch and --layers")
        try expectOneLineError(["train", "--arch", "cnn", "--activation", "tanh"], "--activation is for --layers")
        try expectOneLineError(["train", "--input-shape", "1,8,8"], "--input-shape needs --arch")
        try expectOneLineError(["train", "--arch", "cnn", "--input-shape", "1,8"], "--input-shape 1,8: expected C,H,W")
    }
}
