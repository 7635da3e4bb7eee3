import Backprop

/// An `ExplainReport` as Markdown with its pictures as SVG files beside it.
public enum ExplainMarkdownRenderer {
    /// One file to write next to the Markdown.
    public struct Asset: Sendable {
        /// Path relative to the Markdown file (`"report_files/graph.svg"`).
        public let path: String
        /// The SVG document.
        public let contents: String
    }

    /// The Markdown text and the SVG files it links to, all under `assetDirectory` (relative).
    public static func render(_ report: ExplainReport, assetDirectory: String, command: String? = nil)
        -> (markdown: String, assets: [Asset]) {
        var assets: [Asset] = []
        func image(_ name: String, _ svg: String, alt: String) -> String {
            let path = assetDirectory + "/" + name + ".svg"
            assets.append(Asset(path: path, contents: svg))
            return "![\(escape(alt))](\(path.replacingOccurrences(of: " ", with: "%20")))"
        }
        var md = "# Backpropagation, step by step\n\n"
        md += "**\(escape(report.architecture))**\n\n"
        md += "\(escape(report.source)) · target class **\(report.target)** · loss L = **\(ExplainFormat.number(report.loss, digits: 6))**\n\n"
        if let command { md += "Made by `\(command)`.\n\n" }
        let checks = report.backward.flatMap(\.checks) + report.wholeChain
        let failures = checks.filter { !$0.agrees }.count
        md += failures == 0
            ? "✓ All \(checks.count) checks agree (largest |Δ|: closed forms \(ExplainFormat.error(report.maxError(of: .closedForm))), finite differences \(ExplainFormat.error(report.maxError(of: .finiteDifferences))), whole chain \(ExplainFormat.error(report.maxError(of: .wholeChain)))).\n\n"
            : "✗ \(failures) of \(checks.count) checks differ.\n\n"
        md += "Every number comes from the library's own operations and transforms — the rules training uses. Indices count from 0, as class labels do; vectors are columns.\n\n"
        md += "## The computation graph\n\n" + image("graph", ExplainGraphSVG.render(report.graph, standalone: true), alt: "computation graph") + "\n\n"
        md += "## Forward pass\n\n"
        for (i, value) in report.forward.enumerated() {
            md += "- \(escape(value.formula)): " + inline(value.matrix) + "\n"
            if value.matrix.columns > 1 {
                md += "\n  " + image("value-\(i)", ExplainHeatmapSVG.render(value.matrix, standalone: true), alt: value.matrix.name) + "\n\n"
            }
        }
        md += "\n## Backward pass\n"
        for step in report.backward {
            md += "\n### \(escape(step.title))\n\n"
            md += "> \(escape(step.formula))\n\n"
            md += "Computed by `\(step.method)`: " + inline(step.result) + "\n\n"
            md += image(step.id, ExplainHeatmapSVG.render(step.result, caption: "\(step.result.name) (\(step.result.shapeDescription)): the library", standalone: true), alt: step.result.name)
            if let fd = step.finiteDifferences {
                md += " " + image(step.id + "-fd", ExplainHeatmapSVG.render(fd.estimate, caption: "finite differences, max |Δ| = \(ExplainFormat.error(fd.maxAbsError))", standalone: true), alt: "finite differences")
            }
            md += "\n\n" + table(step.checks, showName: false)
        }
        md += "\n## The whole chain at once\n\nOne `valueWithGradient` call over the whole network gives the same numbers:\n\n"
        md += table(report.wholeChain, showName: true)
        return (md, assets)
    }

    private static func inline(_ m: ExplainMatrix) -> String {
        if m.rows == 1 && m.columns == 1 { return "`\(ExplainFormat.number(m.values[0], digits: 6))`" }
        if m.columns == 1 { return "`" + ExplainFormat.vector(m.values, digits: 4, limit: 12) + "`" }
        return "\(m.shapeDescription) matrix (heatmap below)"
    }

    private static func table(_ checks: [ExplainCheck], showName: Bool) -> String {
        var t = (showName ? "| gradient " : "") + "| check | method | max \\|Δ\\| | |\n" + (showName ? "|---" : "") + "|---|---|---:|---|\n"
        for c in checks {
            t += (showName ? "| \(escape(c.estimate.name)) " : "")
            t += "| \(c.kind.rawValue) | \(escape(c.method)) | \(ExplainFormat.error(c.maxAbsError)) | \(c.agrees ? "✓" : "✗ differs") |\n"
        }
        return t
    }

    /// Markdown's active characters escaped in running text and table cells.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            if "\\`*_[]|<>#".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }
}
