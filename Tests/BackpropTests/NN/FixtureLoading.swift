import Foundation
@testable import Backprop

/// Reads a JSON fixture committed under Tests/BackpropTests/Fixtures/.
func fixtureURL(_ name: String) -> URL {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name)
}

func loadJSONFixture(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: fixtureURL(name))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
}

/// A tensor from a JSON number, list or list of lists (rank 0, 1 or 2).
func tensorFromJSON(_ value: Any) -> Tensor<Double> {
    if let n = value as? NSNumber { return Tensor(n.doubleValue) }
    let list = value as! [Any]
    if let rows = list as? [[NSNumber]] {
        return Tensor(rows: rows.map { $0.map(\.doubleValue) })
    }
    return Tensor((list as! [NSNumber]).map(\.doubleValue))
}

/// |a − b| ≤ tolerance·(1 + |b|) for every element (and equal shapes).
func isClose(_ a: Tensor<Double>, _ b: Tensor<Double>, tolerance: Double) -> Bool {
    a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { Swift.abs($0 - $1) <= tolerance * (1 + Swift.abs($1)) }
}

func maxDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
}
