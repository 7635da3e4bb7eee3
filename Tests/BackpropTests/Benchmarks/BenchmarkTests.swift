import Foundation
import Testing
@testable import Backprop
import BackpropBenchmarks

/// The benchmark runner on tiny shapes: every workload runs and reports in the shared schema.
/// (Speed is never asserted.)
@Suite("Benchmarks")
struct BenchmarkTests {
    @Test("every available workload yields JSON lines with the shared keys")
    func smoke() throws {
        for workload in BenchmarkWorkload.allCases where Benchmarks.unavailableReason(workload) == nil {
            let results = Benchmarks.run(workload, options: .smokeTest)
            #expect(!results.isEmpty, "\(workload.rawValue) produced no measurement")
            for m in results {
                let object = try #require(JSONSerialization.jsonObject(with: Data(m.jsonLine.utf8)) as? [String: Any])
                #expect(object["workload"] as? String == workload.rawValue)
                for key in ["shape", "threads", "backend", "median_ms"] { #expect(object[key] != nil, "\(key) missing") }
                #expect((object["median_ms"] as? Double).map { $0 >= 0 } == true)
                if workload == .gemm || workload == .mlpStep { #expect(object["gflops"] != nil) }
                if workload == .softmax { #expect(object["gbps"] != nil) }
            }
        }
    }

    @Test("the table has a header, a rule and one line per measurement")
    func table() {
        let rows = [BenchmarkMeasurement(workload: "jacobian", shape: "3x3", threads: 1, backend: "swift", medianMilliseconds: 0.5),
                    BenchmarkMeasurement(workload: "softmax", shape: "2x2", threads: 2, backend: "swift", medianMilliseconds: 1.25,
                                         gigabytesPerSecond: 3)]
        let lines = BenchmarkMeasurement.table(rows).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("workload"))
        #expect(lines[3].contains("3.0 GB/s"))
        #expect(rows[1].jsonLine == #"{"workload":"softmax","shape":"2x2","threads":2,"backend":"swift","median_ms":1.25,"gbps":3.0}"#)
    }
}
