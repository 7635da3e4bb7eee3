import Backprop

/// The compact plain-text form of an `ExplainReport`, for the terminal.
public enum ExplainTextRenderer {
    /// The whole report as lines of text.
    public static func render(_ report: ExplainReport) -> String {
        var lines: [String] = []
        lines.append("Backpropagation step by step — \(report.source)")
        lines.append(report.architecture + ", target class \(report.target)")
        lines.append("(indices count from 0, as class labels do; vectors are columns, written here as rows)")
        lines.append("")
        lines.append("FORWARD")
        for value in report.forward {
            lines.append("  " + value.formula)
            lines += matrixLines(value.matrix).map { "      " + $0 }
        }
        lines.append("")
        lines.append("BACKWARD   (each result from the library's pullbacks; max |Δ| to independent checks)")
        for step in report.backward {
            lines.append("")
            lines.append("  " + step.title)
            lines.append("    " + step.formula)
            lines += matrixLines(step.result).map { "      " + $0 }
            let checks = step.checks.map { check -> String in
                let what = check.kind == .closedForm ? "closed form \(check.method)" : check.kind.rawValue
                return "\(what) \(ExplainFormat.error(check.maxAbsError))\(check.agrees ? "" : " DIFFERS")"
            }
            lines.append("    max |Δ|: " + checks.joined(separator: " · "))
        }
        lines.append("")
        lines.append("WHOLE CHAIN   (one valueWithGradient call over the network vs the steps above)")
        for check in report.wholeChain {
            lines.append("  \(check.estimate.name): max |Δ| \(ExplainFormat.error(check.maxAbsError))\(check.agrees ? "" : " DIFFERS")")
        }
        lines.append("")
        let failures = (report.backward.flatMap(\.checks) + report.wholeChain).filter { !$0.agrees }.count
        lines.append(failures == 0
            ? "All checks agree. Largest error: closed forms \(ExplainFormat.error(report.maxError(of: .closedForm))), finite differences \(ExplainFormat.error(report.maxError(of: .finiteDifferences))), whole chain \(ExplainFormat.error(report.maxError(of: .wholeChain)))."
            : "\(failures) check(s) DIFFER — see above.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A matrix as aligned text: a scalar or vector on one line, a matrix as a labelled table, a
    /// large one as a one-line summary.
    static func matrixLines(_ m: ExplainMatrix) -> [String] {
        if m.isLarge { return [m.summary] }
        if m.rows == 1 && m.columns == 1 { return ["\(m.name) = \(ExplainFormat.number(m.values[0], digits: 6))"] }
        if m.columns == 1 {
            return ["\(m.name) = [" + m.values.map { ExplainFormat.number($0, digits: 4) }.joined(separator: ", ") + "]"]
        }
        let cells = (0..<m.rows).map { r in (0..<m.columns).map { ExplainFormat.number(m[r, $0], digits: 4) } }
        let width = Swift.max(m.columnLabels.map(\.count).max() ?? 0, cells.flatMap { $0 }.map(\.count).max() ?? 0)
        let labelWidth = Swift.max(m.rowLabels.map(\.count).max() ?? 0, m.name.count)
        func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: Swift.max(0, n - s.count)) + s }
        var lines = [pad(m.name, labelWidth) + "  " + m.columnLabels.map { pad($0, width) }.joined(separator: " ")]
        for r in 0..<m.rows {
            lines.append(pad(m.rowLabels[r], labelWidth) + "  " + cells[r].map { pad($0, width) }.joined(separator: " "))
        }
        return lines
    }
}
