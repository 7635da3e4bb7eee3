import Foundation
import Testing
@testable import Backprop
#if canImport(Glibc)
import Glibc
#endif

/// Hostile and unusual input to the data layer: bytes a number may not hold, labels the data
/// cannot support, non-finite or out-of-range values, and outputs that are links, devices,
/// FIFOs or locked by another writer.
@Suite struct HostileInputTests {
    // MARK: - CSV numbers

    @Test func csvNumberWithANulOrOtherStrayByteIsAnErrorNamingRowAndColumn() {
        let cases: [(String, String)] = [
            ("1\u{0} 9999,2,0\n", "line 1, column 1: \"1\\u{0} 9999\" is not a number"),
            ("1,2,0\n3,4,7\u{0}garbage\n", "line 2, column 3: label \"7\\u{0}garbage\" is not a non-negative integer"),
            ("1,2,0\n3,4\u{0},1\n", "line 2, column 2: \"4\\u{0}\" is not a number"),
            ("1,0x10,0\n", "line 1, column 2: \"0x10\" is not a number"),
            ("1,1_000,0\n", "line 1, column 2: \"1_000\" is not a number"),
            ("1,1e,0\n", "line 1, column 2: \"1e\" is not a number"),
            ("1,.,0\n", "line 1, column 2: \".\" is not a number"),
            ("1,--1,0\n", "line 1, column 2: \"--1\" is not a number"),
            ("1,infinite,0\n", "line 1, column 2: \"infinite\" is not a number"),
            ("1,-Inf,0\n", "line 1, column 2: \"-Inf\" is not a finite Float"),
        ]
        for (text, fragment) in cases {
            expectDataError(file: "t.csv", containing: fragment) { _ = try CSV.decodeLabeled(Data(text.utf8), source: "t.csv") }
        }
        expectDataError(file: "f.csv", containing: "line 1, column 1: \"1\\u{0} 9999\" is not a number") {
            _ = try CSV.decodeFeatures(Data("1\u{0} 9999,2\n".utf8), source: "f.csv")
        }
    }

    @Test func csvDecimalFormsThatAreNumbersStillRead() throws {
        let d = try CSV.decodeLabeled(Data("+1,1.,.5,-2.5e-1,3.4028235e38,1E2,0\n".utf8), source: "t.csv")
        #expect(d.features.scalars == [1, 1, 0.5, -0.25, Float.greatestFiniteMagnitude, 100])
    }

    @Test func streamedFeatureRowsEqualTheWholeFileReadAcrossChunkBoundaries() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        // About 200 KB: several 64 KB reads, with lines split across them.
        var text = "a,b,c\r\n\n"
        for i in 0..<12_000 { text += "\(i),\(Double(i) / 7),-\(i % 13)e-1\n" }
        let path = directory.file("rows.csv")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let whole = try CSV.readFeatures(path)
        let rows = try CSV.FeatureRows(path: path)
        var streamed: [Float] = []
        var count = 0
        while let values = try rows.next() {
            streamed += values
            count += 1
        }
        #expect(rows.columnCount == 3 && count == 12_000)
        #expect(streamed.map(\.bitPattern) == whole.scalars.map(\.bitPattern))
        #expect(try rows.next() == nil)
        // Errors name the line, and a file without rows is an error at the end.
        let bad = CSV.FeatureRows(data: Data("1,2\n3,4\n5,x\n".utf8), source: "in.csv")
        #expect(try bad.next() == [1, 2] && bad.next() == [3, 4])
        expectDataError(file: "in.csv", containing: "line 3, column 2: \"x\" is not a number") { _ = try bad.next() }
        let headerOnly = CSV.FeatureRows(data: Data("x,y\n".utf8), source: "h.csv")
        expectDataError(file: "h.csv", containing: "no data rows (only a header)") { _ = try headerOnly.next() }
    }

    // MARK: - Class counts the data can support

    @Test func oneLargeLabelIsRejectedNamingTheLabelAndRow() {
        var rows = (0..<9).map { "\($0 % 3),\($0),\($0 % 3)" }
        rows.append("1,1,65535")
        expectDataError(file: "t.csv", containing: "line 10: label 65535 implies 65536 classes, but only 4 distinct labels occur in 10 examples") {
            _ = try CSV.decodeLabeled(Data((rows.joined(separator: "\n") + "\n").utf8), source: "t.csv")
        }
        let images = handBuiltIDX(type: 0x08, dims: [10, 1], payload: Array(repeating: 1, count: 10))
        let labels = handBuiltIDX(type: 0x0B, dims: [10], payload: (0..<9).flatMap { [0, UInt8($0 % 3)] } + [0x7F, 0xFF])
        expectDataError(file: "labels", containing: "index 9: label 32767 implies 32768 classes") {
            _ = try LabeledDataset.fromIDX(images: try IDX.decode(images, as: Float.self), imagesSource: "images",
                                           labels: try IDX.decode(labels, as: Double.self), labelsSource: "labels")
        }
    }

    @Test func aFewAbsentClassesAreAcceptedAndListed() throws {
        // Classes 3 and 8 only (say, a two-digit subset of MNIST): 7 absent classes ≤ 8.
        let d = try CSV.decodeLabeled(Data("1,3\n2,8\n3,3\n".utf8), source: "t.csv")
        #expect(d.classCount == 9)
        #expect(d.absentClasses == [0, 1, 2, 4, 5, 6, 7])
        // An explicit class count is not second-guessed.
        #expect(try CSV.decodeLabeled(Data("1,0\n2,999\n".utf8), source: "t.csv", classCount: 1000).classCount == 1000)
    }

    // MARK: - IDX values

    @Test func nonFiniteOrZeroWidthImagesAreRejectedSayingWhereAndWhat() throws {
        let labels = try IDX.decode(handBuiltIDX(type: 0x08, dims: [2], payload: [0, 1]), as: Double.self)
        let nan = try IDX.decode(handBuiltIDX(type: 0x0D, dims: [2, 2], payload: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 0xC0, 0, 0]), as: Float.self)
        expectDataError(file: "images", containing: "image 1, pixel 1: the value nan is not finite") {
            _ = try LabeledDataset.fromIDX(images: nan, imagesSource: "images", labels: labels, labelsSource: "labels")
        }
        let infinity = try IDX.decode(handBuiltIDX(type: 0x0D, dims: [2, 1], payload: [0xFF, 0x80, 0, 0, 0, 0, 0, 0]), as: Float.self)
        expectDataError(file: "images", containing: "image 0, pixel 0: the value -inf is not finite") {
            _ = try LabeledDataset.fromIDX(images: infinity, imagesSource: "images", labels: labels, labelsSource: "labels")
        }
        let empty = try IDX.decode(handBuiltIDX(type: 0x08, dims: [2, 0, 28], payload: []), as: Float.self)
        expectDataError(file: "images", containing: "IDX images of shape [2, 0, 28] have no pixels") {
            _ = try LabeledDataset.fromIDX(images: empty, imagesSource: "images", labels: labels, labelsSource: "labels")
        }
    }

    @Test func float64ValueBeyondFloatRangeIsAnErrorNotInfinity() throws {
        // 1e300 big-endian.
        let payload = withUnsafeBytes(of: (1e300 as Double).bitPattern.bigEndian) { Array($0) }
        expectDataError(file: "x", containing: "IDX: element 0 is 1e+300, outside the range of Float") {
            _ = try IDX.decode(handBuiltIDX(type: 0x0E, dims: [1], payload: payload), source: "x", as: Float.self)
        }
        #expect(try IDX.decode(handBuiltIDX(type: 0x0E, dims: [1], payload: payload), as: Double.self).tensor.scalars == [1e300])
    }

    // MARK: - Writing through links, devices, FIFOs and standard streams

    @Test func writingThroughASymlinkReplacesItsTargetAndKeepsTheLink() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try FileManager.default.createDirectory(atPath: directory.file("real"), withIntermediateDirectories: false)
        try Data("old".utf8).write(to: URL(fileURLWithPath: directory.file("real/model.bin")))
        try FileManager.default.createSymbolicLink(atPath: directory.file("link.bin"), withDestinationPath: "real/model.bin")
        try AtomicFile.write(Data("new".utf8), to: directory.file("link.bin"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directory.file("link.bin")) == "real/model.bin")
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.file("real/model.bin"))) == Data("new".utf8))
        // A dangling link creates its target.
        try FileManager.default.createSymbolicLink(atPath: directory.file("dangling"), withDestinationPath: directory.file("real/new.bin"))
        try AtomicFile.write(Data("x".utf8), to: directory.file("dangling"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.file("real/new.bin"))) == Data("x".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.file("real")).sorted() == ["model.bin", "new.bin"])
        // A loop of links is an error naming the path.
        try FileManager.default.createSymbolicLink(atPath: directory.file("loop"), withDestinationPath: "loop")
        expectDataError(file: directory.file("loop"), containing: "Too many levels of symbolic links") {
            try AtomicFile.write(Data("x".utf8), to: directory.file("loop"))
        }
    }

    @Test func writingToAFIFOStreamsIntoItAndLeavesItAFIFO() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let fifo = directory.file("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = Thread.detachNewThreadReadingAll(fifo)
        try AtomicFile.write(Data("streamed\n".utf8), to: fifo)
        #expect(reader.wait() == Data("streamed\n".utf8))
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
        #expect(try directory.contents() == ["pipe"])
    }

    @Test func standardStreamAliasesNameThisProcesssDescriptors() throws {
        #expect(try OutputDestination(resolving: "/dev/stdout") == .descriptor(1))
        #expect(try OutputDestination(resolving: "/dev/stderr") == .descriptor(2))
        #expect(try OutputDestination(resolving: "/dev/fd/7") == .descriptor(7))
        #expect(try OutputDestination(resolving: "/proc/self/fd/1") == .descriptor(1))
        #expect(try OutputDestination(resolving: "/dev/null") == .stream("/dev/null"))
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try FileManager.default.createSymbolicLink(atPath: directory.file("out"), withDestinationPath: "/proc/self/fd/2")
        #expect(try OutputDestination(resolving: directory.file("out")) == .descriptor(2))
        #expect(try OutputDestination(resolving: directory.file("new")) == .file(directory.file("new")))
    }

    /// A character device (a copy of /dev/full made with mknod, where permitted) is written
    /// straight through: the write fails with the device's own error and the node stays.
    @Test(.enabled(if: canMakeDeviceNodes, "mknod is not permitted here"))
    func aFullCharacterDeviceGivesNoSpaceLeftAndStaysADevice() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let full = directory.file("full")
        #expect(mknod(full, S_IFCHR | 0o666, dev_t(1 << 8 | 7)) == 0)
        expectDataError(file: full, containing: "cannot write: No space left on device") {
            try AtomicFile.write(Data("x".utf8), to: full)
        }
        var info = stat()
        #expect(lstat(full, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
        #expect(try directory.contents() == ["full"])
    }

    // MARK: - Stale temporary files

    @Test func staleTemporariesOfDeadProcessesAreRemovedByTheNextWrite() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let dead = deadProcessID()
        for name in [".m.bin.tmp-\(dead)-abc", ".m.bin.tmp-\(dead)-def", ".m.bin.tmp-1-live", ".other.tmp-\(dead)-x"] {
            try Data().write(to: URL(fileURLWithPath: directory.file(name)))
        }
        try AtomicFile.write(Data([1]), to: directory.file("m.bin"))
        // pid 1 is alive: its temporary may be in use; another file's temporaries are not ours.
        #expect(try directory.contents() == [".m.bin.tmp-1-live", ".other.tmp-\(dead)-x", "m.bin"])
    }

    // MARK: - Advisory locks

    @Test func aSecondLockOnTheSameOutputIsRefusedNamingTheHolder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("model.safetensors")
        let lock = try OutputLock(for: path)
        #expect(lock.lockPath == directory.file(".model.safetensors.lock"))
        // flock locks belong to an open file description, so a second one conflicts even in-process.
        expectDataError(file: path, containing: "another process (pid \(getpid())) is writing this file") {
            _ = try OutputLock(for: path)
        }
        lock.release()
        #expect(try directory.contents() == [])
        let again = try OutputLock(for: path)
        again.release()
        #expect(try OutputLock(for: "/dev/null").lockPath == nil)
    }
}

/// Whether this process may create device nodes (root in most containers).
let canMakeDeviceNodes: Bool = {
    let path = NSTemporaryDirectory() + "backprop-mknod-probe-\(getpid())"
    defer { unlink(path) }
    return mknod(path, S_IFCHR | 0o600, dev_t(1 << 8 | 3)) == 0
}()

/// A process id that no process has: a child that has exited and been reaped.
func deadProcessID() -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try? process.run()
    process.waitUntilExit()
    return process.processIdentifier
}

extension Thread {
    /// Opens `path` for reading on a new thread and reads it to the end; `wait()` returns the bytes.
    static func detachNewThreadReadingAll(_ path: String) -> PendingRead {
        let pending = PendingRead()
        Thread.detachNewThread {
            var data = Data()
            let fd = open(path, O_RDONLY)
            if fd >= 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 { break }
                    data.append(contentsOf: buffer[0..<n])
                }
                close(fd)
            }
            pending.finish(data)
        }
        return pending
    }
}

/// The result of a read on another thread.
final class PendingRead: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: Data?

    func finish(_ value: Data) {
        condition.lock()
        data = value
        condition.signal()
        condition.unlock()
    }

    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data!
    }
}
