// swift-tools-version:6.0
// A package that depends on Backprop as users' packages do, in Swift 6 language mode with full
// data-race checking: it must build with no warnings and its tests use tensors and models
// across tasks. CI runs `swift test --package-path Examples/DependentPackage`.
import PackageDescription

let package = Package(
    name: "TensorAcrossTasks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Backprop", path: "../..")],
    targets: [
        .target(name: "TensorAcrossTasks", dependencies: [.product(name: "Backprop", package: "Backprop")],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(name: "TensorAcrossTasksTests", dependencies: ["TensorAcrossTasks"],
                    swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)
