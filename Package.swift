// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Backprop",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Backprop", targets: ["Backprop"]),
        .executable(name: "backprop", targets: ["backprop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        // zlib, for gzip-compressed IDX files. Its headers and library are part of the base image.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // C kernels for AVX2 and AVX-512, chosen at run time (per-function target attributes, no
        // flags), and the prefetch and streaming-store helpers of the row kernels.
        .target(name: "CBackpropKernels"),
        .target(
            name: "Backprop",
            dependencies: [
                "CZlib",
                "CBackpropKernels",
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            resources: [.copy("Resources/digits.csv"), .copy("Resources/NOTICE.md")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "backprop",
            dependencies: [
                "Backprop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // Hand-run GEMM benchmark (not a test): swift run -c release gemm-bench --help
        .executableTarget(
            name: "gemm-bench",
            dependencies: ["Backprop"],
            path: "bench/GemmBench",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The README's "Your own model" program (CI builds and runs it).
        .executableTarget(name: "your-own-model", dependencies: ["Backprop"], path: "Examples/YourOwnModel"),
        // What a shape mistake prints, in a release build too (CI checks the message).
        .executableTarget(name: "shape-error", dependencies: ["Backprop"], path: "Examples/ShapeError"),
        .testTarget(
            name: "BackpropTests",
            dependencies: ["Backprop"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
