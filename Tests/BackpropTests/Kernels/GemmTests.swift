import Testing
@testable import Backprop
import BackpropKernels

/// One GEMM problem: shapes, transposes, padded leading dimensions, and whether C accumulates.
struct GemmCase: CustomStringConvertible, Sendable {
    var m: Int, n: Int, k: Int
    var transposeA = false, transposeB = false
    /// Extra elements at the end of every stored row (leading dimension minus width).
    var padding = 0
    var accumulate = false
    /// α of `Gemm.multiplyAdd` (C += α·op(A)·op(B); needs `accumulate`), or nil for `multiply`.
    var scale: Double? = nil

    var description: String {
        "\(transposeA ? "Aᵀ" : "A")·\(transposeB ? "Bᵀ" : "B") m=\(m) n=\(n) k=\(k) pad=\(padding)"
            + (accumulate ? " +=" : "") + (scale.map { " α=\($0)" } ?? "")
    }

    /// Every shape × all four transpose forms × accumulate off/on, with and without padding.
    static func all(shapes: [(Int, Int, Int)]) -> [GemmCase] {
        var cases: [GemmCase] = []
        for (m, n, k) in shapes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for accumulate in [false, true] {
                        cases.append(GemmCase(m: m, n: n, k: k, transposeA: transposeA,
                                              transposeB: transposeB,
                                              padding: accumulate ? 3 : 0, accumulate: accumulate))
                    }
                }
            }
        }
        return cases
    }
}

/// Odd shapes: 1, 3, 17, 255, non-square, plus edges of the micro-tiles (4×24, 6×8, 6×4), and
/// of the cache blocks (KC = 384 / 256, MC = 96 / 144, NC = 3072 / 2048).
let oddShapes: [(Int, Int, Int)] = [
    (1, 1, 1), (3, 3, 3), (17, 17, 17), (1, 255, 3), (255, 1, 17), (3, 17, 255),
    (17, 255, 1), (7, 25, 257), (150, 13, 20), (6, 16, 8), (2, 3100, 3),
    (97, 385, 49), (4, 769, 24),
]

/// Shapes for the thread split (with the parallel threshold lifted): along N (m ≤ n), along M,
/// fewer tiles than threads, and chunks that end on partial tiles.
let parallelShapes: [(Int, Int, Int)] = [(13, 90, 40), (61, 17, 33), (5, 7, 9), (100, 100, 30)]

/// Operands, the starting C, and the reference result, for one `GemmCase`.
struct GemmProblem<T: TensorScalar> {
    let spec: GemmCase
    let a: [T], lda: Int
    let b: [T], ldb: Int
    let c0: [T], ldc: Int

    /// Random operands in [-1, 1). Row padding of A and B is NaN, so reading it would show.
    /// Row padding of C is a sentinel that must survive. Without `accumulate`, C starts NaN,
    /// so reading C when told not to would show too.
    init(_ spec: GemmCase, seed: UInt64) {
        self.spec = spec
        var rng = SeededGenerator(seed: seed)
        func matrix(rows: Int, cols: Int, ld: Int, fill: T) -> [T] {
            var x = [T](repeating: fill, count: max(1, rows * ld))
            for i in 0..<rows {
                for j in 0..<cols { x[i * ld + j] = T(rng.nextUnitDouble() * 2 - 1) }
            }
            return x
        }
        let (aRows, aCols) = spec.transposeA ? (spec.k, spec.m) : (spec.m, spec.k)
        let (bRows, bCols) = spec.transposeB ? (spec.n, spec.k) : (spec.k, spec.n)
        lda = aCols + spec.padding
        ldb = bCols + spec.padding
        ldc = spec.n + spec.padding
        a = matrix(rows: aRows, cols: aCols, ld: lda, fill: .nan)
        b = matrix(rows: bRows, cols: bCols, ld: ldb, fill: .nan)
        var c = matrix(rows: spec.m, cols: spec.n, ld: ldc, fill: GemmProblem.sentinel)
        if !spec.accumulate {
            for i in 0..<spec.m { for j in 0..<spec.n { c[i * ldc + j] = .nan } }
        }
        c0 = c
    }

    static var sentinel: T { 12345 }

    func opA(_ i: Int, _ p: Int) -> Double {
        Double(spec.transposeA ? a[p * lda + i] : a[i * lda + p])
    }
    func opB(_ p: Int, _ j: Int) -> Double {
        Double(spec.transposeB ? b[j * ldb + p] : b[p * ldb + j])
    }

    /// Runs `Gemm.multiply` (or `Gemm.multiplyAdd` when the case has a scale) on the given
    /// route on a copy of C and returns it.
    func run(route: Gemm.Route, threads: Int) -> [T] {
        var c = c0
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    if let scale = spec.scale {
                        Gemm.multiplyAdd(route: route, threads: threads, scale: T(scale),
                                         transposeA: spec.transposeA, transposeB: spec.transposeB,
                                         m: spec.m, n: spec.n, k: spec.k,
                                         a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                         c: c.baseAddress!, ldc: ldc)
                        return
                    }
                    Gemm.multiply(route: route, threads: threads,
                                  transposeA: spec.transposeA, transposeB: spec.transposeB,
                                  m: spec.m, n: spec.n, k: spec.k,
                                  a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                  c: c.baseAddress!, ldc: ldc, accumulate: spec.accumulate)
                }
            }
        }
        return c
    }

    /// Checks every entry of `c` against a Double triple loop, and that C's padding is intact.
    ///
    /// Tolerance. Each entry is a sum of k products (k + 1 terms with the starting C), summed
    /// in some order (blocked, SIMD, BLAS — any order) with or without fused multiply-adds.
    /// The standard bound for such a sum in precision u (unit roundoff, ε/2) is
    ///     |computed − exact| ≤ γ_{k+1} · (Σ_p |a_ip||b_pj| + |c_ij|),   γ_n = n·u / (1 − n·u)
    /// (Higham, Accuracy and Stability of Numerical Algorithms, §3.1). The Double reference
    /// obeys the same bound with u = 2⁻⁵³, so the allowed difference is the sum of the two γ's
    /// times that magnitude. It holds for every input, so a failure is a real bug, not noise.
    /// With a scale α (`multiplyAdd`) each term is α·aᵢₚbₚⱼ, and α's rounding (of the sum, or of
    /// each aᵢₚ or bₚⱼ) is one more: γ_{k+2}. α is a power of two or a short decimal whose own
    /// rounding to T is part of the operand: the reference uses T(α) exactly.
    func verify(_ c: [T], _ label: String) {
        func gamma(_ n: Int, _ u: Double) -> Double { Double(n) * u / (1 - Double(n) * u) }
        let terms = spec.k + (spec.scale == nil ? 1 : 2)
        let g = gamma(terms, Double(T.ulpOfOne) / 2) + gamma(terms, 0x1p-53)
        let alpha = spec.scale.map { Double(T($0)) } ?? 1
        var failures = 0
        for i in 0..<spec.m {
            for j in 0..<spec.n {
                var exact = spec.accumulate ? Double(c0[i * ldc + j]) : 0
                var magnitude = abs(exact)
                for p in 0..<spec.k {
                    let term = alpha * opA(i, p) * opB(p, j)
                    exact += term
                    magnitude += abs(term)
                }
                let got = Double(c[i * ldc + j])
                let error = abs(got - exact)
                if !(error <= g * magnitude) {
                    failures += 1
                    if failures <= 3 {
                        Issue.record("\(label) \(spec) [\(i),\(j)]: got \(got), want \(exact), |err| \(error) > \(g * magnitude)")
                    }
                }
            }
            for j in spec.n..<ldc where c[i * ldc + j] != GemmProblem.sentinel {
                Issue.record("\(label) \(spec): C padding [\(i),\(j)] overwritten")
            }
        }
        if failures > 3 { Issue.record("\(label) \(spec): \(failures) entries out of tolerance in all") }
    }
}

/// The system BLAS `.automatic` finds here, if any (tests skip their BLAS cases without one).
let testBLAS: SystemBLAS? = {
    let blas = SystemBLAS.resolve(.automatic)
    if blas == nil {
        print("GemmTests: no system BLAS found (libopenblas.so.0, libblas.so.3); BLAS cases skipped")
    }
    return blas
}()

@Suite("Gemm agrees with a Double triple loop")
struct GemmAccuracyTests {
    func check<T: TensorScalar>(_: T.Type, _ spec: GemmCase) {
        let problem = GemmProblem<T>(spec, seed: UInt64(spec.m * 1_000_003 + spec.n * 1009 + spec.k))
        problem.verify(problem.run(route: .small, threads: 1), "small")
        problem.verify(problem.run(route: .blocked(.fused), threads: 1), "fused")
        problem.verify(problem.run(route: .blocked(.separate), threads: 1), "separate")
        problem.verify(problem.run(route: .blocked(.preferred, parallelThreshold: 0), threads: 2), "blocked×2")
    }

    @Test("Float, swift kernels", arguments: GemmCase.all(shapes: oddShapes))
    func floatSwift(_ spec: GemmCase) { check(Float.self, spec) }

    @Test("Double, swift kernels", arguments: GemmCase.all(shapes: oddShapes))
    func doubleSwift(_ spec: GemmCase) { check(Double.self, spec) }

    @Test("Float and Double, system BLAS", .enabled(if: testBLAS != nil, "no system BLAS found"),
          arguments: GemmCase.all(shapes: oddShapes))
    func systemBLAS(_ spec: GemmCase) throws {
        let blas = try #require(testBLAS)
        let seed = UInt64(spec.m * 31 + spec.n * 7 + spec.k)
        let f = GemmProblem<Float>(spec, seed: seed)
        f.verify(f.run(route: .blas(blas), threads: 1), "blas")
        let d = GemmProblem<Double>(spec, seed: seed)
        d.verify(d.run(route: .blas(blas), threads: 2), "blas×2")
    }

    /// C += α·op(A)·op(B) for the four forms, on every route; α as plain SGD uses it (−η) and a
    /// power of two (exact scaling).
    static let scaledCases: [GemmCase] = GemmCase.all(shapes: oddShapes).filter(\.accumulate).flatMap { spec in
        [-0.01, 0.5].map { alpha in
            var scaled = spec
            scaled.scale = alpha
            return scaled
        }
    }

    @Test("multiplyAdd adds α·op(A)·op(B), one rounding more than multiply, on every route", arguments: scaledCases)
    func scaledAccumulate(_ spec: GemmCase) throws {
        check(Float.self, spec)
        check(Double.self, spec)
        if let blas = testBLAS {
            let problem = GemmProblem<Float>(spec, seed: 11)
            problem.verify(problem.run(route: .blas(blas), threads: 2), "blas×2")
        }
    }

    @Test("k = 0 gives zero, or leaves C as it was when accumulating")
    func emptyDepth() {
        for accumulate in [false, true] {
            let spec = GemmCase(m: 3, n: 5, k: 0, padding: 1, accumulate: accumulate)
            let problem = GemmProblem<Float>(spec, seed: 7)
            problem.verify(problem.run(route: .blocked(.preferred), threads: 2), "k=0")
        }
    }
}

@Suite("Gemm threading")
struct GemmThreadingTests {
    /// The blocked kernel splits M or N on micro-tile boundaries and never splits K, so each
    /// entry of C is summed in the same order whatever the thread count: results are bitwise equal.
    /// (The parallel threshold is lifted so that these small problems do split.)
    func check<T: TensorScalar>(_: T.Type, _ spec: GemmCase) {
        let problem = GemmProblem<T>(spec, seed: 42)
        let route = Gemm.Route.blocked(.preferred, parallelThreshold: 0)
        let one = problem.run(route: route, threads: 1)
        problem.verify(one, "blocked")
        for threads in [2, 3, 5] {
            let many = problem.run(route: route, threads: threads)
            let same = one.withUnsafeBytes { x in many.withUnsafeBytes { y in x.elementsEqual(y) } }
            #expect(same, "\(spec): \(threads) threads differ from 1")
        }
    }

    @Test("multi-threaded equals single-threaded bit for bit (Float)",
          arguments: GemmCase.all(shapes: parallelShapes))
    func float(_ spec: GemmCase) { check(Float.self, spec) }

    @Test("multi-threaded equals single-threaded bit for bit (Double)",
          arguments: GemmCase.all(shapes: parallelShapes))
    func double(_ spec: GemmCase) { check(Double.self, spec) }

    @Test("BACKPROP_THREADS parsing accepts positive integers only")
    func environmentParsing() {
        #expect(KernelSettings.parseThreadCount("3") == 3)
        #expect(KernelSettings.parseThreadCount(" 1 ") == 1)
        #expect(KernelSettings.parseThreadCount("0") == nil)
        #expect(KernelSettings.parseThreadCount("-2") == nil)
        #expect(KernelSettings.parseThreadCount("many") == nil)
        #expect(KernelSettings.parseThreadCount(nil) == nil)
    }
}

/// Tests that change process-wide settings; serialized, and each restores what it changed.
@Suite("Gemm settings", .serialized)
struct GemmSettingsTests {
    @Test("Backprop.threadCount is settable and at least 1")
    func threadCountSetting() {
        let saved = Backprop.threadCount
        defer { Backprop.threadCount = saved }
        #expect(saved >= 1)
        Backprop.threadCount = 1
        #expect(Backprop.threadCount == 1)
    }

    @Test("BACKPROP_BLAS values parse to preferences")
    func blasParsing() {
        #expect(BLASPreference(environmentValue: nil) == .automatic)
        #expect(BLASPreference(environmentValue: "auto") == .automatic)
        #expect(BLASPreference(environmentValue: "OFF") == .off)
        #expect(BLASPreference(environmentValue: "/opt/lib/libfoo.so") == .library("/opt/lib/libfoo.so"))
    }

    @Test("Gemm.blas chooses the backend; a library that cannot load falls back to swift")
    func backendSetting() {
        let saved = Gemm.blas
        defer { Gemm.blas = saved }
        Gemm.blas = .off
        #expect(Gemm.backendName == "swift")
        Gemm.blas = .library("/nonexistent/libnothing.so")
        #expect(Gemm.backendName == "swift")
        Gemm.blas = .automatic
        if let testBLAS {
            #expect(Gemm.backendName == testBLAS.name)
        } else {
            #expect(Gemm.backendName == "swift")
        }
    }

    @Test("The public entry point gives the same answer on each backend")
    func publicEntryPoint() {
        let saved = Gemm.blas
        defer { Gemm.blas = saved }
        for preference in [BLASPreference.off, .automatic] {
            Gemm.blas = preference
            for spec in GemmCase.all(shapes: [(3, 5, 7), (40, 50, 60)]) {
                let problem = GemmProblem<Float>(spec, seed: 9)
                var c = problem.c0
                problem.a.withUnsafeBufferPointer { a in
                    problem.b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            Gemm.multiply(transposeA: spec.transposeA, transposeB: spec.transposeB,
                                          m: spec.m, n: spec.n, k: spec.k,
                                          a: a.baseAddress!, lda: problem.lda,
                                          b: b.baseAddress!, ldb: problem.ldb,
                                          c: c.baseAddress!, ldc: problem.ldc,
                                          accumulate: spec.accumulate)
                        }
                    }
                }
                problem.verify(c, Gemm.backendName)
            }
        }
    }
}

@Suite("Gemm loop nests")
struct GemmLoopNestTests {
    /// Few rows, several K blocks (390 → 195 + 195) and several op(B) chunks (192 columns at
    /// kc = 195, so 230 = 192 + 38, ending on a partial tile); one K block with one chunk.
    @Test("the few-rows nest equals the general nest bit for bit and the Double reference",
          arguments: GemmCase.all(shapes: [(61, 230, 390), (9, 400, 200), (130, 30, 20)]))
    func fewRowsMatchesGeneral(_ spec: GemmCase) {
        let problem = GemmProblem<Float>(spec, seed: UInt64(spec.m * 7919 + spec.n * 31 + spec.k))
        func run(fewRowsLimit: Int) -> [Float] {
            var c = problem.c0
            problem.a.withUnsafeBufferPointer { a in
                problem.b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        GemmBlocked.single(FloatFusedKernel.self, transposeA: spec.transposeA, transposeB: spec.transposeB,
                                           m: spec.m, n: spec.n, k: spec.k, a: a.baseAddress!, lda: problem.lda,
                                           b: b.baseAddress!, ldb: problem.ldb, c: c.baseAddress!, ldc: problem.ldc,
                                           accumulate: spec.accumulate, fewRowsLimit: fewRowsLimit)
                    }
                }
            }
            return c
        }
        let few = run(fewRowsLimit: GemmBlocked.fewRowsLimit), general = run(fewRowsLimit: 0)
        #expect(few.elementsEqual(general) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(spec)")
        problem.verify(few, "few rows")
    }
}
