/// Whether layers compute as in training or as in evaluation (dropout and batch normalisation
/// behave differently in the two).
///
/// The phase belongs to the running task, not to a model, so one model value serves both: the
/// trainer runs its steps in `.training` and its evaluations in `.inference`, and anything a
/// layer computes reads `LearningPhase.current` (or `isTraining`). The default is `.inference`,
/// so a model called outside a training loop evaluates — as PyTorch's `model.eval()`.
///
///     let y = withLearningPhase(.training) { model(x) }   // dropout active
public enum LearningPhase: Sendable, Equatable {
    /// Training (batch statistics, dropout active) or inference (running statistics, no dropout).
    case training, inference

    /// The phase of the current task (`.inference` unless inside `withLearningPhase`).
    public static var current: LearningPhase { Context.phase }

    enum Context {
        @TaskLocal static var phase: LearningPhase = .inference
    }
}

/// Runs `body` with layers in `phase`.
public func withLearningPhase<R>(_ phase: LearningPhase, _ body: () throws -> R) rethrows -> R {
    try LearningPhase.Context.$phase.withValue(phase, operation: body)
}

extension Module {
    /// Whether layers should compute as in training now (`LearningPhase.current == .training`).
    public var isTraining: Bool { LearningPhase.current == .training }
}
