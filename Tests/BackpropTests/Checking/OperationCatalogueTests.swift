import Testing
@testable import Backprop

/// Every op's reverse and forward rules agree with each other and with central differences
/// (see `GradientCheck` for how the allowances are derived), on two different random draws.
@Test(arguments: [UInt64(2024), 7])
func everyOperationPassesGradientCheck(seed: UInt64) {
    for check in OperationCatalogue.cases(seed: seed) {
        let report = check.run()
        #expect(report.passed, "\(report.summary)")
        #expect(report.comparisons > 0, "\(check.name) compared nothing")
    }
}
