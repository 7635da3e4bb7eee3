// Explaining a trained model: its layers from a safetensors file, one example from the command line.

extension ExplainNetwork {
    /// Numbers from a comma- (or space-) separated row: `"0.5, 1, -2"`.
    public static func parseRow(_ row: String) throws -> [Double] {
        let fields = row.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
        guard !fields.isEmpty else { throw ExplainError("--input is empty; give the example as comma-separated numbers") }
        return try fields.map { field in
            guard let v = Double(field), v.isFinite else { throw ExplainError("--input: '\(field)' is not a finite number") }
            return v
        }
    }

    /// A trained model to explain on one example.
    public static func loadingModel(at path: String, input: [Double], target: Int?, inverseTemperature: Double?) throws -> ExplainNetwork {
        throw ExplainError("--model is not available yet: this build has no safetensors reader (\(path))")
    }
}
