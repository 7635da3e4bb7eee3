import ArgumentParser
import Backprop

@main
struct BackpropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Exact, fast, visible backpropagation.",
        subcommands: [Train.self, Evaluate.self, Predict.self]
    )
}
