// Any model as a safetensors file: its state dict (parameters and buffers) under PyTorch's
// dotted names and shapes, so `model.load_state_dict(load_file(path))` loads it in PyTorch
// when the module there has the same structure, and the other way round.

extension Module {
    /// The state dict as a safetensors file with `metadata`.
    public func safeTensors(metadata: [String: String] = [:]) -> SafeTensors<Scalar> {
        SafeTensors(tensors: Array(stateDict), metadata: metadata)
    }

    /// Writes the state dict atomically (temporary file, sync, rename): an existing file at
    /// `path` is replaced only by a complete new one.
    public func write(to path: String, metadata: [String: String] = [:]) throws {
        try safeTensors(metadata: metadata).write(to: path)
    }

    /// Loads parameters and buffers from a safetensors file, as PyTorch's `load_state_dict`
    /// (see `loadStateDict(_:strict:)`). Names starting `optimizer.` (checkpoint state) are
    /// not part of the model and are skipped.
    ///
    /// - Throws: `DataError` naming `source`, with every missing, unexpected and mis-shaped name.
    public mutating func load(_ file: SafeTensors<Scalar>, source: String, strict: Bool = true) throws {
        let tensors = file.tensors.filter { !$0.name.hasPrefix(optimizerStatePrefix) }
        do {
            try loadStateDict(NamedTensors(names: tensors.map(\.name), tensors: tensors.map(\.tensor)), strict: strict)
        } catch let error as ModelError {
            throw DataError(file: source, problem: error.description)
        }
    }

    /// Reads a safetensors file and loads it (see `load(_:source:strict:)`).
    public mutating func load(contentsOf path: String, strict: Bool = true) throws {
        try load(try SafeTensors<Scalar>(contentsOf: path), source: path, strict: strict)
    }
}
