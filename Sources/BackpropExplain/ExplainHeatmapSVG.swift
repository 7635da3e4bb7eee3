import Backprop
import Foundation

/// A matrix drawn as a heatmap: a diverging colour scale symmetric about 0 (blue negative,
/// white zero, red positive), the values written in the cells when they fit, every row and
/// column labelled, and a legend. Pure SVG, no ids, so any number can share one HTML page.
public enum ExplainHeatmapSVG {
    /// The SVG element; with `standalone`, preceded by an XML declaration (for a `.svg` file).
    ///
    /// A matrix larger than 32×32 is drawn as the means of blocks of entries (`pooled`), and
    /// the title says so.
    public static func render(_ matrix: ExplainMatrix, caption: String? = nil, standalone: Bool = false) -> String {
        let e = XMLText.escape
        let m = matrix.pooled()
        let pooledNote = m.rows == matrix.rows && m.columns == matrix.columns ? ""
            : ", drawn as means of \((matrix.rows + m.rows - 1) / m.rows)×\((matrix.columns + m.columns - 1) / m.columns) blocks"
        let cellWidth = m.columns <= 8 ? 62.0 : Swift.max(12, Swift.min(62, 560 / Double(m.columns)))
        let cellHeight = m.rows <= 16 ? 28.0 : Swift.max(10, Swift.min(28, 448 / Double(m.rows)))
        let showValues = cellWidth >= 44 && cellHeight >= 16
        let rotateColumnLabels = cellWidth < 36
        let labelFont = Swift.min(12, Swift.max(8, cellHeight - 2))
        let columnFont = rotateColumnLabels ? Swift.min(11, Swift.max(7, cellWidth - 2)) : 12
        let rowLabelWidth = Double(m.rowLabels.map(\.count).max() ?? 1) * labelFont * 0.62 + 10
        let columnLabelHeight = rotateColumnLabels ? Double(m.columnLabels.map(\.count).max() ?? 1) * columnFont * 0.62 + 10 : 20
        let title = (caption ?? "\(matrix.name)  (\(matrix.shapeDescription))") + pooledNote
        let titleHeight = 22.0
        let left = rowLabelWidth, top = titleHeight + columnLabelHeight
        let gridWidth = Double(m.columns) * cellWidth, gridHeight = Double(m.rows) * cellHeight
        let legendHeight = Swift.max(gridHeight, 84), legendX = left + gridWidth + 18
        let width = Swift.max(legendX + 16 + 70, Double(title.count) * 7.6 + 12)
        let height = top + legendHeight + 8
        let scale = m.maxMagnitude > 0 && m.maxMagnitude.isFinite ? m.maxMagnitude : 1

        var s = standalone ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : ""
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heatmap\" data-name=\"\(e(m.name))\" data-rows=\"\(m.rows)\" data-columns=\"\(m.columns)\" "
        s += "width=\"\(coord(width))\" height=\"\(coord(height))\" viewBox=\"0 0 \(coord(width)) \(coord(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" role=\"img\">\n"
        s += "<title>\(e(title))</title>\n"
        s += "<text class=\"heatmap-title\" x=\"2\" y=\"15\" font-size=\"13\" font-weight=\"bold\">\(e(title))</text>\n"
        for c in 0..<m.columns {
            let x = left + (Double(c) + 0.5) * cellWidth, y = top - 6
            if rotateColumnLabels {
                s += "<text class=\"column-label\" x=\"\(coord(x))\" y=\"\(coord(y))\" font-size=\"\(coord(columnFont))\" transform=\"rotate(-60 \(coord(x)) \(coord(y)))\">\(e(m.columnLabels[c]))</text>\n"
            } else {
                s += "<text class=\"column-label\" x=\"\(coord(x))\" y=\"\(coord(y))\" font-size=\"12\" text-anchor=\"middle\">\(e(m.columnLabels[c]))</text>\n"
            }
        }
        for r in 0..<m.rows {
            let y = top + (Double(r) + 0.5) * cellHeight + labelFont * 0.35
            s += "<text class=\"row-label\" x=\"\(coord(left - 6))\" y=\"\(coord(y))\" font-size=\"\(coord(labelFont))\" text-anchor=\"end\">\(e(m.rowLabels[r]))</text>\n"
        }
        for r in 0..<m.rows {
            for c in 0..<m.columns {
                let v = m[r, c], t = v / scale
                let x = left + Double(c) * cellWidth, y = top + Double(r) * cellHeight
                s += "<rect class=\"cell\" data-row=\"\(r)\" data-column=\"\(c)\" x=\"\(coord(x))\" y=\"\(coord(y))\" width=\"\(coord(cellWidth))\" height=\"\(coord(cellHeight))\" fill=\"\(color(t))\" stroke=\"#ffffff\" stroke-width=\"1\">"
                s += "<title>\(e("\(m.name)[\(m.rowLabels[r]), \(m.columnLabels[c])] = \(ExplainFormat.number(v, digits: 10, unicodeMinus: true))"))</title></rect>\n"
                if showValues {
                    let text = ExplainFormat.number(v, digits: 3, unicodeMinus: true)
                    s += "<text class=\"value\" x=\"\(coord(x + cellWidth / 2))\" y=\"\(coord(y + cellHeight / 2 + 4))\" font-size=\"\(text.count > 7 ? "9.5" : "11")\" text-anchor=\"middle\" fill=\"\(Swift.abs(t) > 0.55 ? "#ffffff" : "#111111")\">\(e(text))</text>\n"
                }
            }
        }
        s += "<rect x=\"\(coord(left))\" y=\"\(coord(top))\" width=\"\(coord(gridWidth))\" height=\"\(coord(gridHeight))\" fill=\"none\" stroke=\"#888888\" stroke-width=\"0.8\"/>\n"
        // Legend: 21 bands from +max (top) to −max (bottom).
        let bands = 21, bandHeight = legendHeight / Double(bands)
        s += "<g class=\"legend\">\n"
        for i in 0..<bands {
            let t = 1 - 2 * Double(i) / Double(bands - 1)
            s += "<rect x=\"\(coord(legendX))\" y=\"\(coord(top + Double(i) * bandHeight))\" width=\"14\" height=\"\(coord(bandHeight + 0.5))\" fill=\"\(color(t))\"/>\n"
        }
        s += "<rect x=\"\(coord(legendX))\" y=\"\(coord(top))\" width=\"14\" height=\"\(coord(legendHeight))\" fill=\"none\" stroke=\"#888888\" stroke-width=\"0.8\"/>\n"
        for (t, y) in [(scale, top + 4), (0, top + legendHeight / 2 + 4), (-scale, top + legendHeight)] {
            s += "<text x=\"\(coord(legendX + 19))\" y=\"\(coord(y))\" font-size=\"10.5\">\(e(ExplainFormat.number(t, digits: 3, unicodeMinus: true)))</text>\n"
        }
        s += "</g>\n</svg>\n"
        return s
    }

    /// The colour for t ∈ [−1, 1] on a red–white–blue scale (ColorBrewer RdBu).
    static func color(_ t: Double) -> String {
        let positive: [(Double, Double, Double)] = [(247, 247, 247), (253, 219, 199), (244, 165, 130), (214, 96, 77), (178, 24, 43)]
        let negative: [(Double, Double, Double)] = [(247, 247, 247), (209, 229, 240), (146, 197, 222), (67, 147, 195), (33, 102, 172)]
        let u = t.isFinite ? Swift.min(1, Swift.abs(t)) : 1
        let stops = t >= 0 ? positive : negative
        let position = u * Double(stops.count - 1)
        let i = Swift.min(Int(position), stops.count - 2), w = position - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * w).rounded()) }
        return String(format: "#%02x%02x%02x", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

/// A coordinate with at most one decimal.
func coord(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
}
