import CBackpropKernels
import Foundation

/// The instruction set the hot kernels run on, chosen once per process from the CPU's feature
/// flags.
///
/// - `baseline`: the Swift kernels as the build compiles them — SSE2 on x86-64 (multiply, then
///   add: baseline x86-64 has no fused multiply-add), NEON with fused multiply-adds on ARM64.
/// - `avx2`: AVX2 with FMA (x86-64 from Intel Haswell and AMD Zen on): the GEMM micro-kernels
///   and the Float row, elementwise, reduction and optimizer kernels of the C target
///   `CBackpropKernels`, compiled for AVX2 by per-function target attributes.
/// - `avx512`: the same kernels for AVX-512 F/DQ/BW/VL (Intel Skylake-SP, AMD Zen 4 and on):
///   512-bit vectors and larger GEMM tiles.
///
/// The package builds with no compiler flags: every variant is in every x86-64 build, and the
/// CPUID feature bits (with the OS's saved register state) decide which may run. The
/// `BACKPROP_ISA` environment variable (`baseline`, `avx2` or `avx512`) picks a lower one, for
/// comparisons and tests; a variant the CPU lacks is never used.
///
/// Results are the same for every thread count in each variant. Between variants they may
/// differ in the last bits where the arithmetic differs (docs/performance.md lists where).
///
///     print(KernelISA.active)   // "avx2" on a Zen 3 server
public enum KernelISA: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    /// The Swift kernels as compiled for any x86-64 (SSE2) or ARM64 (NEON) CPU.
    case baseline = 0
    /// C kernels for AVX2 with fused multiply-adds (Intel Haswell, AMD Zen and later).
    case avx2 = 1
    /// C kernels for AVX-512 F, DQ, BW and VL (Intel Skylake-SP, AMD Zen 4 and later).
    case avx512 = 2

    /// The name `BACKPROP_ISA` takes and `backprop bench` prints: `baseline`, `avx2`, `avx512`.
    public var description: String {
        switch self {
        case .baseline: return "baseline"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }

    /// Whether `a` is a lower variant than `b` (baseline < avx2 < avx512): a CPU that runs `b`
    /// runs `a`.
    public static func < (a: KernelISA, b: KernelISA) -> Bool { a.rawValue < b.rawValue }

    /// The best variant this CPU and operating system support (CPUID and XCR0; `baseline`
    /// off x86-64).
    public static let supported: KernelISA = KernelISA(rawValue: Int(backprop_cpu_isa())) ?? .baseline

    /// The variant in use: `BACKPROP_ISA` when set to one the CPU supports, otherwise `supported`.
    public static let active: KernelISA = {
        let text = ProcessInfo.processInfo.environment["BACKPROP_ISA"]
        let (choice, warning) = resolve(text, supported: supported)
        if let warning { FileHandle.standardError.write(Data(("backprop: " + warning + "\n").utf8)) }
        return choice
    }()

    /// Parses a `BACKPROP_ISA` value against what the CPU supports: the variant to use, and a
    /// warning when the value is unknown or names a variant the CPU lacks.
    package static func resolve(_ text: String?, supported: KernelISA) -> (KernelISA, String?) {
        let value = (text ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        if value.isEmpty || value == "auto" { return (supported, nil) }
        guard let requested = allCases.first(where: { $0.description == value }) else {
            return (supported, "BACKPROP_ISA=\(value) is not one of baseline, avx2, avx512, auto; using \(supported)")
        }
        if requested > supported {
            return (supported, "BACKPROP_ISA=\(value): this CPU does not support it; using \(supported)")
        }
        return (requested, nil)
    }

    /// The CPU as CPUID names it, e.g. "AMD EPYC 7B13 (family 25, model 1)"; empty off x86-64.
    public static let cpuDescription: String = {
        var buffer = [CChar](repeating: 0, count: 128)
        backprop_cpu_description(&buffer, buffer.count)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}

/// A set of kernels to run: the Swift kernels (`baseline`) or one of the C target's tables.
/// Kernels take one as a parameter (default `.active`), so that tests can run every variant the
/// machine supports in one process, side by side.
package enum KernelVariant: CaseIterable, Sendable, CustomStringConvertible {
    case baseline, avx2, avx512
    /// The AVX-512 variant's code (its tile shapes and 16-lane loops) compiled for AVX2: tests
    /// run it on machines without AVX-512 to check all of it but the instructions.
    case avx512OnAVX2

    /// The variant of `KernelISA.active`.
    package static let active: KernelVariant = variant(of: KernelISA.active)

    package static func variant(of isa: KernelISA) -> KernelVariant {
        switch isa {
        case .baseline: return .baseline
        case .avx2: return .avx2
        case .avx512: return .avx512
        }
    }

    /// The instructions the variant needs.
    package var isa: KernelISA {
        switch self {
        case .baseline: return .baseline
        case .avx2, .avx512OnAVX2: return .avx2
        case .avx512: return .avx512
        }
    }

    /// Whether this machine can run it.
    package var isRunnable: Bool { isa <= KernelISA.supported }

    /// The variants this machine can run.
    package static var runnable: [KernelVariant] { allCases.filter(\.isRunnable) }

    package var description: String {
        self == .avx512OnAVX2 ? "avx512-on-avx2" : isa == .avx512 ? "avx512" : isa.description
    }

    /// The C kernels of this variant, nil for the Swift kernels.
    package var table: UnsafePointer<backprop_kernels>? {
        switch self {
        case .baseline: return nil
        case .avx2: return Self.avx2Table
        case .avx512: return Self.avx512Table
        case .avx512OnAVX2: return Self.avx512OnAVX2Table
        }
    }

    nonisolated(unsafe) private static let avx2Table = backprop_kernels_for(Int32(BACKPROP_ISA_AVX2))
    nonisolated(unsafe) private static let avx512Table = backprop_kernels_for(Int32(BACKPROP_ISA_AVX512))
    nonisolated(unsafe) private static let avx512OnAVX2Table = backprop_kernels_for(Int32(BACKPROP_ISA_AVX512_ON_AVX2))

    /// The C kernels to use for Float work: the variant's table, or nil (the Swift kernels).
    @inline(__always)
    package static func floatTable<T>(_: T.Type, _ variant: KernelVariant) -> backprop_kernels? {
        guard T.self == Float.self, let table = variant.table else { return nil }
        return table.pointee
    }
}
