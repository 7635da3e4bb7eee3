// swift-tools-version:6.0
// A hand-written AVX2 C model of the softmax workload's two passes, timed in one process beside
// Backprop's own kernels and its `vjp` API: how far the Swift code is from what the machine's
// memory allows. A developer tool, outside the root package (its C target needs -mavx2 -mfma).
//
//   cd bench/SoftmaxReference
//   swift run -c release -Xswiftc -target-cpu -Xswiftc haswell -Xswiftc -enable-testing softmax-reference [runs] [threads]
import PackageDescription

let package = Package(
    name: "SoftmaxReference",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "../..")],
    targets: [
        .target(name: "CSoftmaxReference", cSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma"])]),
        .executableTarget(
            name: "softmax-reference",
            dependencies: ["CSoftmaxReference", .product(name: "Backprop", package: "main")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
