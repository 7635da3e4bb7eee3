import Foundation

/// A hand-written SVG chart of a training run: training and validation loss per epoch (top
/// panel) and validation accuracy per epoch (bottom panel), each with axes, ticks, axis labels
/// and a legend. Self-contained (no scripts, no external fonts), so it opens in any browser.
public enum TrainingPlot {
    /// The SVG document for `history` (one record per epoch).
    public static func svg(history: [EpochRecord], title: String = "Training") -> String {
        let width = 800.0, height = 600.0
        let left = 80.0, right = 170.0, plotWidth = width - left - right
        let epochs = history.map { Double($0.epoch) }
        let xMin = 1.0, xMax = max(epochs.max() ?? 1, 2)
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\(escape(title))</text>

        """
        let lossValues = history.flatMap { [$0.trainLoss, $0.validationLoss] }.filter(\.isFinite)
        let lossTop = niceCeiling(lossValues.max() ?? 1)
        svg += panel(top: 50, height: 220, left: left, width: plotWidth, xRange: (xMin, xMax), yRange: (0, lossTop),
                     yLabel: "loss (cross-entropy)", yFormat: { format($0) },
                     series: [("train loss", "#1f77b4", "", history.map { (Double($0.epoch), $0.trainLoss) }),
                              ("validation loss", "#d62728", "6,4", history.map { (Double($0.epoch), $0.validationLoss) })])
        let accuracies = history.map(\.validationAccuracy).filter(\.isFinite)
        let accLow = max(0, floor(((accuracies.min() ?? 0) * 100 - 1) / 10) * 10)
        svg += panel(top: 330, height: 220, left: left, width: plotWidth, xRange: (xMin, xMax), yRange: (accLow, 100),
                     yLabel: "validation accuracy (%)", yFormat: { format($0) },
                     series: [("validation accuracy", "#2ca02c", "", history.map { (Double($0.epoch), $0.validationAccuracy * 100) })])
        svg += "<text x=\"\(Int(left + plotWidth / 2))\" y=\"\(Int(height - 12))\" text-anchor=\"middle\">epoch</text>\n"
        svg += "</svg>\n"
        return svg
    }

    typealias Series = (name: String, color: String, dash: String, points: [(Double, Double)])

    /// One panel: frame, grid, ticks, y-axis label, polylines with markers and a legend at the right.
    static func panel(top: Double, height: Double, left: Double, width: Double, xRange: (Double, Double),
                      yRange: (Double, Double), yLabel: String, yFormat: (Double) -> String, series: [Series]) -> String {
        func x(_ v: Double) -> Double { left + (v - xRange.0) / (xRange.1 - xRange.0) * width }
        func y(_ v: Double) -> Double { top + height - (min(max(v, yRange.0), yRange.1) - yRange.0) / (yRange.1 - yRange.0) * height }
        var s = "<g>\n"
        // Grid and y ticks.
        for t in ticks(yRange.0, yRange.1, count: 5) {
            let py = f(y(t))
            s += "<line x1=\"\(f(left))\" y1=\"\(py)\" x2=\"\(f(left + width))\" y2=\"\(py)\" stroke=\"#e5e5e5\"/>\n"
            s += "<line x1=\"\(f(left - 5))\" y1=\"\(py)\" x2=\"\(f(left))\" y2=\"\(py)\" stroke=\"black\"/>\n"
            s += "<text x=\"\(f(left - 8))\" y=\"\(py)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(yFormat(t))</text>\n"
        }
        // x ticks (integer epochs).
        for t in ticks(xRange.0, xRange.1, count: 10, minimumStep: 1) {
            let px = f(x(t))
            s += "<line x1=\"\(px)\" y1=\"\(f(top + height))\" x2=\"\(px)\" y2=\"\(f(top + height + 5))\" stroke=\"black\"/>\n"
            s += "<text x=\"\(px)\" y=\"\(f(top + height + 18))\" text-anchor=\"middle\">\(Int(t))</text>\n"
        }
        // Axes.
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"none\" stroke=\"black\"/>\n"
        let cy = f(top + height / 2)
        s += "<text x=\"\(f(left - 55))\" y=\"\(cy)\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(left - 55)) \(cy))\">\(escape(yLabel))</text>\n"
        // Series.
        for item in series {
            let finite = item.points.filter { $0.1.isFinite }
            let path = finite.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " ")
            let dash = item.dash.isEmpty ? "" : " stroke-dasharray=\"\(item.dash)\""
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(item.color)\" stroke-width=\"2\"\(dash)/>\n"
            if finite.count <= 60 {
                for p in finite { s += "<circle cx=\"\(f(x(p.0)))\" cy=\"\(f(y(p.1)))\" r=\"2.5\" fill=\"\(item.color)\"/>\n" }
            }
        }
        // Legend.
        for (i, item) in series.enumerated() {
            let ly = top + 14 + Double(i) * 20, lx = left + width + 15
            let dash = item.dash.isEmpty ? "" : " stroke-dasharray=\"\(item.dash)\""
            s += "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 28))\" y2=\"\(f(ly))\" stroke=\"\(item.color)\" stroke-width=\"2\"\(dash)/>\n"
            s += "<text x=\"\(f(lx + 34))\" y=\"\(f(ly))\" dominant-baseline=\"middle\">\(escape(item.name))</text>\n"
        }
        return s + "</g>\n"
    }

    /// About `count` round tick values (1, 2 or 5 × 10ᵏ apart, at least `minimumStep`) covering
    /// [low, high]; each is k·step for an integer k, so no rounding error accumulates.
    static func ticks(_ low: Double, _ high: Double, count: Int, minimumStep: Double = 0) -> [Double] {
        guard high > low else { return [low] }
        let raw = (high - low) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = max([1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude, minimumStep)
        let first = Int(ceil(low / step - 1e-9)), last = Int(floor(high / step + 1e-9))
        return first <= last ? (first...last).map { Double($0) * step } : []
    }

    /// The smallest 1, 2 or 5 × 10ᵏ at least `v` (for the top of an axis).
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0, v.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(v)))
        return [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= v } ?? 10 * magnitude
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e6 ? String(Int(v)) : String(format: "%g", v)
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
