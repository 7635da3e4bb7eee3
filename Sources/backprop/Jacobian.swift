import ArgumentParser
import Backprop
import Foundation

/// `backprop jacobian`: the Jacobian of the seed's maps, by any method.
struct JacobianCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jacobian",
        abstract: "Print the Jacobian of softmax(βx) or of y = Wx + b.",
        discussion: """
            Examples:
              backprop jacobian softmax --beta 2 --x 1,2,3
              backprop jacobian affine --w "1,2,3;4,5,6" --b 0.5,-1 --x 1,0,2 --wrt w
            Rows index outputs; columns index the flattened (row-major) entries of the input \
            differentiated. --json prints {"rows": R, "cols": C, "jacobian": [[...], ...]}.
            """
    )

    /// The maps this command differentiates.
    enum Map: String, ExpressibleByArgument, CaseIterable { case softmax, affine }

    @Argument(help: "The map.")
    var op: Map

    @Option(parsing: .unconditional, help: "The input x, comma-separated.")
    var x: String

    @Option(parsing: .unconditional, help: "Inverse temperature β (softmax; default 1).")
    var beta: Double?

    @Option(parsing: .unconditional, help: "The weight W (affine): rows separated by ';', entries by ','.")
    var w: String?

    @Option(parsing: .unconditional, help: "The bias b (affine), comma-separated.")
    var b: String?

    @Option(help: "Differentiate the affine map with respect to this argument (default x).")
    var wrt: ClosedFormMap.AffineArgument?

    @Option(help: "How the Jacobian is computed.")
    var method: ClosedFormMap.Method = .reverse

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        if let problem = SystemMemory.environmentProblem { throw CommandLineError(problem) }
        let map = try parseMap()
        try checkMemory(map, method: method)
        let j = map.jacobian(method: method)
        if json {
            let rows = (0..<j.shape[0]).map { r in (0..<j.shape[1]).map { c in j[r, c] } }
            guard rows.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
                throw CommandLineError("jacobian: the Jacobian has non-finite entries, which JSON cannot hold")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let text = String(decoding: try encoder.encode(JacobianJSON(rows: j.shape[0], cols: j.shape[1], jacobian: rows)), as: UTF8.self)
            print(text)
        } else {
            print(describe(map, method: method, j))
        }
    }

    func parseMap() throws -> ClosedFormMap {
        let xv = try NumberList.parse(x, name: "--x")
        switch op {
        case .softmax:
            guard w == nil, b == nil else { throw CommandLineError("jacobian: softmax takes --x and --beta, not --w or --b") }
            if let wrt, wrt != .x {
                throw CommandLineError("jacobian: softmax is differentiated with respect to x only; --wrt \(wrt.rawValue) is for affine")
            }
            let beta = self.beta ?? 1
            guard beta.isFinite else { throw CommandLineError("jacobian: --beta must be a finite number") }
            return .softmax(x: Tensor(xv), beta: beta)
        case .affine:
            guard let w, let b else { throw CommandLineError("jacobian: affine needs --w, --b and --x") }
            let wrt = self.wrt ?? .x
            if let beta { warn("--beta \(beta) has no effect on the affine map (it is softmax's inverse temperature)") }
            let rows = try NumberList.parseMatrix(w, name: "--w")
            let bv = try NumberList.parse(b, name: "--b")
            guard rows[0].count == xv.count else {
                throw CommandLineError("jacobian: --w has \(rows[0].count) columns but --x has \(xv.count) entries")
            }
            guard rows.count == bv.count else {
                throw CommandLineError("jacobian: --w has \(rows.count) rows but --b has \(bv.count) entries")
            }
            return .affine(weight: Tensor(rows: rows), bias: Tensor(bv), x: Tensor(xv), wrt: wrt)
        }
    }

    /// Refuses a Jacobian whose memory (the [outputs, inputs] result, the seeds or tangents of
    /// the batched passes and their intermediate results: about four such matrices of Double)
    /// exceeds the machine's; warns on one line above 1 GiB.
    func checkMemory(_ map: ClosedFormMap, method: ClosedFormMap.Method) throws {
        let outputs = Double(map.function(map.point).count), inputs = Double(map.point.count)
        let needed = 4 * outputs * inputs * 8
        let size = SystemMemory.describe(needed >= 0x1p62 ? 1 << 62 : Int(needed))
        let shape = "\(Int(outputs))×\(Int(inputs))"
        let available = SystemMemory.available
        if needed > Double(available) {
            throw CommandLineError("jacobian: the \(shape) Jacobian needs about \(size) of memory, more than the \(SystemMemory.describe(available)) available")
        }
        if needed > Double(1 << 30) { warn("jacobian: the \(shape) Jacobian needs about \(size) of memory") }
    }

    func describe(_ map: ClosedFormMap, method: ClosedFormMap.Method, _ j: Tensor<Double>) -> String {
        let (title, columnName): (String, (Int) -> String) = {
            switch map {
            case let .softmax(_, beta): return ("∂y/∂x of y = softmax(βx), β = \(beta) — \(method.rawValue)", { "x\($0)" })
            case let .affine(w, _, _, wrt):
                let n = w.shape[1]
                switch wrt {
                case .x: return ("∂y/∂x of y = Wx + b — \(method.rawValue)", { "x\($0)" })
                case .b: return ("∂y/∂b of y = Wx + b — \(method.rawValue)", { "b\($0)" })
                case .w: return ("∂y/∂W of y = Wx + b (W flattened row-major) — \(method.rawValue)", { "W\($0 / n)\($0 % n)" })
                }
            }
        }()
        let cells = (0..<j.shape[0]).map { r in (0..<j.shape[1]).map { c in String(format: "%.6g", j[r, c]) } }
        let width = max(8, (cells.flatMap { $0 }.map(\.count).max() ?? 0) + 1)
        var lines = [title, "shape [\(j.shape[0]), \(j.shape[1])]: rows are outputs y_i, columns the inputs"]
        lines.append("      " + (0..<j.shape[1]).map { columnName($0).leftPadded(to: width) }.joined())
        for (r, row) in cells.enumerated() {
            lines.append("y\(r)".padding(toLength: 6, withPad: " ", startingAt: 0) + row.map { $0.leftPadded(to: width) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}

/// Comma-separated numbers from the command line.
enum NumberList {
    static func parse(_ text: String, name: String) throws -> [Double] {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        var values: [Double] = []
        for (i, field) in fields.enumerated() {
            let trimmed = field.trimmingCharacters(in: .whitespaces)
            guard let v = Double(trimmed), v.isFinite else {
                throw CommandLineError("\(name): entry \(i + 1) '\(trimmed)' is not a finite number")
            }
            values.append(v)
        }
        return values
    }

    /// Rows separated by ';', entries by ','; all rows the same length.
    static func parseMatrix(_ text: String, name: String) throws -> [[Double]] {
        let rows = try text.split(separator: ";", omittingEmptySubsequences: false).enumerated().map { i, row in
            try parse(String(row), name: "\(name) row \(i + 1)")
        }
        for (i, row) in rows.enumerated() where row.count != rows[0].count {
            throw CommandLineError("\(name): row \(i + 1) has \(row.count) entries but row 1 has \(rows[0].count) (ragged rows)")
        }
        return rows
    }
}

/// `--json`'s output: the Jacobian's shape and rows.
struct JacobianJSON: Codable {
    var rows: Int
    var cols: Int
    var jacobian: [[Double]]
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

extension ClosedFormMap.AffineArgument: ExpressibleByArgument {}
extension ClosedFormMap.Method: ExpressibleByArgument {}
