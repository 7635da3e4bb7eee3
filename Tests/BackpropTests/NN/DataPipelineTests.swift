import Testing
@testable import Backprop

@Test func stratifiedSplitKeepsClassProportionsAndIsSeeded() {
    let labels = (0..<1000).map { $0 % 4 == 0 ? 0 : ($0 % 4 == 1 ? 1 : 2) }   // 250 / 250 / 500
    let s = DataSplit.stratified(labels: labels, validationFraction: 0.1, testFraction: 0.2, seed: 42)
    #expect(s.train.count + s.validation.count + s.test.count == 1000)
    #expect(Set(s.train + s.validation + s.test).count == 1000)
    for (part, fraction) in [(s.test, 0.2), (s.validation, 0.1)] {
        let counts = [0, 1, 2].map { c in part.filter { labels[$0] == c }.count }
        #expect(counts == [Int(250 * fraction), Int(250 * fraction), Int(500 * fraction)])
    }
    #expect(s == DataSplit.stratified(labels: labels, validationFraction: 0.1, testFraction: 0.2, seed: 42))
    #expect(s != DataSplit.stratified(labels: labels, validationFraction: 0.1, testFraction: 0.2, seed: 43))
}

@Test func batchesCoverEveryExampleOnceWithASmallerLastBatch() {
    var rng = SeededGenerator(seed: 5)
    let batches = shuffledBatches(count: 10, batchSize: 4, generator: &rng)
    #expect(batches.map(\.count) == [4, 4, 2])
    #expect(batches.flatMap { $0 }.sorted() == Array(0..<10))
    #expect(batches.flatMap { $0 } != Array(0..<10))
}

@Test func standardizationIsFittedOnTheGivenRowsAndMapsConstantColumnsToZero() {
    let train = Tensor<Float>(rows: [[1, 5, 0], [3, 5, 0]])
    let s = Standardization.fitted(to: train)
    #expect(s.mean == [2, 5, 0] && s.std == [1, 1, 1])
    #expect(s.apply(Tensor(rows: [[4, 5, 0]])) == Tensor(rows: [[2, 0, 0]]))
}

@Test func confusionMatrixCountsTrueByPredicted() {
    let m = ClassificationReport.confusionMatrix(labels: [0, 0, 1, 2, 2], predictions: [0, 1, 1, 2, 0], classCount: 3)
    #expect(m == [[1, 1, 0], [0, 1, 0], [1, 0, 1]])
    let r = ClassificationReport(loss: 0, confusion: m)
    #expect(r.count == 5 && r.correct == 3 && r.accuracy == 0.6)
}

@Test func trainerRejectsLayerSizesThatDoNotFitTheData() {
    var c = TrainingConfiguration()
    c.layerSizes = [3, 4, 2]
    let x = Tensor<Float>.zeros([10, 5])
    #expect(throws: ModelError.inputMismatch(expected: [3], found: [5])) {
        try ClassifierTraining(configuration: c, features: x, labels: Array(repeating: 0, count: 10), classCount: 2)
    }
    c.layerSizes = [5, 4, 2]
    #expect(throws: ModelError.classCountMismatch(outputs: 2, classes: 3)) {
        try ClassifierTraining(configuration: c, features: x, labels: Array(repeating: 0, count: 10), classCount: 3)
    }
}
