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

    /// Rows are read, predicted and printed in small batches as they arrive, so memory stays
    /// constant in the number of rows and the first answers appear at once (the input may be a
    /// pipe). A bad row stops the run with one line on stderr after the answers before it.
    func predict() throws {
        let (_, classifier) = try modelOptions.load()
        let rows = try CSV.FeatureRows(path: input)
        let n = classifier.inputCount, k = classifier.classCount
        let output = try StreamingOutput("/dev/stdout")  // write errors (a full disk) become one line
        var batch: [Float] = []
        var batchRows = 0
        var checkedWidth = false
        var batchLimit = 1  // doubles up to 256: the first answer comes at once, later ones in batches
        func flush() throws {
            guard batchRows > 0 else { return }
            let probabilities = try classifier.probabilities(Tensor(shape: [batchRows, n], scalars: batch))
            var out = ""
            for (r, label) in probabilities.argmaxRows().enumerated() {
                let row = probabilities.scalars[(r * k)..<((r + 1) * k)]
                if json {
                    out += JSONLine.encode(PredictionJSON(label: label, probabilities: row.map(FiniteOrNull.init))) + "\n"
                } else {
                    out += "\(label) \(String(format: "%.4f", Double(row[row.startIndex + label])))\n"
                }
            }
            try output.write(Data(out.utf8))
            batch.removeAll(keepingCapacity: true)
            batchRows = 0
        }
        while let values = try rows.next() {
            if !checkedWidth {
                guard values.count == n || values.count == n + 1 else {
                    throw CommandLineError("\(input): rows have \(values.count) values but \(modelOptions.model) expects \(n) features")
                }
                checkedWidth = true
            }
            batch += values.prefix(n)
            batchRows += 1
            if batchRows >= batchLimit {
                try flush()
                batchLimit = min(batchLimit * 2, 256)
            }
        }
        try flush()
    }
}
