import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Backprop
@testable import BackpropExplain

/// Parses XML and keeps every element with its attributes and the text directly inside it.
private final class XMLElements: NSObject, XMLParserDelegate {
    struct Element { let name: String; let attributes: [String: String]; var text: String }
    private(set) var elements: [Element] = []
    private var open: [Int] = []
    private(set) var failure: String?

    init(parsing text: String) {
        super.init()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = self
        if !parser.parse() { failure = parser.parserError.map { "\($0)" } ?? "unknown parse error" }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes, text: ""))
        open.append(elements.count - 1)
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { open.removeLast() }
    func parser(_ parser: XMLParser, foundCharacters string: String) { if let i = open.last { elements[i].text += string } }
    func parser(_ parser: XMLParser, parseErrorOccurred error: Error) { failure = "\(error)" }

    func all(_ name: String, class className: String? = nil) -> [Element] {
        elements.filter { $0.name == name && (className == nil || $0.attributes["class"] == className) }
    }
}

/// Checks one heatmap: well-formed, shape attributes, one cell per entry, one label per row and column.
private func expectHeatmap(_ svg: String, _ m: ExplainMatrix, sourceLocation: SourceLocation = #_sourceLocation) {
    let xml = XMLElements(parsing: svg)
    #expect(xml.failure == nil, "\(m.name): \(xml.failure ?? "")", sourceLocation: sourceLocation)
    let root = xml.elements.first
    #expect(root?.name == "svg" && root?.attributes["data-rows"] == "\(m.rows)" && root?.attributes["data-columns"] == "\(m.columns)",
            sourceLocation: sourceLocation)
    #expect(xml.all("rect", class: "cell").count == m.rows * m.columns, sourceLocation: sourceLocation)
    #expect(xml.all("text", class: "row-label").map(\.text) == m.rowLabels, sourceLocation: sourceLocation)
    #expect(xml.all("text", class: "column-label").map(\.text) == m.columnLabels, sourceLocation: sourceLocation)
}

@Suite("explain: the rendered report")
struct ExplainRenderingTests {
    let report: ExplainReport

    init() throws {
        report = try ExplainReport(explaining: try .seeded(inputs: 4, outputs: 3, inverseTemperature: 2, target: 0, seed: 42))
    }

    @Test("the HTML is one well-formed XHTML document: no scripts, no external resources, one heatmap per matrix shown")
    func htmlIsWellFormed() throws {
        let html = ExplainHTMLRenderer.render(report, command: "backprop explain --out r.html && echo <done>")
        let xml = XMLElements(parsing: html)
        #expect(xml.failure == nil, "\(xml.failure ?? "")")
        #expect(xml.elements.first?.name == "html")
        #expect(xml.all("script").isEmpty && xml.all("link").isEmpty && xml.all("img").isEmpty && xml.all("iframe").isEmpty)
        #expect(!html.contains("http://") || html.components(separatedBy: "http://").dropFirst().allSatisfy { $0.hasPrefix("www.w3.org/") })
        #expect(!html.contains("https://"))
        let heatmaps = xml.all("svg", class: "heatmap")
        let shown = report.forward.map(\.matrix) + report.backward.flatMap { [$0.result] + ($0.finiteDifferences.map { [$0.estimate] } ?? []) }
        #expect(heatmaps.count == shown.count)
        for (svg, m) in zip(heatmaps, shown) {
            #expect(svg.attributes["data-rows"] == "\(m.rows)" && svg.attributes["data-columns"] == "\(m.columns)", "\(m.name)")
        }
        #expect(xml.all("svg", class: "graph").count == 1)
        #expect(xml.all("article").map { $0.attributes["id"] ?? "" } == report.backward.map(\.id))
        #expect(html.contains("&lt;done&gt;"))
    }

    @Test("every heatmap is well-formed SVG with one cell per entry and every row and column labelled")
    func heatmapsAreWellFormed() throws {
        for m in report.allMatrices { expectHeatmap(ExplainHeatmapSVG.render(m, standalone: true), m) }
        var g = SeededGenerator(seed: 3)
        let wide = ExplainMatrix(name: "∂L/∂W⁽¹⁾", Tensor<Double>.randomNormal([16, 64], generator: &g),
                                 rowLabels: subscriptedLabels("z", 16), columnLabels: subscriptedLabels("x", 64))
        // Wider than 32 columns: drawn as the means of 1×2 blocks, and the title says so.
        let svg = ExplainHeatmapSVG.render(wide)
        expectHeatmap(svg, wide.pooled())
        #expect(svg.contains("drawn as means of 1×2 blocks"))
    }

    @Test("a large matrix is pooled into block means and summarised in one line")
    func largeMatricesArePooledAndSummarised() {
        // 2×6 with at most 2×3 entries: blocks of 1×2, means by hand.
        let m = ExplainMatrix(name: "W", rows: 2, columns: 6, values: [1, 3, 5, 7, -2, 2, 0, 0, 1, 1, 10, 20],
                              rowLabels: ["a", "b"], columnLabels: ["c0", "c1", "c2", "c3", "c4", "c5"])
        let p = m.pooled(maxRows: 2, maxColumns: 3)
        #expect(p.rows == 2 && p.columns == 3 && p.values == [2, 6, 0, 0, 1, 15])
        #expect(p.columnLabels == ["c0…c1", "c2…c3", "c4…c5"] && p.rowLabels == ["a", "b"])
        #expect(m.pooled(maxRows: 2, maxColumns: 6) == m)
        let big = ExplainMatrix(name: "V", rows: 33, columns: 1, values: (0..<33).map(Double.init),
                                rowLabels: subscriptedLabels("v", 33), columnLabels: ["V"])
        #expect(big.isLarge && !m.isLarge)
        #expect(ExplainTextRenderer.matrixLines(big) == [big.summary])
        #expect(big.summary.hasPrefix("V (33×1): min 0, max 32, mean 16"))
    }

    @Test("text in SVG and HTML is escaped")
    func textIsEscaped() {
        let m = ExplainMatrix(name: "a<b & \"c\"", rows: 1, columns: 2, values: [1, -1], rowLabels: ["<r>"], columnLabels: ["&", "'"])
        let svg = ExplainHeatmapSVG.render(m, standalone: true)
        expectHeatmap(svg, m)
        #expect(XMLElements(parsing: svg).elements.first?.attributes["data-name"] == "a<b & \"c\"")
    }

    @Test("the graph diagram is well-formed and carries each edge's value and gradient")
    func graphIsWellFormed() throws {
        let svg = ExplainGraphSVG.render(report.graph, standalone: true)
        let xml = XMLElements(parsing: svg)
        #expect(xml.failure == nil, "\(xml.failure ?? "")")
        #expect(xml.all("rect", class: "node").count == 3)
        let labels = xml.all("tspan").map(\.text)
        for name in ["x", "W", "b", "y", "β", "p", "t", "L", "∂L/∂x", "∂L/∂W", "∂L/∂b", "∂L/∂y", "∂L/∂β", "∂L/∂p", "∂L/∂L"] {
            #expect(labels.contains(name), "graph has no label \(name)")
        }
        #expect(labels.contains("= " + ExplainFormat.number(report.loss, digits: 4, unicodeMinus: true)))
    }

    @Test("the Markdown links one SVG file per picture and the text form lists every step")
    func markdownAndText() throws {
        let (markdown, assets) = ExplainMarkdownRenderer.render(report, assetDirectory: "report_files")
        #expect(assets.contains { $0.path == "report_files/graph.svg" })
        for asset in assets {
            #expect(markdown.contains("(\(asset.path))"), "\(asset.path) is not linked")
            #expect(XMLElements(parsing: asset.contents).failure == nil, "\(asset.path) is not well-formed")
        }
        #expect(Set(assets.map(\.path)).count == assets.count)
        let text = ExplainTextRenderer.render(report)
        for step in report.backward { #expect(text.contains(step.title)) }
        #expect(text.contains("All checks agree"))
    }

    @Test("number formatting")
    func numbers() {
        #expect(ExplainFormat.number(0.5) == "0.5")
        #expect(ExplainFormat.number(-1.23456) == "-1.235")
        #expect(ExplainFormat.number(-1.23456, unicodeMinus: true) == "−1.235")
        #expect(ExplainFormat.number(1.5e-7) == "1.5e-07")
        #expect(ExplainFormat.number(0) == "0")
        #expect(ExplainFormat.vector([1, 2, 3, 4, 5], limit: 3) == "[1, 2, 3, …]")
    }
}
