extension LabeledDataset {
    /// Pairs an IDX images file with an IDX labels file (raw or gzip), as MNIST is shipped.
    ///
    /// Images of shape `[n, d₁, d₂, …]` become `n` rows of `d₁·d₂·…` features, pixel values as
    /// stored (0…255 for MNIST, not rescaled), each finite; an image must have at least one
    /// pixel. `exampleShape` is [1, H, W] for [n, H, W] images and [C, H, W] for [n, C, H, W].
    /// The labels file must be rank 1 with `n` entries, each a non-negative integer.
    ///
    ///     let train = try LabeledDataset.readIDX(images: "train-images-idx3-ubyte.gz",
    ///                                            labels: "train-labels-idx1-ubyte.gz", classCount: 10)
    ///
    /// - Parameters:
    ///   - imagesPath: the IDX images file (raw or gzip).
    ///   - labelsPath: the IDX labels file (raw or gzip).
    ///   - classCount: if given, every label must be below it; otherwise it is inferred.
    /// - Throws: `DataError` naming the offending file.
    public static func readIDX(images imagesPath: String, labels labelsPath: String,
                               classCount: Int? = nil) throws -> LabeledDataset {
        let images = try IDX.read(imagesPath, as: Float.self)
        let labels = try IDX.read(labelsPath, as: Double.self)
        return try fromIDX(images: images, imagesSource: imagesPath, labels: labels,
                           labelsSource: labelsPath, classCount: classCount)
    }

    /// Pairs decoded IDX arrays (see `readIDX(images:labels:classCount:)`).
    public static func fromIDX(images: IDXArray<Float>, imagesSource: String,
                               labels: IDXArray<Double>, labelsSource: String,
                               classCount: Int? = nil) throws -> LabeledDataset {
        guard labels.shape.count == 1 else {
            throw DataError(file: labelsSource, problem: "IDX labels must have one dimension, found shape \(labels.shape)")
        }
        let count = images.shape[0]
        guard labels.shape[0] == count else {
            throw DataError(file: labelsSource, problem: "\(labels.shape[0]) labels for \(count) images in \(imagesSource)")
        }
        guard count > 0 else {
            throw DataError(file: imagesSource, problem: "IDX images file has no examples")
        }
        let width = images.shape.dropFirst().reduce(1, *)
        guard width > 0 else {
            throw DataError(file: imagesSource, problem: "IDX images of shape \(images.shape) have no pixels")
        }
        if let bad = images.tensor.scalars.firstIndex(where: { !$0.isFinite }) {
            let value = images.tensor.scalars[bad]
            throw DataError(file: imagesSource, problem: "image \(bad / width), pixel \(bad % width): the value \(value) is not finite (the input holds NaN or infinite values)")
        }
        var intLabels: [Int] = []
        intLabels.reserveCapacity(count)
        for (i, value) in labels.tensor.scalars.enumerated() {
            guard value >= 0, value < 0x1p53, value.rounded() == value else {
                throw DataError(file: labelsSource, problem: "index \(i): label \(value) is not a non-negative integer")
            }
            intLabels.append(Int(value))
        }
        let classes = try checkedClassCount(labels: intLabels, classCount: classCount, source: labelsSource,
                                            location: { "index \($0)" })
        let features = Tensor<Float>(shape: [count, width], scalars: images.tensor.scalars)
        var dataset = LabeledDataset(features: features, labels: intLabels, classCount: classes)
        let dims = Array(images.shape.dropFirst())
        dataset.exampleShape = dims.count == 2 ? [1] + dims : (dims.count == 3 ? dims : nil)
        return dataset
    }
}
