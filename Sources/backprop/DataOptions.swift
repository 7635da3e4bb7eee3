import ArgumentParser
import Backprop
import Foundation

/// The data file formats `--format` accepts.
enum DataFormat: String, ExpressibleByArgument, CaseIterable {
    case csv, idx
}

/// Where labelled examples come from: the embedded digits (default), a CSV file (features then
/// the label in the last column) or a pair of IDX files (images and labels, raw or gzip).
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Data file: a CSV file (features, then the label as the last column) or an IDX images file. Default: the embedded 8×8 digits.", valueName: "path"))
    var data: String?

    @Option(help: ArgumentHelp("IDX labels file to go with an IDX images file given as --data.", valueName: "path"))
    var labels: String?

    @Option(help: ArgumentHelp("Format of --data: csv or idx (default: from the extension; idx when --labels is given).", valueName: "format"))
    var format: DataFormat?

    /// A short name for messages and metadata: `digits` or the data file's path.
    var sourceName: String { data ?? "digits" }

    /// Whether the embedded data set is used.
    var isEmbeddedDigits: Bool { data == nil }

    /// Argument checks that need no file access.
    func check() throws {
        if data == nil {
            if labels != nil { throw CommandLineError("--labels needs --data (the IDX images file)") }
            if format != nil { throw CommandLineError("--format needs --data") }
            return
        }
        if resolvedFormat == .idx && labels == nil {
            throw CommandLineError("\(data!): IDX data needs --labels (the IDX labels file)")
        }
        if resolvedFormat == .csv && labels != nil {
            throw CommandLineError("\(data!): --labels is only for IDX data; a CSV file holds its labels in the last column")
        }
    }

    var resolvedFormat: DataFormat {
        if let format { return format }
        guard let data else { return .csv }
        if labels != nil { return .idx }
        let lower = data.lowercased()
        return lower.hasSuffix(".csv") || lower.hasSuffix(".txt") ? .csv : (lower.contains("idx") || lower.hasSuffix(".gz") ? .idx : .csv)
    }

    /// Loads the examples (`DataError`s name the file and the problem).
    ///
    /// - Parameter classCount: the number of classes when known (a model's), else inferred
    ///   from the labels.
    func load(classCount: Int? = nil) throws -> LabeledDataset {
        try check()
        guard let data else {
            let digits = try LabeledDataset.digits()
            if let classCount, digits.classCount > classCount {
                throw CommandLineError("digits: labels go up to \(digits.classCount - 1) but the model has \(classCount) classes")
            }
            return classCount.map { LabeledDataset(features: digits.features, labels: digits.labels, classCount: $0) } ?? digits
        }
        switch resolvedFormat {
        case .csv: return try CSV.readLabeled(data, classCount: classCount)
        case .idx: return try LabeledDataset.readIDX(images: data, labels: labels!, classCount: classCount)
        }
    }
}
