import ArgumentParser
import Backprop
import Foundation

/// `backprop predict`: the predicted class of each row of a CSV file.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict the class of each row of a CSV file of raw features.",
        discussion: """
        Each row holds one example's raw features (standardised with the model's input_mean and \
        input_std). A row with one extra value, such as a labelled digits.csv row, has its last \
        value ignored. Prints one line per row: the label and its probability; with --json, \
        JSON Lines {"label": k, "probabilities": [...]}.
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("CSV file of feature rows.", valueName: "file.csv"))
    var input: String

    @Flag(help: "Print JSON Lines with the label and every class probability.")
    var json = false

    func run() throws {
        try predict()
    }

    func predict() throws {
        let (_, classifier) = try modelOptions.load()
        var x = try CSV.readFeatures(input)
        let columns = x.shape[1]
        if columns == classifier.inputCount + 1 {
            let rows = x.shape[0], n = classifier.inputCount
            var kept: [Float] = []
            kept.reserveCapacity(rows * n)
            for r in 0..<rows { kept += x.scalars[(r * columns)..<(r * columns + n)] }
            x = Tensor(shape: [rows, n], scalars: kept)
        } else if columns != classifier.inputCount {
            throw CommandLineError("\(input): rows have \(columns) values but \(modelOptions.model) expects \(classifier.inputCount) features")
        }
        let probabilities = try classifier.probabilities(x)
        let k = classifier.classCount
        var out = ""
        for (r, label) in probabilities.argmaxRows().enumerated() {
            let row = probabilities.scalars[(r * k)..<((r + 1) * k)]
            if json {
                out += JSONLine.encode(PredictionJSON(label: label, probabilities: row.map(FiniteOrNull.init))) + "\n"
            } else {
                out += "\(label) \(String(format: "%.4f", Double(row[row.startIndex + label])))\n"
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
