/// A problem with a data file: which file, and what is wrong with it.
///
/// Every reader and writer in `Data/` reports failures as a `DataError`. Its description is
/// exactly one line, `"<file>: <problem>"`, for example
/// `digits.csv: line 12: expected 65 fields, found 64`, so a command-line tool can print it as is.
/// Readers never trap on malformed input: every inconsistency in the bytes becomes a `DataError`.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the problem is in, as the caller named it (a path, or a label such as `"<data>"`).
    public let file: String
    /// What is wrong, without the file name.
    public let problem: String

    /// An error about `file`.
    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    /// `"<file>: <problem>"`, on one line (any line breaks in either part are escaped).
    public var description: String {
        DataError.oneLine("\(file): \(problem)")
    }

    /// `text` with carriage returns and line feeds escaped, so it prints as one line.
    static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A short, printable rendering of untrusted input (for quoting a bad field in a message):
    /// at most `limit` characters, control characters escaped.
    static func quoted(_ text: Substring, limit: Int = 24) -> String {
        var out = ""
        for (i, scalar) in text.unicodeScalars.enumerated() {
            if i == limit { out += "…"; break }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return "\"\(out)\""
    }
}

import Foundation
