import ArgumentParser
import Backprop

@main
struct BackpropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Exact, fast, visible backpropagation.",
        subcommands: [
            CheckCommand.self,
            JacobianCommand.self,
            ExplainCommand.self,
            Train.self,
            Evaluate.self,
            Predict.self,
            BenchCommand.self,
        ]
    )

    /// Parses and runs, turning every error into one line on stderr and a non-zero exit
    /// (help and version requests still print in full).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success || error is CleanExit { exit(withError: error) }
            let message = BackpropCommand.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "\(error)"
            CommandLineOutput.error(message)
            Foundation.exit(exitCode(for: error) == .success ? 1 : exitCode(for: error).rawValue)
        }
    }
}

import Foundation
