import Foundation

/// Where the CLI writes: results on stdout, one-line errors on stderr.
enum CommandLineOutput {
    /// Writes `backprop: <message>` as one line on standard error.
    static func error(_ message: String) {
        let line = "backprop: " + message.replacingOccurrences(of: "\n", with: " ") + "\n"
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }
}

/// An error the CLI reports as one line, exiting with status 1.
struct CommandLineError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
