import ArgumentParser
import Backprop
import Foundation

/// `backprop check`: gradcheck over every op, as a table; non-zero exit on any failure.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check every op's derivative rules against finite differences and against each other.",
        discussion: """
            Each op is checked in Double at random shapes (seeded), including n = 1, logits of ±1e4, \
            β = 0 and β < 0: reverse mode, forward mode and central differences must agree within \
            allowances derived from the measured finite-difference error (see docs/derivations.md).
            """
    )

    @Option(parsing: .unconditional, help: "Seed for the random shapes and values.")
    var seed: UInt64 = 2024

    @Option(help: "Only ops whose name contains this text.")
    var filter: String?

    @Flag(help: "Print the worst entry of each check.")
    var verbose = false

    func run() throws {
        let cases = OperationCatalogue.cases(seed: seed).filter { filter.map($0.name.contains) ?? true }
        guard !cases.isEmpty else { throw CommandLineError("check: no op matches --filter \(filter ?? "")") }
        let header = ["op", "shape", "max abs error", "max rel error", "result"]
        var rows: [[String]] = []
        var failures = 0
        for check in cases {
            let report = check.run()
            if !report.passed { failures += 1 }
            let shape = report.inputShapes.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: " ")
            rows.append([check.name, shape, String(format: "%.2e", report.maxAbsoluteError),
                         String(format: "%.2e", report.maxRelativeError), report.passed ? "pass" : "FAIL"])
            if verbose || !report.passed { rows.append(["  " + report.summary, "", "", "", ""]) }
        }
        print(Table(header: header, rows: rows).rendered)
        print("\(cases.count - failures) passed, \(failures) failed")
        if failures > 0 { throw ExitCode.failure }
    }
}

/// A plain-text table with columns padded to their widest cell.
struct Table {
    let header: [String]
    let rows: [[String]]

    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.filter { $0[1...].contains { !$0.isEmpty } || $0 == header }.map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            if cells.dropFirst().allSatisfy(\.isEmpty) { return cells[0] }
            return zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}
