import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much memory this process may use: the machine's physical memory, or less when a
/// control group (a container's memory limit, cgroup v2 `memory.max` or v1
/// `memory.limit_in_bytes`) says so, or the size in the environment variable
/// `BACKPROP_MEMORY_LIMIT` (bytes, or with a suffix K, M, G or T in powers of 1024) when it is
/// set. Training and Jacobians refuse work whose estimated memory exceeds it, rather than
/// dying in the allocator.
public enum SystemMemory {
    /// The name of the environment variable that overrides the limit.
    public static let environmentVariable = "BACKPROP_MEMORY_LIMIT"

    /// The limit in bytes (see the type's documentation). An unreadable
    /// `BACKPROP_MEMORY_LIMIT` is ignored here; `environmentProblem` reports it.
    public static var available: Int {
        if let text = ProcessInfo.processInfo.environment[environmentVariable], let size = parseSize(text) {
            return size
        }
        var limit = physical
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value > 0 {
                limit = Swift.min(limit, value)
            }
        }
        return limit
    }

    /// The physical memory of the machine in bytes.
    public static var physical: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return Int.max }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? Int.max : bytes
    }

    /// A message when `BACKPROP_MEMORY_LIMIT` is set but is not a size; nil otherwise.
    public static var environmentProblem: String? {
        guard let text = ProcessInfo.processInfo.environment[environmentVariable], parseSize(text) == nil else { return nil }
        return "\(environmentVariable)=\(DataError.quoted(Substring(text))) is not a positive size such as 512M or 4G"
    }

    /// Bytes from text such as `1048576`, `512M`, `4G` or `1.5T` (powers of 1024); nil for
    /// anything else, for zero, and for sizes beyond `Int.max`.
    public static func parseSize(_ text: String) -> Int? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        var scale = 1.0
        if let last = digits.last, let power = "KMGT".firstIndex(of: Character(last.uppercased())) {
            scale = Foundation.pow(1024, Double("KMGT".distance(from: "KMGT".startIndex, to: power) + 1))
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let number = Double(digits), number.isFinite else { return nil }
        let bytes = (number * scale).rounded()
        guard bytes >= 1, bytes < 0x1p63 else { return nil }
        return Int(bytes)
    }

    /// `"23.4 GB"`, `"512.0 MB"`: bytes in powers of 1024, one decimal.
    public static func describe(_ bytes: Int) -> String {
        var value = Double(bytes)
        for unit in ["bytes", "KB", "MB", "GB", "TB"] {
            if value < 1024 || unit == "TB" {
                return unit == "bytes" ? "\(bytes) bytes" : String(format: "%.1f", value) + " " + unit
            }
            value /= 1024
        }
        return "\(bytes) bytes"
    }
}
