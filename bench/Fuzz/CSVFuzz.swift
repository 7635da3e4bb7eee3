import Backprop
import Foundation

/// The CSV rules of docs/formats.md, applied independently of Backprop's reader: lines split
/// on `\n` (a trailing `\r` dropped), blank lines skipped, fields split on `,` and trimmed of
/// spaces and tabs; a number is decimal (`[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`)
/// or nan/inf/infinity, and a value must be finite as a Float; the first non-blank line is a
/// header exactly when none of its fields is a number; every row has the same number of
/// fields; labels are integers in [0, 2⁵³), and the inferred class count is below 65,536 with
/// no more absent classes than present ones beyond 8.
enum CSVReference {
    enum Verdict: Equatable {
        case valid(rows: Int, columns: Int, values: [Float], labels: [Int])
        case invalid
    }

    static func number(_ field: String) -> Double? {
        let scalars = Array(field.unicodeScalars)
        var body = scalars[...]
        var negative = false
        if let first = body.first, first == "+" || first == "-" { negative = first == "-"; body = body.dropFirst() }
        switch String(String.UnicodeScalarView(body)).lowercased() {
        case "nan": return .nan
        case "inf", "infinity": return negative ? -.infinity : .infinity
        default: break
        }
        // States: 0 start, 1 int digits, 2 point after digits, 3 point first, 4 fraction digits,
        // 5 e, 6 exponent sign, 7 exponent digits.
        var state = 0
        for s in body {
            let digit = s.value >= 48 && s.value <= 57
            switch (state, s) {
            case (0, _) where digit, (1, _) where digit: state = 1
            case (0, "."): state = 3
            case (1, "."): state = 2
            case (2, _) where digit, (3, _) where digit, (4, _) where digit: state = 4
            case (1, "e"), (1, "E"), (2, "e"), (2, "E"), (4, "e"), (4, "E"): state = 5
            case (5, "+"), (5, "-"): state = 6
            case (5, _) where digit, (6, _) where digit, (7, _) where digit: state = 7
            default: return nil
            }
        }
        guard [1, 2, 4, 7].contains(state) else { return nil }
        return Double(field)
    }

    static func check(_ bytes: [UInt8], labeled: Bool) -> Verdict {
        var expected: Int?
        var sawLine = false
        var values: [Float] = [], labels: [Int] = []
        var rows = 0
        for var line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            if line.last == 0x0D { line = line.dropLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let fields = line.split(separator: 0x2C, omittingEmptySubsequences: false).map { raw -> String in
                var f = raw
                while let c = f.first, c == 0x20 || c == 0x09 { f = f.dropFirst() }
                while let c = f.last, c == 0x20 || c == 0x09 { f = f.dropLast() }
                return String(decoding: f, as: UTF8.self)
            }
            let first = !sawLine
            sawLine = true
            if first, fields.allSatisfy({ number($0) == nil }) { expected = fields.count; continue }
            if let expected, fields.count != expected { return .invalid }
            if fields.count < (labeled ? 2 : 1) { return .invalid }
            expected = fields.count
            for field in labeled ? Array(fields.dropLast()) : fields {
                guard let x = number(field), Float(x).isFinite else { return .invalid }
                values.append(Float(x))
            }
            if labeled {
                guard let x = number(fields.last!), x >= 0, x < 0x1p53, x == x.rounded() else { return .invalid }
                labels.append(Int(x))
            }
            rows += 1
        }
        guard sawLine, rows > 0, let columns = expected else { return .invalid }
        if labeled {
            let largest = labels.max()!
            guard largest < 65_536 else { return .invalid }
            let present = Set(labels).count
            guard largest + 1 - present <= max(present, 8) else { return .invalid }
        }
        return .valid(rows: rows, columns: labeled ? columns - 1 : columns, values: values, labels: labels)
    }
}

/// CSV inputs: random tables of numbers written in many forms, with structure-aware edits to
/// fields (NUL and other stray bytes, huge exponents, nan/inf, hexadecimal, labels far out of
/// range) and rows (ragged, blank, CRLF, headers), then byte-level flips.
struct CSVFuzzer {
    func field(_ rng: inout FuzzRandom) -> String {
        switch rng.below(10) {
        case 0: return String(rng.below(17))
        case 1: return String(format: "%.3f", Double(rng.below(2000)) / 7 - 100)
        case 2: return "\(Double(rng.below(1000)) * 1e-3)e\(rng.below(20) - 10)"
        case 3: return rng.pick(hostileNumbers)
        case 4: return rng.pick(["", " 3 ", "\t4", "x", "1\u{0} 9999", "7\u{0}garbage", "1e39", "-1e39", "3.4028235e38", "0x1p3", "1_0", "½", "١"])
        default: return String(rng.below(256))
        }
    }

    /// A number in one of the valid decimal forms.
    func validField(_ rng: inout FuzzRandom) -> String {
        switch rng.below(6) {
        case 0: return String(format: "%.3f", Double(rng.below(2000)) / 7 - 100)
        case 1: return "\(Double(rng.below(1000)) * 1e-3)e\(rng.below(20) - 10)"
        case 2: return rng.pick(["+1", "-0", ".5", "5.", "1E2", " 3 ", "\t4", "007", "3.4028235e38"])
        default: return String(rng.below(256))
        }
    }

    func input(_ rng: inout FuzzRandom) -> [UInt8] {
        let hostile = rng.oneIn(2)
        let columns = 1 + rng.below(5)
        let rows = rng.below(12)
        var lines: [String] = []
        if rng.oneIn(4) { lines.append((0..<columns).map { "c\($0)" }.joined(separator: ",")) }
        for _ in 0..<rows {
            var fields = (0..<columns).map { _ in hostile && rng.oneIn(4) ? field(&rng) : validField(&rng) }
            fields[columns - 1] = String(rng.below(hostile && rng.oneIn(8) ? 70_000 : 6))
            switch rng.below(hostile ? 14 : 60) {
            case 0: fields.removeLast()
            case 1: fields.append(field(&rng))
            case 2: fields = []
            default: break
            }
            lines.append(fields.joined(separator: rng.oneIn(20) ? ", " : ","))
        }
        var text = Array(lines.joined(separator: rng.oneIn(6) ? "\r\n" : "\n").utf8)
        if rng.oneIn(2) { text.append(0x0A) }
        if rng.oneIn(8) { text.insert(contentsOf: [0x0A, 0x20, 0x0A], at: rng.below(text.count + 1)) }
        return hostile && rng.oneIn(3) ? flipBytes(text, &rng, edits: 1 + rng.below(3)) : text
    }

    func run(_ input: [UInt8]) -> Outcome {
        let data = Data(input)
        // Labeled reading.
        let labeledVerdict = CSVReference.check(input, labeled: true)
        do {
            let d = try CSV.decodeLabeled(data, source: "fuzz")
            guard case let .valid(rows, columns, values, labels) = labeledVerdict else { return .acceptedInvalid("labeled") }
            guard d.features.shape == [rows, columns], d.features.scalars.map(\.bitPattern) == values.map(\.bitPattern),
                  d.labels == labels else { return .wrongResult("labeled values") }
        } catch is DataError {
            if labeledVerdict != .invalid { return .rejectedValid }
        } catch {
            return .foreignError("\(error)")
        }
        // Feature-only reading, whole and streamed: both must agree with the reference.
        let featuresVerdict = CSVReference.check(input, labeled: false)
        var whole: Result<[Float], DataError>
        do {
            let x = try CSV.decodeFeatures(data, source: "fuzz")
            whole = .success(x.scalars)
            guard case let .valid(rows, columns, values, _) = featuresVerdict else { return .acceptedInvalid("features") }
            guard x.shape == [rows, columns], x.scalars.map(\.bitPattern) == values.map(\.bitPattern) else {
                return .wrongResult("feature values")
            }
        } catch let error as DataError {
            whole = .failure(error)
            if featuresVerdict != .invalid { return .rejectedValid }
        } catch {
            return .foreignError("\(error)")
        }
        let stream = CSV.FeatureRows(data: data, source: "fuzz")
        var streamed: [Float] = []
        do {
            while let row = try stream.next() { streamed += row }
            guard case let .success(values) = whole, values.map(\.bitPattern) == streamed.map(\.bitPattern) else {
                return .wrongResult("streamed rows differ from the whole-file read")
            }
        } catch let error as DataError {
            guard case let .failure(wholeError) = whole, wholeError == error else {
                return .wrongResult("streamed error differs: \(error)")
            }
        } catch {
            return .foreignError("\(error)")
        }
        return labeledVerdict == .invalid ? .rejected : .accepted
    }
}
