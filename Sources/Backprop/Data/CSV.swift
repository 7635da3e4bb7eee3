import Foundation

/// Numeric CSV files: comma-separated numbers, one example per line, no quoting.
///
/// Rules (shared by both readers):
/// - Fields are separated by `,`; spaces and tabs around a field are ignored; lines end in
///   `\n` or `\r\n`. Blank lines are skipped (line numbers in messages still count them).
/// - Every value must be a finite number representable as `Float` (`nan`, `inf`, `1e40` are errors).
/// - **Header:** the first non-blank line is skipped as a header if *none* of its fields is a
///   number (e.g. `x0,x1,…,label`). A first line mixing numbers and text is an error like any
///   other row, so a corrupt first data row is never silently dropped. A header must have the
///   same number of fields as the rows.
/// - All rows have the same number of fields; the first row fixes it.
/// - A file with no data rows is an error.
///
/// Labeled files (as `digits.csv`): features first, the integer class label last.
///
///     let digits = try CSV.readLabeled("digits.csv", classCount: 10)  // 1797 × 64, labels 0…9
///     let inputs = try CSV.readFeatures("new.csv", columnCount: 64)
public enum CSV {
    /// Reads a labeled CSV file: all fields but the last are features, the last is the label.
    ///
    /// - Parameters:
    ///   - path: the file to read.
    ///   - classCount: if given, each label must be below it; otherwise one more than the
    ///     largest label.
    /// - Throws: `DataError` naming `path`, the line and (for bad values) the column.
    public static func readLabeled(_ path: String, classCount: Int? = nil) throws -> LabeledDataset {
        try decodeLabeled(try FileBytes.read(path), source: path, classCount: classCount)
    }

    /// Decodes a labeled CSV file held in memory (see `readLabeled(_:classCount:)`).
    public static func decodeLabeled(_ data: Data, source: String = "<data>", classCount: Int? = nil) throws -> LabeledDataset {
        var features: [Float] = []
        var labels: [Int] = []
        var lineOfLabel: [Int] = []
        let columns = try forEachRow(of: data, source: source, minimumFields: 2) { line, fields in
            for (column, field) in fields.dropLast().enumerated() {
                features.append(try value(field, line: line, column: column + 1, source: source))
            }
            labels.append(try label(fields[fields.count - 1], line: line, column: fields.count, source: source))
            lineOfLabel.append(line)
        }
        let classes = try LabeledDataset.checkedClassCount(labels: labels, classCount: classCount, source: source,
                                                           location: { "line \(lineOfLabel[$0])" })
        return LabeledDataset(features: Tensor(shape: [labels.count, columns - 1], scalars: features),
                              labels: labels, classCount: classes)
    }

    /// Reads a feature-only CSV file (every field a feature) as a `[rows, columns]` tensor.
    ///
    /// - Parameters:
    ///   - path: the file to read.
    ///   - columnCount: if given, every row must have exactly this many fields.
    /// - Throws: `DataError` naming `path`, the line and (for bad values) the column.
    public static func readFeatures(_ path: String, columnCount: Int? = nil) throws -> Tensor<Float> {
        try decodeFeatures(try FileBytes.read(path), source: path, columnCount: columnCount)
    }

    /// Decodes a feature-only CSV file held in memory (see `readFeatures(_:columnCount:)`).
    public static func decodeFeatures(_ data: Data, source: String = "<data>", columnCount: Int? = nil) throws -> Tensor<Float> {
        var values: [Float] = []
        var rows = 0
        let columns = try forEachRow(of: data, source: source, minimumFields: 1, requiredFields: columnCount) { line, fields in
            for (column, field) in fields.enumerated() {
                values.append(try value(field, line: line, column: column + 1, source: source))
            }
            rows += 1
        }
        return Tensor(shape: [rows, columns], scalars: values)
    }

    // MARK: - Lines and fields

    /// Calls `body` with the 1-based line number and the trimmed fields of each data row,
    /// after skipping blank lines and an all-text header; checks that all rows have the same
    /// number of fields. Returns that number.
    private static func forEachRow(of data: Data, source: String, minimumFields: Int, requiredFields: Int? = nil,
                                   _ body: (Int, [Substring]) throws -> Void) throws -> Int {
        var rows = RowParser(source: source, minimumFields: minimumFields, expected: requiredFields)
        let bytes = [UInt8](data)
        for rawLine in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            if let fields = try rows.fields(ofLine: rawLine) { try body(rows.lineNumber, fields) }
        }
        return try rows.finish()
    }

    /// The line-by-line rules shared by the whole-file and the streaming readers: blank lines,
    /// the header, and the number of fields per row.
    struct RowParser {
        let source: String
        let minimumFields: Int
        /// The number of fields every row must have, once known.
        var expected: Int?
        var sawLine = false
        var sawRow = false
        /// The 1-based number of the line last given to `fields(ofLine:)`.
        var lineNumber = 0

        func fail(_ problem: String) -> DataError { DataError(file: source, problem: problem) }

        /// The trimmed fields of the next line if it is a data row; nil for a blank line or
        /// the header.
        mutating func fields(ofLine rawLine: ArraySlice<UInt8>) throws -> [Substring]? {
            lineNumber += 1
            let line = rawLine.last == 0x0D ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return nil }
            let fields = line.split(separator: 0x2C, omittingEmptySubsequences: false).map(CSV.field)
            let isFirst = !sawLine
            sawLine = true
            if isFirst, fields.allSatisfy({ CSV.number($0) == nil }) {
                // A header row: checked for width, then skipped.
                if let expected, fields.count != expected {
                    throw fail("line \(lineNumber): header has \(fields.count) fields, expected \(expected)")
                }
                expected = fields.count
                return nil
            }
            if let expected, fields.count != expected {
                throw fail("line \(lineNumber): expected \(expected) fields, found \(fields.count)")
            }
            guard fields.count >= minimumFields else {
                throw fail("line \(lineNumber): expected at least \(minimumFields) fields, found \(fields.count)")
            }
            expected = fields.count
            sawRow = true
            return fields
        }

        /// After the last line: the number of fields per row (the file must have a data row).
        func finish() throws -> Int {
            guard sawLine else { throw fail("file is empty") }
            guard sawRow, let expected else { throw fail("no data rows (only a header)") }
            return expected
        }
    }

    /// A field's bytes, without surrounding spaces and tabs, as text.
    static func field(_ bytes: ArraySlice<UInt8>) -> Substring {
        var bytes = bytes
        while let b = bytes.first, b == 0x20 || b == 0x09 { bytes.removeFirst() }
        while let b = bytes.last, b == 0x20 || b == 0x09 { bytes.removeLast() }
        return Substring(String(decoding: bytes, as: UTF8.self))
    }

    // MARK: - Values

    /// The number a field holds, or nil if it is not one. A number is written in decimal:
    /// an optional sign, digits with an optional decimal point (`1`, `1.`, `.5`, `1.5`), an
    /// optional exponent (`e-3`), and nothing else — no NUL or other byte, no hexadecimal, no
    /// digit separators. `nan`, `inf` and `infinity` (any case, optionally signed) are numbers
    /// too, so that they are reported as not finite rather than as text.
    static func number(_ field: Substring) -> Double? {
        let bytes = Array(field.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i - start
        }
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "n") || bytes[i] | 0x20 == UInt8(ascii: "i") {
            switch String(decoding: bytes[i...], as: UTF8.self).lowercased() {
            case "nan": return .nan
            case "inf", "infinity": return negative ? -.infinity : .infinity
            default: return nil
            }
        }
        var mantissaDigits = digits()
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            mantissaDigits += digits()
        }
        guard mantissaDigits > 0 else { return nil }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return nil }
        }
        guard i == bytes.count else { return nil }
        return Double(field)
    }

    /// A feature value: a finite number within `Float`'s range.
    static func value(_ field: Substring, line: Int, column: Int, source: String) throws -> Float {
        if let small = smallInteger(field) { return Float(small) }
        guard let number = number(field) else {
            let what = field.isEmpty ? "empty field" : "\(DataError.quoted(field)) is not a number"
            throw DataError(file: source, problem: "line \(line), column \(column): \(what)")
        }
        let float = Float(number)  // rounds to nearest; past Float's range that is ±∞
        guard float.isFinite else {
            throw DataError(file: source, problem: "line \(line), column \(column): \(DataError.quoted(field)) is not a finite Float")
        }
        return float
    }

    /// A label: a non-negative integer (written `3` or `3.0`).
    private static func label(_ field: Substring, line: Int, column: Int, source: String) throws -> Int {
        if let small = smallInteger(field) { return small }
        guard let number = number(field), number >= 0, number < 0x1p53, number.rounded() == number else {
            throw DataError(file: source, problem: "line \(line), column \(column): label \(DataError.quoted(field)) is not a non-negative integer")
        }
        return Int(number)
    }

    /// Fast path for the common case: 1 to 9 ASCII digits.
    @inline(__always)
    private static func smallInteger(_ field: Substring) -> Int? {
        let utf8 = field.utf8
        guard !utf8.isEmpty, utf8.count <= 9 else { return nil }
        var result = 0
        for byte in utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            result = result * 10 + Int(byte - 0x30)
        }
        return result
    }
}
