import Backprop
import Foundation

/// Training progress on standard output: a live bar redrawn in place on a terminal; otherwise
/// (piped, redirected) nothing during the epoch. Both print one line per finished epoch.
final class ProgressReporter {
    let live: Bool
    let totalSteps: Int
    private var lastDraw = ContinuousClock.now
    private var stepsDone = 0
    private let start = ContinuousClock.now
    private var barShown = false

    init(live: Bool, stepsPerEpoch: Int, remainingEpochs: Int) {
        self.live = live
        self.totalSteps = stepsPerEpoch * remainingEpochs
    }

    /// After every step: redraw the bar at most ~15 times a second.
    func step(_ p: StepProgress) {
        stepsDone += 1
        guard live else { return }
        let now = ContinuousClock.now
        if p.step != p.stepsPerEpoch && now - lastDraw < .milliseconds(66) { return }
        lastDraw = now
        let width = 24
        let filled = Int(Double(width) * Double(p.step) / Double(p.stepsPerEpoch))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let elapsed = seconds(now - start)
        let rate = p.seconds > 0 ? Double(p.examples) / p.seconds : 0
        let eta = stepsDone > 0 ? elapsed / Double(stepsDone) * Double(max(totalSteps - stepsDone, 0)) : 0
        let line = "epoch \(p.epoch)/\(p.epochs) \(bar) step \(p.step)/\(p.stepsPerEpoch)  loss \(fixed(p.loss))  "
            + "\(Int(rate)) ex/s  ETA \(String(format: "%.1f", eta))s"
        FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + line).utf8))
        barShown = true
    }

    /// After every epoch: one plain line (replacing the bar on a terminal).
    func epoch(_ r: EpochRecord, of epochs: Int) {
        let digits = String(epochs).count
        let number = String(repeating: " ", count: max(digits - String(r.epoch).count, 0)) + String(r.epoch)
        let line = "epoch \(number)/\(epochs)  train_loss \(fixed(r.trainLoss))  val_loss \(fixed(r.validationLoss))  "
            + "val_accuracy \(percent(r.validationAccuracy))  lr \(String(format: "%.3g", r.learningRate))  \(String(format: "%.2f", r.seconds))s"
        clear()
        print(line)
        flushOutput()
    }

    /// Removes the bar (before an error message or the summary).
    func clear() {
        if barShown {
            FileHandle.standardOutput.write(Data("\r\u{1B}[2K".utf8))
            barShown = false
        }
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
