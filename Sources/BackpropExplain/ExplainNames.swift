import Backprop

/// The report's names for the values of a network with `layerCount` dense layers.
///
/// One layer keeps the seed's names (x, W, b, y). With more, layer k (1-based) has W⁽ᵏ⁾, b⁽ᵏ⁾
/// and pre-activation z⁽ᵏ⁾, hidden activations are h⁽ᵏ⁾, and the last layer's output is y.
struct ExplainNames {
    let layerCount: Int

    /// `⁽k⁾` for layer k (0-based in code, 1-based as shown), empty with one layer.
    private func mark(_ layer: Int) -> String {
        guard layerCount > 1 else { return "" }
        let digits = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        return "⁽" + String(layer + 1).map { digits[Int(String($0))!] }.joined() + "⁾"
    }

    /// The weight of layer `k`.
    func weight(_ k: Int) -> String { "W" + mark(k) }
    /// The bias of layer `k`.
    func bias(_ k: Int) -> String { "b" + mark(k) }
    /// The output of layer `k` before its activation (the logits y for the last layer).
    func preActivation(_ k: Int) -> String { k == layerCount - 1 ? "y" : "z" + mark(k) }
    /// The input of layer `k`: x, or the previous layer's activation h.
    func input(_ k: Int) -> String { k == 0 ? "x" : "h" + mark(k - 1) }
    /// An ASCII tag for layer `k` in step ids (empty with one layer).
    func tag(_ k: Int) -> String { layerCount > 1 ? String(k + 1) : "" }
}

/// ∂L/∂name, the report's notation for a gradient.
func gradientName(_ name: String) -> String { "∂L/∂" + name }
