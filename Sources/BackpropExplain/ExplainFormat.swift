import Backprop
import Foundation

/// Number formatting shared by the renderers.
public enum ExplainFormat {
    /// A value with `digits` significant digits, no trailing zeros, and a true minus sign when
    /// `unicodeMinus` (for HTML and SVG): `0.1235`, `−2.5`, `1.2e−05`.
    public static func number(_ v: Double, digits: Int = 4, unicodeMinus: Bool = false) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "∞" : (unicodeMinus ? "−∞" : "-∞") }
        if v == 0 { return "0" }
        var s: String
        let magnitude = Swift.abs(v)
        if magnitude >= 1e-3 && magnitude < 1e6 {
            s = String(format: "%.\(digits)g", v)
            if s.contains("e") { s = String(format: "%.\(Swift.max(0, digits - 1))e", v) }
        } else {
            s = String(format: "%.\(Swift.max(0, digits - 1))e", v)
        }
        s = trimmingZeros(s)
        return unicodeMinus ? s.replacingOccurrences(of: "-", with: "−") : s
    }

    /// An error size: `3.1e-11`, or `0` for exact agreement.
    public static func error(_ v: Double, unicodeMinus: Bool = false) -> String {
        if v == 0 { return "0" }
        let s = String(format: "%.1e", v)
        return unicodeMinus ? s.replacingOccurrences(of: "-", with: "−") : s
    }

    /// A vector written inline, `[0.12, −0.5, 1]`, cut after `limit` entries with `…`.
    public static func vector(_ values: [Double], digits: Int = 3, limit: Int = 4, unicodeMinus: Bool = false) -> String {
        let shown = values.prefix(limit).map { number($0, digits: digits, unicodeMinus: unicodeMinus) }
        return "[" + shown.joined(separator: ", ") + (values.count > limit ? ", …" : "") + "]"
    }

    /// "1.2300e-05" → "1.23e-05", "0.5000" → "0.5".
    private static func trimmingZeros(_ s: String) -> String {
        var mantissa = s, exponent = ""
        if let e = s.firstIndex(of: "e") {
            mantissa = String(s[..<e])
            exponent = String(s[e...])
        }
        if mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        return mantissa + exponent
    }
}
