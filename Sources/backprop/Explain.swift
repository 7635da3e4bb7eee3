import ArgumentParser
import Backprop
import BackpropExplain
import Foundation

/// `backprop explain`: one forward and one backward pass, shown step by step and checked.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Walk one forward and one backward pass step by step, with numbers, checks and pictures.",
        discussion: """
        By default explains the seed's network: x ∈ R^N → affine (W: T×N, b) → softmax(β) → \
        cross-entropy, with seeded values; --convolution puts a 3×3 convolution over a 5×5 image \
        in front of the affine map. Every number comes from the library's own operations \
        and transforms and is checked against the closed form and central finite differences.

        With no --out, prints a compact text report. --out report.html writes one self-contained \
        HTML file; --out report.md writes Markdown with its SVG pictures in report_files/ beside it.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, html, md
    }

    @Option(parsing: .unconditional, help: "Number of inputs N of the seeded network.")
    var inputs: Int = 4

    @Option(parsing: .unconditional, help: "Number of outputs (classes) T of the seeded network.")
    var outputs: Int = 3

    @Option(parsing: .unconditional, help: "Inverse temperature β of the softmax.")
    var beta: Double?

    @Option(parsing: .unconditional, help: "Target class, counted from 0 (default 0; with --model, the predicted class).")
    var target: Int?

    @Option(parsing: .unconditional, help: "Seed for the seeded network's values.")
    var seed: UInt64 = 42

    @Option(help: "Write the report to this file (.html or .md); without it, text goes to the terminal.")
    var out: String?

    @Option(help: "Report format: text, html or md (default: from --out's extension, else text).")
    var format: Format?

    @Option(help: "A trained model (.safetensors) to explain instead of the seeded network.")
    var model: String?

    @Option(parsing: .unconditional, help: "With --model: the example to explain, as comma-separated numbers.")
    var input: String?

    @Flag(help: "Put a 3×3 convolution over a 5×5 image (one channel) in front of the seeded network's affine map.")
    var convolution = false

    func run() throws {
        do {
            try explain()
        } catch let error as ExplainError {
            let option: String? = switch error.setting {
            case .example: "--input"
            case .inputCount: "--inputs"
            case .outputCount: "--outputs"
            case .target: "--target"
            case .beta: "--beta"
            case nil: nil
            }
            throw CommandLineError("explain: " + (option.map { "\($0): " } ?? "") + "\(error)")
        }
    }

    private func explain() throws {
        let format = try resolvedFormat()
        let network: ExplainNetwork
        if convolution {
            guard model == nil, input == nil else { throw ExplainError("--convolution explains its own seeded image and kernel; it does not take --model or --input") }
            network = try ExplainNetwork.seededConvolution(outputs: outputs, inverseTemperature: beta ?? 2, target: target ?? 0, seed: seed)
        } else if let model {
            guard let input else { throw ExplainError("--model needs --input ROW, the example to explain as comma-separated numbers") }
            network = try ExplainNetwork.loadingModel(at: model, input: ExplainNetwork.parseRow(input), target: target, inverseTemperature: beta)
        } else {
            guard input == nil else { throw ExplainError("--input needs --model; the seeded network makes its own input") }
            network = try ExplainNetwork.seeded(inputs: inputs, outputs: outputs, inverseTemperature: beta ?? 2,
                                                target: target ?? 0, seed: seed)
        }
        let report = try ExplainReport(explaining: network)
        let command = (["backprop"] + CommandLine.arguments.dropFirst()).joined(separator: " ")

        switch format {
        case .text:
            try emit(ExplainTextRenderer.render(report))
        case .html:
            try emit(ExplainHTMLRenderer.render(report, command: command))
        case .md:
            guard let out else { throw ExplainError("--format md needs --out FILE.md, so the SVG pictures can be written beside it") }
            let url = URL(fileURLWithPath: out)
            let directory = url.deletingPathExtension().lastPathComponent + "_files"
            let (markdown, assets) = ExplainMarkdownRenderer.render(report, assetDirectory: directory, command: command)
            let base = url.deletingLastPathComponent()
            do {
                try FileManager.default.createDirectory(at: base.appendingPathComponent(directory), withIntermediateDirectories: true)
            } catch {
                throw ExplainError("cannot create \(base.appendingPathComponent(directory).path): \(error.localizedDescription)")
            }
            for asset in assets { try write(asset.contents, to: base.appendingPathComponent(asset.path).path) }
            try write(markdown, to: out)
            print("wrote \(out) and \(assets.count) SVG files in \(base.appendingPathComponent(directory).path)")
        }
    }

    private func resolvedFormat() throws -> Format {
        if let format { return format }
        guard let out else { return .text }
        switch URL(fileURLWithPath: out).pathExtension.lowercased() {
        case "html", "htm", "xhtml": return .html
        case "md", "markdown": return .md
        case "txt", "text": return .text
        default: throw ExplainError("cannot tell the format of \(out); use .html, .md or .txt, or --format")
        }
    }

    private func emit(_ text: String) throws {
        if let out {
            try write(text, to: out)
            print("wrote \(out)")
        } else {
            print(text, terminator: "")
        }
    }

    /// Atomically for a regular file; straight through to a device, FIFO or /dev/stdout.
    private func write(_ text: String, to path: String) throws {
        try AtomicFile.write(Data(text.utf8), to: path)
    }
}
