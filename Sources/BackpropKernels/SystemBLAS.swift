import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which system BLAS, if any, `Gemm` hands its work to.
///
/// The BLAS is found at run time with `dlopen`, so the package builds and runs without one.
/// The initial value comes from the `BACKPROP_BLAS` environment variable: `auto` (the default),
/// `off`, or a path to a shared library exporting `cblas_sgemm` and `cblas_dgemm`.
public enum BLASPreference: Hashable, Sendable {
    /// Use the first library found: `libopenblas.so.0`, then `libblas.so.3` (Linux), or the
    /// Accelerate framework (macOS). The Swift kernels run when none is found.
    case automatic
    /// Always use the Swift kernels.
    case off
    /// Use the library at this path (or soname); the Swift kernels run if it cannot be loaded.
    case library(String)

    /// Parses a `BACKPROP_BLAS` value: `auto`/empty, `off`/`none`/`0`/`swift`, or a path.
    public init(environmentValue text: String?) {
        let trimmed = (text ?? "").trimmingCharacters(in: .whitespaces)
        switch trimmed.lowercased() {
        case "", "auto": self = .automatic
        case "off", "none", "0", "swift": self = .off
        default: self = .library(trimmed)
        }
    }
}

/// A loaded CBLAS: the two GEMM entry points, and OpenBLAS's thread setter when present.
package final class SystemBLAS: @unchecked Sendable {
    // CBLAS enum values (cblas.h): CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
    package static let rowMajor: Int32 = 101
    package static let noTrans: Int32 = 111
    package static let trans: Int32 = 112

    package typealias SGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>, Int32,
        UnsafePointer<Float>, Int32, Float, UnsafeMutablePointer<Float>, Int32) -> Void
    package typealias DGEMM = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>, Int32,
        UnsafePointer<Double>, Int32, Double, UnsafeMutablePointer<Double>, Int32) -> Void
    package typealias SetThreads = @convention(c) (Int32) -> Void

    /// "openblas" for OpenBLAS found automatically, otherwise the name or path that was loaded.
    package let name: String
    package let sgemm: SGEMM
    package let dgemm: DGEMM
    private let setThreads: SetThreads?
    private let lock = NSLock()
    private var threadsSet = 0

    private init(name: String, sgemm: SGEMM, dgemm: DGEMM, setThreads: SetThreads?) {
        self.name = name
        self.sgemm = sgemm
        self.dgemm = dgemm
        self.setThreads = setThreads
    }

    /// Opens `path` and looks up the CBLAS GEMMs; nil when either is missing.
    /// The handle is never closed: calls may be in flight on other threads.
    package static func load(_ path: String, name: String) -> SystemBLAS? {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return nil }
        guard let s = dlsym(handle, "cblas_sgemm"), let d = dlsym(handle, "cblas_dgemm") else {
            dlclose(handle)
            return nil
        }
        let setter = dlsym(handle, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreads.self) }
        return SystemBLAS(name: name, sgemm: unsafeBitCast(s, to: SGEMM.self),
                          dgemm: unsafeBitCast(d, to: DGEMM.self), setThreads: setter)
    }

    /// The libraries `.automatic` tries, in order, with the name each reports.
    package static var candidates: [(path: String, name: String)] {
        #if os(macOS)
        return [("/System/Library/Frameworks/Accelerate.framework/Accelerate", "accelerate")]
        #else
        return [("libopenblas.so.0", "openblas"), ("libblas.so.3", "libblas.so.3")]
        #endif
    }

    /// The BLAS `preference` selects, or nil for the Swift kernels.
    package static func resolve(_ preference: BLASPreference) -> SystemBLAS? {
        switch preference {
        case .off: return nil
        case .library(let path): return load(path, name: path)
        case .automatic:
            for candidate in candidates {
                if let blas = load(candidate.path, name: candidate.name) { return blas }
            }
            return nil
        }
    }

    /// Tells OpenBLAS how many threads to use, when it changed since the last call.
    package func useThreads(_ count: Int) {
        guard let setThreads else { return }
        lock.lock()
        defer { lock.unlock() }
        if threadsSet != count {
            setThreads(Int32(clamping: count))
            threadsSet = count
        }
    }
}

/// The process-wide BLAS choice and the library it resolved to.
package final class BLASSettings: @unchecked Sendable {
    package static let shared = BLASSettings()

    private let lock = NSLock()
    private var _preference: BLASPreference
    private var resolved = false
    private var _active: SystemBLAS? = nil
    /// Loaded libraries by preference, so switching back and forth does not dlopen again.
    private var cache: [BLASPreference: SystemBLAS?] = [:]

    private init() {
        _preference = BLASPreference(environmentValue: ProcessInfo.processInfo.environment["BACKPROP_BLAS"])
    }

    package var preference: BLASPreference {
        get { lock.lock(); defer { lock.unlock() }; return _preference }
        set { lock.lock(); _preference = newValue; resolved = false; lock.unlock() }
    }

    /// The active library, loading it on first use after the preference is set.
    package var active: SystemBLAS? {
        lock.lock()
        defer { lock.unlock() }
        if !resolved {
            if let cached = cache[_preference] {
                _active = cached
            } else {
                _active = SystemBLAS.resolve(_preference)
                cache[_preference] = .some(_active)
            }
            resolved = true
        }
        return _active
    }
}
