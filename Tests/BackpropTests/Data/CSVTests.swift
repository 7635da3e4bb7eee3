import Foundation
import Testing
@testable import Backprop

@Suite struct CSVTests {
    func labeled(_ text: String, classCount: Int? = nil) throws -> LabeledDataset {
        try CSV.decodeLabeled(Data(text.utf8), source: "t.csv", classCount: classCount)
    }

    @Test func featuresThenIntegerLabelBecomeRowsAndLabels() throws {
        let dataset = try labeled("1,2,3,0\n4.5, -6 ,7e1,2\n")
        #expect(dataset.features == Tensor(shape: [2, 3], scalars: [1, 2, 3, 4.5, -6, 70]))
        #expect(dataset.labels == [0, 2])
        #expect(dataset.classCount == 3)
        #expect(try labeled("1,2,3,0\n", classCount: 10).classCount == 10)
    }

    @Test func bundledDigitsHave1797RowsOf64PixelsAndTenClasses() throws {
        let digits = try LabeledDataset.digits()
        #expect(digits.features.shape == [1797, 64])
        #expect(digits.classCount == 10)
        #expect(Set(digits.labels) == Set(0..<10))
        #expect(Array(digits.features.scalars[0..<8]) == [0, 0, 5, 13, 9, 1, 0, 0])
        #expect(digits.features.scalars.allSatisfy { $0 >= 0 && $0 <= 16 })
    }

    @Test func allTextHeaderCRLFAndBlankLinesAreTolerated() throws {
        let dataset = try labeled("a,b,label\r\n\r\n1,2,1\r\n  \n3,4,0\r\n\n")
        #expect(dataset.features == Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        #expect(dataset.labels == [1, 0])
    }

    @Test func integralLabelWrittenAsFloatIsAccepted() throws {
        #expect(try labeled("1,3.0\n2,1e0\n").labels == [3, 1])
    }

    @Test func badFilesAreRejectedNamingLineAndColumn() {
        let cases: [(String, Int?, String)] = [
            ("", nil, "t.csv: file is empty"),
            ("\n  \n", nil, "file is empty"),
            ("x,y,label\n", nil, "no data rows (only a header)"),
            ("1,2,3\n4,5\n", nil, "line 2: expected 3 fields, found 2"),
            ("1,2,3\n\n4,5,6,7\n", nil, "line 3: expected 3 fields, found 4"),
            ("a,b\n1,2,3\n", nil, "line 2: expected 2 fields, found 3"),
            ("1,2,0\n1,x,0\n", nil, "line 2, column 2: \"x\" is not a number"),
            ("1,x,0\n", nil, "line 1, column 2: \"x\" is not a number"),  // mixed first line is not a header
            ("1,,0\n", nil, "line 1, column 2: empty field"),
            ("nan,1,0\n", nil, "line 1, column 1: \"nan\" is not a finite Float"),
            ("1e39,1,0\n", nil, "line 1, column 1: \"1e39\" is not a finite Float"),
            ("1,2,-1\n", nil, "line 1, column 3: label \"-1\" is not a non-negative integer"),
            ("1,2,0.5\n", nil, "line 1, column 3: label \"0.5\" is not a non-negative integer"),
            ("1,2,zero\n", nil, "line 1, column 3: label \"zero\" is not a non-negative integer"),
            ("1,2,3\n1,2,10\n", 10, "line 2: label 10 is not below the class count 10"),
            ("1,2,3\n", 0, "class count must be positive"),
            ("1,2,99999999\n", nil, "line 1: label 99999999 implies more than 65536 classes"),
            ("5\n", nil, "line 1: expected at least 2 fields, found 1"),
            ("1,\u{1}\u{7F}bad,0\n", nil, "column 2: \"\\u{1}\\u{7f}bad\" is not a number"),
        ]
        for (text, classCount, fragment) in cases {
            expectDataError(file: "t.csv", containing: fragment) { _ = try labeled(text, classCount: classCount) }
        }
    }

    @Test func featureOnlyFileReadsEveryColumn() throws {
        let features = try CSV.decodeFeatures(Data("x,y\n1,2\n3,4\n5,6".utf8), source: "in.csv", columnCount: 2)
        #expect(features == Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]))
        expectDataError(file: "in.csv", containing: "line 1: expected 3 fields, found 2") {
            _ = try CSV.decodeFeatures(Data("1,2\n".utf8), source: "in.csv", columnCount: 3)
        }
        expectDataError(file: "in.csv", containing: "line 2, column 1: \"-\" is not a number") {
            _ = try CSV.decodeFeatures(Data("1\n-\n".utf8), source: "in.csv")
        }
    }

    @Test func readingFromDiskNamesThePath() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("digits.csv")
        try Data("1,2,3\n4,5\n".utf8).write(to: URL(fileURLWithPath: path))
        expectDataError(file: path, containing: "line 2: expected 3 fields, found 2") { _ = try CSV.readLabeled(path) }
        expectDataError(file: directory.path, containing: "cannot read: Is a directory") {
            _ = try CSV.readFeatures(directory.path)
        }
    }
}
