import Backprop

/// The computation graph as a diagram: the chain x → operations → L left to right, parameters
/// entering from above and below, each edge labelled with its forward value (black, above or
/// first) and the gradient ∂L/∂value flowing back along it (red, below or second).
public enum ExplainGraphSVG {
    static let columnWidth = 300.0
    static let mainY = 250.0
    static let sideOffset = 150.0
    static let margin = 70.0
    static let forwardColor = "#111111"
    static let backwardColor = "#c0282d"

    /// The SVG element; with `standalone`, preceded by an XML declaration (for a `.svg` file).
    public static func render(_ graph: ExplainGraph, standalone: Bool = false) -> String {
        let e = XMLText.escape
        let n = graph.nodes.count
        let width = 2 * margin + Double(n + 1) * columnWidth
        let height = mainY + sideOffset + 60
        func cx(_ i: Int) -> Double { margin + Double(i) * columnWidth }   // 0: input, 1…n: ops, n+1: L

        var s = standalone ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" : ""
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" data-nodes=\"\(n)\" width=\"\(coord(width))\" height=\"\(coord(height))\" viewBox=\"0 0 \(coord(width)) \(coord(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" role=\"img\">\n"
        s += "<title>Computation graph: forward values and backward gradients</title>\n"
        s += "<defs><marker id=\"explain-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#444444\"/></marker></defs>\n"
        s += "<text x=\"12\" y=\"22\" font-size=\"13\"><tspan fill=\"\(forwardColor)\" font-weight=\"bold\">black: forward value</tspan><tspan dx=\"18\" fill=\"\(backwardColor)\" font-weight=\"bold\">red: gradient ∂L/∂(value), flowing back</tspan></text>\n"

        // Main chain edges.
        var mainEdges: [(ExplainGraph.Edge, Int)] = [(graph.input, 0)]
        for (i, node) in graph.nodes.enumerated() { mainEdges.append((node.output, i + 1)) }
        for (edge, i) in mainEdges {
            let x1 = cx(i) + (i == 0 ? 26 : 62), x2 = cx(i + 1) - (i + 1 == n + 1 ? 28 : 62)
            s += "<line class=\"edge\" x1=\"\(coord(x1))\" y1=\"\(coord(mainY))\" x2=\"\(coord(x2))\" y2=\"\(coord(mainY))\" stroke=\"#444444\" stroke-width=\"1.6\" marker-end=\"url(#explain-arrow)\"/>\n"
            let mid = (x1 + x2) / 2
            s += label(edge.name, edge.value, x: mid, y: mainY - 30, color: forwardColor, anchor: "middle")
            if let g = edge.gradient { s += label(g.name, g, x: mid, y: mainY + 22, color: backwardColor, anchor: "middle") }
        }

        // Input and output leaves.
        s += leaf(graph.input.name, x: cx(0), y: mainY)
        s += leaf(graph.nodes.last?.output.name ?? "L", x: cx(n + 1), y: mainY)

        // Operations and their side inputs.
        for (i, node) in graph.nodes.enumerated() {
            let x = cx(i + 1)
            for (j, side) in node.sideInputs.prefix(2).enumerated() {
                let above = j == 0 && node.operation != "cross-entropy"
                let y = above ? mainY - sideOffset : mainY + sideOffset
                let y1 = above ? y + 24 : y - 24, y2 = above ? mainY - 26 : mainY + 26
                s += "<line class=\"edge\" x1=\"\(coord(x))\" y1=\"\(coord(y1))\" x2=\"\(coord(x))\" y2=\"\(coord(y2))\" stroke=\"#444444\" stroke-width=\"1.6\" marker-end=\"url(#explain-arrow)\"/>\n"
                s += leaf(side.name, x: x, y: y, parameter: true)
                let labelY = above ? y - 8 : y - 8
                s += label(side.name, side.value, x: x + 32, y: labelY, color: forwardColor, anchor: "start")
                if let g = side.gradient {
                    s += label(g.name, g, x: x + 32, y: labelY + 34, color: backwardColor, anchor: "start")
                } else {
                    s += "<text x=\"\(coord(x + 32))\" y=\"\(coord(labelY + 34))\" font-size=\"11.5\" fill=\"#666666\">constant: no gradient</text>\n"
                }
            }
            s += "<rect class=\"node\" x=\"\(coord(x - 62))\" y=\"\(coord(mainY - 26))\" width=\"124\" height=\"52\" rx=\"9\" fill=\"#eef3fa\" stroke=\"#3b5b8c\" stroke-width=\"1.4\"/>\n"
            s += "<text x=\"\(coord(x))\" y=\"\(coord(mainY - 5))\" font-size=\"13\" font-weight=\"bold\" text-anchor=\"middle\">\(e(node.operation))</text>\n"
            s += "<text x=\"\(coord(x))\" y=\"\(coord(mainY + 14))\" font-size=\"12\" text-anchor=\"middle\" font-style=\"italic\">\(e(node.formula))</text>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// A circle with a name: the graph's inputs, parameters and output.
    private static func leaf(_ name: String, x: Double, y: Double, parameter: Bool = false) -> String {
        "<circle class=\"leaf\" cx=\"\(coord(x))\" cy=\"\(coord(y))\" r=\"24\" fill=\"\(parameter ? "#fdf6e3" : "#ffffff")\" stroke=\"#555555\" stroke-width=\"1.4\"/>\n"
            + "<text x=\"\(coord(x))\" y=\"\(coord(y + 5))\" font-size=\"15\" font-style=\"italic\" text-anchor=\"middle\">\(XMLText.escape(name))</text>\n"
    }

    /// Two lines: the name (with its shape for a matrix) and the numbers in short form.
    private static func label(_ name: String, _ m: ExplainMatrix, x: Double, y: Double, color: String, anchor: String) -> String {
        let numbers: String
        if m.rows == 1 && m.columns == 1 {
            numbers = "= " + ExplainFormat.number(m.values[0], digits: 4, unicodeMinus: true)
        } else if m.columns == 1 {
            numbers = "= " + ExplainFormat.vector(m.values, digits: 3, limit: 3, unicodeMinus: true)
        } else {
            let norm = m.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            numbers = "\(m.shapeDescription), ‖·‖ = " + ExplainFormat.number(norm, digits: 3, unicodeMinus: true)
        }
        let e = XMLText.escape
        return "<text class=\"edge-label\" x=\"\(coord(x))\" y=\"\(coord(y))\" font-size=\"12\" fill=\"\(color)\" text-anchor=\"\(anchor)\">"
            + "<tspan font-weight=\"bold\">\(e(name))</tspan>"
            + "<tspan x=\"\(coord(x))\" dy=\"15\" font-size=\"11.5\">\(e(numbers))</tspan></text>\n"
    }
}
