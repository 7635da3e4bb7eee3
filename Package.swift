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
        // Prefetch and streaming stores for the row kernels: header-only C, no flags.
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
        // Seeded in-process fuzzing of the file readers (not a test):
        // swift run -c release backprop-fuzz --seed 1 --iterations 100000
        .executableTarget(
            name: "backprop-fuzz",
            dependencies: ["Backprop", "CZlib"],
            path: "bench/Fuzz",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "BackpropTests",
            dependencies: ["Backprop"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
