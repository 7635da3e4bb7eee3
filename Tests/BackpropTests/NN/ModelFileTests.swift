import Foundation
import Testing
@testable import Backprop

private func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("backprop-nn-\(UUID().uuidString)-\(name)").path
}

private func sampleClassifier(seed: UInt64 = 9) -> Classifier {
    var rng = SeededGenerator(seed: seed)
    var c = Classifier(layerSizes: [6, 5, 4, 3], activation: .tanh, beta: 1.5, generator: &rng)
    c.standardization = Standardization(mean: [0, 1, 2, 3, 4, 5], std: [1, 2, 3, 4, 5, 0.5])
    return c
}

@Test func modelFileRoundTripsBitIdentically() throws {
    let model = sampleClassifier()
    let path = temporaryPath("model.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try model.write(to: path)
    let back = try Classifier(contentsOf: path)
    #expect(back.layerSizes == model.layerSizes && back.activation == .tanh && back.beta.scalar == 1.5)
    #expect(back.standardization == model.standardization)
    for (a, b) in zip(back.network.parameters, model.network.parameters) {
        #expect(a.shape == b.shape && a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern))
    }
    // Written again, the bytes are identical.
    let again = temporaryPath("again.safetensors")
    defer { try? FileManager.default.removeItem(atPath: again) }
    try back.write(to: again)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: again)))
}

@Test func modelFileLayoutFollowsTheSafetensorsSpecification() throws {
    let model = sampleClassifier()
    let path = temporaryPath("layout.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try model.write(to: path)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    // 8-byte little-endian header length N, then N bytes of JSON, then the data buffer.
    let n = bytes[0..<8].enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
    #expect(8 + n <= bytes.count)
    let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
    let buffer = bytes.count - 8 - n
    var ranges: [(Int, Int)] = []
    var names: [String] = []
    for (name, value) in header where name != "__metadata__" {
        let entry = value as! [String: Any]
        #expect(entry["dtype"] as? String == "F32")
        let shape = (entry["shape"] as! [NSNumber]).map(\.intValue)
        let offsets = (entry["data_offsets"] as! [NSNumber]).map(\.intValue)
        #expect(offsets[1] - offsets[0] == 4 * shape.reduce(1, *))
        ranges.append((offsets[0], offsets[1]))
        names.append(name)
    }
    #expect(Set(names) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
    // The offsets tile the buffer exactly: no gap, no overlap, nothing after.
    ranges.sort { $0.0 < $1.0 }
    #expect(ranges.first?.0 == 0 && ranges.last?.1 == buffer)
    for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.1 == b.0) }
    let shapes = Dictionary(uniqueKeysWithValues: header.filter { $0.key != "__metadata__" }.map {
        ($0.key, (($0.value as! [String: Any])["shape"] as! [NSNumber]).map(\.intValue))
    })
    #expect(shapes["0.weight"] == [5, 6] && shapes["0.bias"] == [5] && shapes["4.weight"] == [3, 4])
    let metadata = header["__metadata__"] as! [String: String]
    #expect(metadata["architecture"] == "[6,5,4,3]" && metadata["activation"] == "tanh" && metadata["beta"] == "1.5")
    #expect(metadata["layers"] == "[\"Linear(6, 5)\",\"Tanh()\",\"Linear(5, 4)\",\"Tanh()\",\"Linear(4, 3)\"]")
    let std = try JSONSerialization.jsonObject(with: Data(metadata["input_std"]!.utf8)) as! [NSNumber]
    #expect(std.map(\.doubleValue) == [1, 2, 3, 4, 5, 0.5])
}

@Test func modelFilesWithBadNamesShapesOrMetadataAreRejectedWithTheFileName() {
    var rng = SeededGenerator(seed: 0)
    let w0 = Tensor<Float>.randomUniform([4, 3], generator: &rng), b0 = Tensor<Float>.zeros([4])
    let cases: [(SafeTensors<Float>, String)] = [
        (SafeTensors(tensors: [("layer.weight", w0)]), "unexpected tensor"),
        (SafeTensors(tensors: [("0.weight", w0), ("2.weight", .zeros([2, 5]))]), "inputs"),
        (SafeTensors(tensors: [("0.weight", w0), ("0.bias", .zeros([3]))]), "0.bias"),
        (SafeTensors(tensors: [("0.weight", w0), ("0.bias", b0)], metadata: ["activation": "swish"]), "unknown activation"),
        (SafeTensors(tensors: [("0.weight", w0), ("0.bias", b0)], metadata: ["input_std": "[1,0,1]"]), "input_std"),
        (SafeTensors(tensors: [("0.weight", w0), ("0.bias", b0)], metadata: ["architecture": "[3,5]"]), "architecture"),
        (SafeTensors(tensors: []), "no Linear layers"),
    ]
    for (file, fragment) in cases {
        do {
            _ = try Classifier(safeTensors: file, source: "bad.safetensors")
            Issue.record("accepted a bad model (\(fragment))")
        } catch let error as DataError {
            #expect(error.file == "bad.safetensors")
            #expect(error.problem.contains(fragment), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Test func pytorchSavedSequentialLoadsAndPredictsTheSame() throws {
    // Fixtures/make_interop.py saved nn.Sequential(Linear(4,6), Tanh(), Linear(6,3)) with
    // safetensors.torch.save_file (no metadata) plus inputs and torch's outputs.
    let expected = try loadJSONFixture("torch_sequential.json")
    let model = try Classifier(contentsOf: fixtureURL("torch_sequential.safetensors").path, activation: .tanh)
    #expect(model.layerSizes == [4, 6, 3])
    let x = tensorFromJSON(expected["inputs"]!).converted(to: Float.self)
    let logits = withoutDerivative { model.logits(x) }.converted(to: Double.self)
    let want = tensorFromJSON(expected["logits"]!)
    // float32 end to end on both sides: a 4- and a 6-term dot product plus tanh, O(1) values;
    // 1e-5 is ~100 ulps of float32, generous for summation-order and tanh differences.
    #expect(isClose(logits, want, tolerance: 1e-5), "max difference \(maxDifference(logits, want))")
    #expect(try model.predict(x) == (expected["labels"] as! [NSNumber]).map(\.intValue))
}

@Test func modelTrainedHereGivesTorchsProbabilities() throws {
    // Fixtures/make_interop.py --check … --write loaded a model written by `backprop train`
    // (64-32-10 GELU, β = 1.5) into torch.nn.Sequential via load_file + load_state_dict and
    // recorded torch's probabilities softmax(β·model((x − mean)/std)) for 20 digits rows.
    let expected = try loadJSONFixture("trained_here.json")
    let model = try Classifier(contentsOf: fixtureURL("trained_here.safetensors").path)
    #expect(model.layerSizes == [64, 32, 10] && model.activation == .gelu && model.beta.scalar == 1.5)
    let x = tensorFromJSON(expected["inputs"]!).converted(to: Float.self)
    let p = try model.probabilities(x).converted(to: Double.self)
    let want = tensorFromJSON(expected["probabilities"]!)
    // float32 on both sides; probabilities in [0, 1]; 1e-5 absolute is ~100 float32 ulps at 1.
    #expect(maxDifference(p, want) < 1e-5, "max difference \(maxDifference(p, want))")
    #expect(try model.predict(x) == (expected["labels"] as! [NSNumber]).map(\.intValue))
}

@Test func mutatedModelFilesAreRejectedOrLoadedButNeverCrash() throws {
    let good = try sampleClassifier().safeTensors().encoded()
    var rng = SeededGenerator(seed: 2718)
    var rejected = 0
    for trial in 0..<400 {
        var bytes = [UInt8](good)
        switch trial % 4 {
        case 0: bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))            // truncated
        case 1: for _ in 0..<4 { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
        case 2: let i = 8 + Int(rng.next() % 200); bytes[i] = UInt8(truncatingIfNeeded: rng.next())  // in the header
        default: bytes = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
        do {
            let file = try SafeTensors<Float>(decoding: Data(bytes), source: "fuzz.safetensors")
            _ = try Classifier(safeTensors: file, source: "fuzz.safetensors")
        } catch let error as DataError {
            #expect(error.file == "fuzz.safetensors")
            rejected += 1
        }
    }
    #expect(rejected > 100)
}
