// backprop-fuzz: seeded, in-process fuzzing of Backprop's file readers.
//
//     swift run -c release backprop-fuzz --seed 1 --iterations 100000
//
// For each parser (safetensors, csv, idx, idx-gzip) it builds `--iterations` inputs from
// valid seeds by structure-aware mutations (header fields, offsets, shapes, numbers, framing)
// and byte flips, runs the reader on each in this process, and compares the verdict with an
// independent reference validator of the format's rules. It reports, per parser:
//
// - crashes: a trap kills the process; a signal handler then prints the parser, iteration
//   and the command that replays that one input, and exits with status 3;
// - hangs: inputs that took longer than --budget seconds; a watchdog stops the run (status 4)
//   when one takes longer than 10 × the budget;
// - accepted-invalid: inputs the reference rejects but the reader accepted;
// - wrong results: inputs both accept but read differently (values, shapes, stream vs file);
// - rejected-valid (for information): inputs the reference accepts and the reader refuses
//   (for safetensors, dtypes Backprop does not read are counted apart).
//
// Every input is a function of (seed, parser, iteration) alone: `--replay N` reruns input N
// and prints it. The exit status is 0 only when crashes, hangs, accepted-invalid and wrong
// results are all zero.

import Backprop
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What one input did.
enum Outcome {
    case accepted, rejected, rejectedValid, rejectedUnsupported
    case acceptedInvalid(String)
    case wrongResult(String)
    case foreignError(String)
}

enum Parser: String, CaseIterable {
    case safetensors, csv, idx
    case idxGzip = "idx-gzip"
}

struct Options {
    var seed: UInt64 = 1
    var iterations = 100_000
    var parsers = Parser.allCases
    var replay: Int?
    var budget = 1.0

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var i = 0
        func value() -> String {
            i += 1
            guard i < arguments.count else { fail("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--seed": options.seed = required(UInt64(value()), "--seed takes a non-negative integer")
            case "--iterations":
                options.iterations = required(Int(value()).flatMap { $0 > 0 ? $0 : nil }, "--iterations takes a positive integer")
            case "--parser":
                let names = value().split(separator: ",").map(String.init)
                options.parsers = names.map { required(Parser(rawValue: $0), "unknown parser \($0) (safetensors, csv, idx, idx-gzip)") }
            case "--replay": options.replay = required(Int(value()).flatMap { $0 >= 0 ? $0 : nil }, "--replay takes an iteration number")
            case "--budget":
                options.budget = required(Double(value()).flatMap { $0 > 0 && $0.isFinite ? $0 : nil }, "--budget takes positive seconds")
            case "-h", "--help":
                print("usage: backprop-fuzz [--seed S] [--iterations N] [--parser safetensors,csv,idx,idx-gzip] [--replay I] [--budget SECONDS]")
                exit(0)
            default: fail("unknown argument \(arguments[i])")
            }
            i += 1
        }
        return options
    }
}

func required<T>(_ value: T?, _ message: String) -> T {
    guard let value else { fail(message) }
    return value
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("backprop-fuzz: \(message)\n".utf8))
    exit(2)
}

// MARK: - Crash and hang reporting

/// The input in progress, for the signal handler and the watchdog: parser index, iteration,
/// and when it started (monotonic nanoseconds; 0 between inputs).
let currentParser = Atomic<Int>(-1)
let currentIteration = Atomic<Int>(-1)
let currentStart = Atomic<UInt64>(0)
nonisolated(unsafe) var replaySeed: UInt64 = 0

func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

/// Writes "<what> parser=<p> iteration=<i> (replay: backprop-fuzz --seed S --parser P --replay I)"
/// with only async-signal-safe calls.
func reportAndExit(_ what: StaticString, status: Int32) -> Never {
    func put(_ text: UnsafePointer<CChar>) { _ = write(2, text, strlen(text)) }
    func putNumber(_ value: UInt64) {
        var digits = [CChar](repeating: 0, count: 24)
        var v = value, n = 22
        repeat { digits[n] = CChar(48 + Int(v % 10)); v /= 10; n -= 1 } while v > 0
        digits.withUnsafeBufferPointer { put($0.baseAddress! + n + 1) }
    }
    let parser = currentParser.load(ordering: .relaxed)
    let names: [StaticString] = ["safetensors", "csv", "idx", "idx-gzip"]
    put("backprop-fuzz: "); what.withUTF8Buffer { _ = write(2, $0.baseAddress, $0.count) }
    put(" in parser "); if parser >= 0 { names[parser].withUTF8Buffer { _ = write(2, $0.baseAddress, $0.count) } }
    put(" at iteration "); putNumber(UInt64(max(currentIteration.load(ordering: .relaxed), 0)))
    put("; replay it with: backprop-fuzz --seed "); putNumber(replaySeed)
    put(" --parser "); if parser >= 0 { names[parser].withUTF8Buffer { _ = write(2, $0.baseAddress, $0.count) } }
    put(" --replay "); putNumber(UInt64(max(currentIteration.load(ordering: .relaxed), 0))); put("\n")
    _exit(status)
}

func installCrashHandlers() {
    for sig in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
        signal(sig) { _ in reportAndExit("CRASH", status: 3) }
    }
}

func startWatchdog(limit: Double) {
    Thread.detachNewThread {
        while true {
            usleep(50_000)
            let start = currentStart.load(ordering: .relaxed)
            if start != 0, Double(monotonicNanoseconds() &- start) * 1e-9 > limit { reportAndExit("HANG", status: 4) }
        }
    }
}

// MARK: - The run

struct Tally {
    var inputs = 0, accepted = 0, rejected = 0, rejectedValid = 0, rejectedUnsupported = 0
    var acceptedInvalid = 0, wrongResults = 0, foreignErrors = 0, hangs = 0
    var slowest = 0.0
    var examples: [String] = []

    mutating func add(_ outcome: Outcome, iteration: Int, seconds: Double, budget: Double) {
        inputs += 1
        slowest = max(slowest, seconds)
        if seconds > budget { hangs += 1; note("hang (\(seconds) s)", iteration) }
        switch outcome {
        case .accepted: accepted += 1
        case .rejected: rejected += 1
        case .rejectedValid: rejectedValid += 1; note("rejected-valid", iteration)
        case .rejectedUnsupported: rejectedUnsupported += 1
        case let .acceptedInvalid(why): acceptedInvalid += 1; note("accepted-invalid (\(why))", iteration)
        case let .wrongResult(why): wrongResults += 1; note("wrong result (\(why))", iteration)
        case let .foreignError(why): foreignErrors += 1; note("error that is not a DataError (\(why))", iteration)
        }
    }

    mutating func note(_ what: String, _ iteration: Int) {
        if examples.count < 5 { examples.append("iteration \(iteration): \(what)") }
    }

    var clean: Bool { acceptedInvalid == 0 && wrongResults == 0 && foreignErrors == 0 && hangs == 0 }
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
replaySeed = options.seed
installCrashHandlers()
startWatchdog(limit: options.budget * 10)

let safetensors = SafeTensorsFuzzer()
let csv = CSVFuzzer()
let idx = IDXFuzzer(gzip: false), idxGzip = IDXFuzzer(gzip: true)

func runOne(_ parser: Parser, _ iteration: Int, show: Bool = false) -> (Outcome, [UInt8], Double) {
    let index = Parser.allCases.firstIndex(of: parser)!
    var rng = FuzzRandom(seed: options.seed, stream: UInt64(index), index: UInt64(iteration))
    let input: [UInt8]
    switch parser {
    case .safetensors: input = safetensors.input(&rng)
    case .csv: input = csv.input(&rng)
    case .idx: input = idx.input(&rng)
    case .idxGzip: input = idxGzip.input(&rng)
    }
    if show {
        print("\(parser.rawValue) iteration \(iteration): \(input.count) bytes")
        print("hex: " + input.map { String(format: "%02x", $0) }.joined())
        if let text = String(bytes: input, encoding: .utf8) { print("text: \(text.debugDescription)") }
        fflush(stdout)
    }
    currentParser.store(index, ordering: .relaxed)
    currentIteration.store(iteration, ordering: .relaxed)
    let start = monotonicNanoseconds()
    currentStart.store(start, ordering: .relaxed)
    let outcome: Outcome
    switch parser {
    case .safetensors: outcome = safetensors.run(input)
    case .csv: outcome = csv.run(input)
    case .idx: outcome = idx.run(input, &rng)
    case .idxGzip: outcome = idxGzip.run(input, &rng)
    }
    currentStart.store(0, ordering: .relaxed)
    return (outcome, input, Double(monotonicNanoseconds() - start) * 1e-9)
}

if let replay = options.replay {
    for parser in options.parsers {
        let (outcome, _, seconds) = runOne(parser, replay, show: true)
        print("outcome \(outcome) in \(String(format: "%.6f", seconds)) s")
    }
    exit(0)
}

print("backprop-fuzz: seed \(options.seed), \(options.iterations) inputs per parser, budget \(options.budget) s per input")
print("parser        inputs  accepted  rejected  crashes  hangs  accepted-invalid  wrong  rejected-valid  slowest")
var allClean = true
let started = monotonicNanoseconds()
for parser in options.parsers {
    var tally = Tally()
    for iteration in 0..<options.iterations {
        let (outcome, _, seconds) = runOne(parser, iteration)
        tally.add(outcome, iteration: iteration, seconds: seconds, budget: options.budget)
    }
    let unsupported = tally.rejectedUnsupported > 0 ? " (+\(tally.rejectedUnsupported) unsupported dtype)" : ""
    print(parser.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
          + String(format: "%8d  %8d  %8d  %7d  %5d  %16d  %5d  %14d  %.4f s",
                   tally.inputs, tally.accepted, tally.rejected + tally.rejectedValid + tally.rejectedUnsupported, 0,
                   tally.hangs, tally.acceptedInvalid, tally.wrongResults + tally.foreignErrors, tally.rejectedValid, tally.slowest)
          + unsupported)
    for example in tally.examples { print("    \(example)") }
    fflush(stdout)
    allClean = allClean && tally.clean
}
print(String(format: "total %.1f s; %@", Double(monotonicNanoseconds() - started) * 1e-9,
             allClean ? "crashes, hangs, accepted-invalid and wrong results all zero" : "FAILURES (see above)"))
exit(allClean ? 0 : 1)
