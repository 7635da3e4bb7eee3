import ArgumentParser
import Backprop
import Foundation

/// Which model file to load, and the activation to assume when its metadata has none.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Model file (safetensors) written by `backprop train` or saved from a PyTorch nn.Sequential.", valueName: "model.safetensors"))
    var model: String

    @Option(help: "Activation between linear layers, for files without metadata (default relu).")
    var activation: Activation?

    /// The file's tensors and metadata, and the classifier they describe.
    func load() throws -> (file: SafeTensors<Float>, classifier: Classifier) {
        let file = try SafeTensors<Float>(contentsOf: model)
        let classifier = try Classifier(safeTensors: file, source: model, activation: activation)
        if file.metadata[ModelMetadataKey.activation] == nil && file.metadata[ModelMetadataKey.arch] == nil && activation == nil {
            CommandLineOutput.error("note: \(model) has no activation in its metadata; assuming relu (use --activation)")
        }
        return (file, classifier)
    }
}
