import Foundation

/// The learning rate as a function of the epoch (0-based), applied at the start of each epoch.
/// Closed forms of PyTorch's `StepLR` and `CosineAnnealingLR` (stepped once per epoch).
public enum LearningRateSchedule: Codable, Equatable, Sendable {
    /// η₀ throughout.
    case constant
    /// η₀·γ^⌊epoch / stepSize⌋ (`StepLR(step_size, gamma)`).
    case step(every: Int, factor: Double)
    /// η_min + (η₀ − η_min)·(1 + cos(π·epoch / T))/2 with T = `epochs` (`CosineAnnealingLR(T_max=T)`).
    case cosine(epochs: Int, minimum: Double)

    /// The learning rate for `epoch` given the base rate η₀.
    public func learningRate(base: Double, epoch: Int) -> Double {
        switch self {
        case .constant:
            return base
        case let .step(every, factor):
            return base * Foundation.pow(factor, Double(epoch / Swift.max(every, 1)))
        case let .cosine(epochs, minimum):
            let t = Double(Swift.min(epoch, epochs)) / Double(Swift.max(epochs, 1))
            return minimum + (base - minimum) * (1 + Foundation.cos(Double.pi * t)) / 2
        }
    }
}
