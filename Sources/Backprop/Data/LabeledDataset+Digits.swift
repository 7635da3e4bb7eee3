import Foundation

extension LabeledDataset {
    /// The bundled handwritten-digits set: 1,797 examples of 8×8 pixels (64 features, values
    /// 0…16) and labels 0…9 (Alpaydin & Kaynak 1998, UCI, CC BY 4.0; see `Resources/NOTICE.md`).
    ///
    /// Each row is one 8×8 image, row-major: `exampleShape` is [1, 8, 8].
    ///
    ///     let digits = try LabeledDataset.digits()  // features [1797, 64], classCount 10
    public static func digits() throws -> LabeledDataset {
        guard let path = Bundle.module.path(forResource: "digits", ofType: "csv") else {
            throw DataError(file: "digits.csv", problem: "bundled resource not found")
        }
        var data = try CSV.readLabeled(path, classCount: 10)
        data.exampleShape = [1, 8, 8]
        return data
    }
}
