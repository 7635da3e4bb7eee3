import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CSV {
    /// The rows of a feature-only CSV file read one at a time, so that memory stays constant in
    /// the number of rows and the first row is available before the file has been read to the
    /// end (a pipe or FIFO works). The rules are those of `CSV.readFeatures(_:columnCount:)`;
    /// an error in a later row is thrown when that row is reached.
    ///
    ///     let rows = try CSV.FeatureRows(path: "inputs.csv")
    ///     while let values = try rows.next() { … }   // [Float], rows.columnCount of them
    public final class FeatureRows {
        /// The file name used in error messages.
        public let source: String
        private var rows: RowParser
        private var input: Input
        private var buffer: [UInt8] = []
        private var lineStart = 0
        private var scanned = 0
        private var atEnd = false
        private var finished = false

        private enum Input {
            case file(Int32)
            case memory(Data)
        }

        /// Opens the file at `path`.
        ///
        /// - Parameters:
        ///   - path: the file to read.
        ///   - columnCount: if given, every row must have exactly this many fields.
        /// - Throws: `DataError` naming `path` when it cannot be opened.
        public init(path: String, columnCount: Int? = nil) throws {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FileBytes.systemError(path, "cannot open") }
            source = path
            input = .file(fd)
            rows = RowParser(source: path, minimumFields: 1, expected: columnCount)
        }

        /// Reads rows from bytes held in memory.
        public init(data: Data, source: String = "<data>", columnCount: Int? = nil) {
            self.source = source
            input = .memory(data)
            rows = RowParser(source: source, minimumFields: 1, expected: columnCount)
        }

        deinit {
            if case let .file(fd) = input { close(fd) }
        }

        /// The number of fields per row: known once the first row (or header) has been read.
        public var columnCount: Int? { rows.expected }

        /// The 1-based line number of the row last returned.
        public var lineNumber: Int { rows.lineNumber }

        /// The values of the next data row, or nil after the last one.
        ///
        /// - Throws: `DataError` naming the file, the line and (for bad values) the column; at
        ///   the end, for a file with no data rows.
        public func next() throws -> [Float]? {
            while let line = try nextLine() {
                guard let fields = try rows.fields(ofLine: line) else { continue }
                var values: [Float] = []
                values.reserveCapacity(fields.count)
                for (column, field) in fields.enumerated() {
                    values.append(try CSV.value(field, line: rows.lineNumber, column: column + 1, source: source))
                }
                return values
            }
            if !finished {
                finished = true
                _ = try rows.finish()
            }
            return nil
        }

        /// The next line's bytes without its `\n`, or nil at the end of the input.
        private func nextLine() throws -> ArraySlice<UInt8>? {
            while true {
                if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
                    let line = buffer[lineStart..<newline]
                    lineStart = newline + 1
                    scanned = lineStart
                    return line
                }
                scanned = buffer.count
                if atEnd {
                    guard lineStart < buffer.count else { return nil }
                    let line = buffer[lineStart...]
                    lineStart = buffer.count
                    return line
                }
                try refill()
            }
        }

        /// Drops the consumed bytes and appends the next chunk of input.
        private func refill() throws {
            if lineStart > 0 {
                buffer.removeFirst(lineStart)
                scanned -= lineStart
                lineStart = 0
            }
            switch input {
            case let .memory(data):
                buffer.append(contentsOf: data)
                input = .memory(Data())
                atEnd = true
            case let .file(fd):
                let chunk = 1 << 16
                let old = buffer.count
                buffer.append(contentsOf: repeatElement(0, count: chunk))
                var n: Int
                repeat {
                    n = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress! + old, chunk) }
                } while n < 0 && errno == EINTR
                guard n >= 0 else {
                    buffer.removeLast(chunk)
                    throw FileBytes.systemError(source, "cannot read")
                }
                buffer.removeLast(chunk - n)
                if n == 0 { atEnd = true }
            }
        }
    }
}
