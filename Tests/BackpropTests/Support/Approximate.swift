import Testing
@testable import Backprop

/// Whether every entry of `a` is within `tolerance`·(1 + |b|) of `b`, shapes equal.
func isClose<S>(_ a: Tensor<S>, _ b: Tensor<S>, tolerance: S) -> Bool {
    a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { Swift.abs($0 - $1) <= tolerance * (1 + Swift.abs($1)) }
}

/// Asserts closeness and reports the largest difference when it fails.
func expectClose<S>(_ a: Tensor<S>, _ b: Tensor<S>, tolerance: S, _ what: String = "",
                    sourceLocation: SourceLocation = #_sourceLocation) {
    let worst = a.shape == b.shape ? zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0 : .infinity
    #expect(isClose(a, b, tolerance: tolerance), "\(what): shapes \(a.shape) vs \(b.shape), max difference \(worst)\n\(a)\nvs\n\(b)",
            sourceLocation: sourceLocation)
}

/// Relative tolerance for agreement of two computations of the same quantity in type S: a few
/// hundred ulps (sums of ≤ 100 terms, each rounding once, with cancellation of O(1) terms).
func agreement<S: TensorScalar>(_: S.Type) -> S { S.ulpOfOne * 512 }

/// The core fixtures written by PyTorch (Fixtures/make_core_fixtures.py).
struct CoreFixtures {
    let cases: [[String: Any]]

    init() throws {
        let url = try #require(Bundle.module.url(forResource: "core_pytorch", withExtension: "json", subdirectory: "Fixtures"))
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        cases = object["cases"] as! [[String: Any]]
    }

    func tensor(_ name: String, in c: [String: Any]) -> Tensor<Double> {
        Tensor(shape: c[name + "_shape"] as! [Int], scalars: c[name] as! [Double])
    }
}

import Foundation
