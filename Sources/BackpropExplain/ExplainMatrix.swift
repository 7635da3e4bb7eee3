import Backprop

/// A matrix as the explain report shows it: a name, a shape, a label for every row and every
/// column, and the values in row-major order.
///
/// Vectors are shown as columns (n×1), following the project's convention that a gradient has
/// the shape of what it differentiates and a vector is a column; a scalar is 1×1.
public struct ExplainMatrix: Sendable, Equatable {
    /// What the matrix is, in the report's notation (`"∂L/∂W"`).
    public let name: String
    /// The number of rows.
    public let rows: Int
    /// The number of columns.
    public let columns: Int
    /// The entries, row-major: `values[r * columns + c]`.
    public let values: [Double]
    /// One label per row (`"y₁"`, …).
    public let rowLabels: [String]
    /// One label per column (`"x₁"`, …).
    public let columnLabels: [String]

    /// A labelled matrix. - Precondition: the values and labels fit the shape.
    public init(name: String, rows: Int, columns: Int, values: [Double], rowLabels: [String], columnLabels: [String]) {
        require(values.count == rows * columns, "ExplainMatrix \(name): \(values.count) values for \(rows)×\(columns)")
        require(rowLabels.count == rows && columnLabels.count == columns,
                     "ExplainMatrix \(name): \(rowLabels.count)×\(columnLabels.count) labels for \(rows)×\(columns)")
        self.name = name
        self.rows = rows
        self.columns = columns
        self.values = values
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
    }

    /// A matrix from a rank-2 tensor.
    public init(name: String, _ tensor: Tensor<Double>, rowLabels: [String], columnLabels: [String]) {
        require(tensor.rank == 2, "ExplainMatrix \(name): expects a matrix, got shape \(tensor.shape)")
        self.init(name: name, rows: tensor.shape[0], columns: tensor.shape[1], values: tensor.scalars,
                  rowLabels: rowLabels, columnLabels: columnLabels)
    }

    /// A column vector (n×1) from the scalars of any tensor; the column is labelled with the name.
    public static func column(_ name: String, _ values: [Double], labels: [String]) -> ExplainMatrix {
        ExplainMatrix(name: name, rows: values.count, columns: 1, values: values, rowLabels: labels, columnLabels: [name])
    }

    /// A 1×1 matrix holding a scalar.
    public static func scalar(_ name: String, _ value: Double) -> ExplainMatrix {
        ExplainMatrix(name: name, rows: 1, columns: 1, values: [value], rowLabels: [name], columnLabels: [name])
    }

    /// The entry in row `r`, column `c`.
    public subscript(r: Int, c: Int) -> Double { values[r * columns + c] }

    /// The same values under another name (labels kept).
    public func renamed(_ newName: String) -> ExplainMatrix {
        ExplainMatrix(name: newName, rows: rows, columns: columns, values: values,
                      rowLabels: rowLabels, columnLabels: columns == 1 && columnLabels == [name] ? [newName] : columnLabels)
    }

    /// The same labels and shape with other values (for estimates of this matrix).
    public func withValues(_ newValues: [Double], name newName: String) -> ExplainMatrix {
        ExplainMatrix(name: newName, rows: rows, columns: columns, values: newValues,
                      rowLabels: rowLabels, columnLabels: columns == 1 && columnLabels == [name] ? [newName] : columnLabels)
    }

    /// The shape written as the report writes it: `"3×4"`.
    public var shapeDescription: String { "\(rows)×\(columns)" }

    /// The largest |entry| (0 for an empty matrix).
    public var maxMagnitude: Double { values.reduce(0) { Swift.max($0, Swift.abs($1)) } }

    /// Matrices with more entries than this are summarised (text) or pooled (heatmaps) instead
    /// of shown entry by entry: a trained model's 128×64 weight would otherwise fill a screen.
    public static let detailLimit = 32

    /// Whether the report summarises this matrix rather than listing its entries.
    public var isLarge: Bool { values.count > Self.detailLimit }

    /// One line: the shape, the smallest and largest entry, the mean and the Frobenius norm.
    public var summary: String {
        let finite = values.filter(\.isFinite)
        let norm = finite.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let mean = finite.isEmpty ? 0 : finite.reduce(0, +) / Double(finite.count)
        return "\(name) (\(shapeDescription)): min \(ExplainFormat.number(finite.min() ?? 0, digits: 4)), "
            + "max \(ExplainFormat.number(finite.max() ?? 0, digits: 4)), mean \(ExplainFormat.number(mean, digits: 4)), "
            + "‖·‖ \(ExplainFormat.number(norm, digits: 4))"
    }

    /// The matrix averaged over blocks so that it has at most `maxRows`×`maxColumns` entries
    /// (itself when it already fits); block labels name the first and last row or column.
    public func pooled(maxRows: Int = 32, maxColumns: Int = 32) -> ExplainMatrix {
        guard rows > maxRows || columns > maxColumns else { return self }
        let blockRows = (rows + maxRows - 1) / maxRows, blockColumns = (columns + maxColumns - 1) / maxColumns
        let outRows = (rows + blockRows - 1) / blockRows, outColumns = (columns + blockColumns - 1) / blockColumns
        var pooled = [Double](repeating: 0, count: outRows * outColumns)
        for br in 0..<outRows {
            for bc in 0..<outColumns {
                let rs = (br * blockRows)..<Swift.min(rows, (br + 1) * blockRows)
                let cs = (bc * blockColumns)..<Swift.min(columns, (bc + 1) * blockColumns)
                var sum = 0.0
                for r in rs { for c in cs { sum += self[r, c] } }
                pooled[br * outColumns + bc] = sum / Double(rs.count * cs.count)
            }
        }
        func labels(_ all: [String], _ block: Int, _ count: Int) -> [String] {
            (0..<count).map { b in
                let first = b * block, last = Swift.min(all.count, (b + 1) * block) - 1
                return first == last ? all[first] : "\(all[first])…\(all[last])"
            }
        }
        return ExplainMatrix(name: name, rows: outRows, columns: outColumns, values: pooled,
                             rowLabels: labels(rowLabels, blockRows, outRows),
                             columnLabels: labels(columnLabels, blockColumns, outColumns))
    }

    /// max |aᵢ − bᵢ| over the entries of two matrices of the same shape.
    public static func maxAbsDifference(_ a: ExplainMatrix, _ b: ExplainMatrix) -> Double {
        require(a.rows == b.rows && a.columns == b.columns, "maxAbsDifference: \(a.name) is \(a.shapeDescription), \(b.name) is \(b.shapeDescription)")
        return zip(a.values, b.values).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
    }
}

/// Subscript digits for labels: `subscripted("y", 3)` is `"y₃"`. The report counts from 0, as
/// class labels do, so the target class k is the entry p_k.
func subscripted(_ base: String, _ index: Int) -> String {
    let digits = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"]
    return base + String(index).map { digits[Int(String($0))!] }.joined()
}

/// Labels `base₀ … base_{n−1}`.
func subscriptedLabels(_ base: String, _ count: Int) -> [String] {
    (0..<count).map { subscripted(base, $0) }
}
