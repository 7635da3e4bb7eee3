// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Backprop",
    platforms: [.macOS(.v15)],
    products: [
        // The library users link: tensors, autodiff, rules, layers, training, data, checking,
        // distributed training. Its kernels module comes with it; benchmarks and the CLI do not.
        .library(name: "Backprop", targets: ["Backprop"]),
        // The step-by-step explanation of a backward pass (reports and their text, Markdown,
        // HTML and SVG renderings), built on the library's public API.
        .library(name: "BackpropExplain", targets: ["BackpropExplain"]),
        // Swift's differentiable programming (`import _Differentiation`) on Backprop tensors and layers.
        .library(name: "BackpropDifferentiable", targets: ["BackpropDifferentiable"]),
        .executable(name: "backprop", targets: ["backprop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        // `swift package generate-documentation --target Backprop` (the DocC catalog).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // zlib, for gzip-compressed IDX files. Its headers and library are part of the base image.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // C kernels for AVX2 and AVX-512, chosen at run time (per-function target attributes, no
        // flags), and the prefetch and streaming-store helpers of the row kernels.
        .target(name: "CBackpropKernels"),
        // The module boundaries are enforced by the compiler; each target sees only what it
        // imports (A ← B: B depends on A):
        //
        //   CBackpropKernels ← BackpropKernels ← Backprop ← BackpropExplain ← backprop (CLI)
        //   Backprop, BackpropKernels ← BackpropBenchmarks ← backprop (CLI), gemm-bench
        //
        // BackpropKernels: the Swift kernels on raw buffers (GEMM, elementwise, softmax,
        // reductions, convolution, pooling, normalization, optimizer updates), threading, the
        // instruction-set choice and the system BLAS. It knows nothing of tensors or graphs. Its
        // API for the library is `package` access, so it is not API of the `Backprop` product; the
        // few kernel types users need (TensorScalar, Size2D, KernelISA, Gemm, BLASPreference,
        // AllocatorTuning) are public, and the core re-exports them by name (scoped
        // `@_exported import`s in Support/KernelAPI.swift, not the whole module), and the
        // core's public `threadCount` sets the kernels' thread count. The kernels are generic over
        // TensorScalar, so the protocol lives here, below the core.
        .target(
            name: "BackpropKernels",
            dependencies: [
                "CBackpropKernels",
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The core library: tensors, the graph and transforms, the derivative rules, layers,
        // training, data files, checking, distributed training.
        .target(
            name: "Backprop",
            dependencies: [
                "CZlib",
                "BackpropKernels",
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            resources: [.copy("Resources/digits.csv"), .copy("Resources/NOTICE.md")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Explanations of a backward pass, on the core's public API (its activations, rules,
        // transforms and finite differences).
        .target(
            name: "BackpropExplain",
            dependencies: ["Backprop"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The `backprop bench` workloads and the GEMM benchmark: in no library product, so users
        // who link `Backprop` never compile them.
        .target(
            name: "BackpropBenchmarks",
            dependencies: ["Backprop", "BackpropKernels", "CBackpropKernels"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "backprop",
            dependencies: [
                "Backprop",
                "BackpropExplain",
                "BackpropBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Hand-run GEMM benchmark (not a test): swift run -c release gemm-bench --help
        .executableTarget(
            name: "gemm-bench",
            dependencies: ["Backprop", "BackpropBenchmarks"],
            path: "bench/GemmBench",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The README's "Your own model" program (CI builds and runs it).
        .executableTarget(name: "your-own-model", dependencies: ["Backprop"], path: "Examples/YourOwnModel"),
        // What a shape mistake prints, in a release build too (CI checks the message).
        .executableTarget(name: "shape-error", dependencies: ["Backprop"], path: "Examples/ShapeError"),
        // Tensor and the layers as Differentiable values, every op's derivative routed to the
        // library's rules. BackpropDifferentiable re-exports it and adds the DifferentiableLayer
        // conformances, which must be declared in another module than the derivatives.
        .target(
            name: "BackpropDerivatives",
            dependencies: ["Backprop"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .target(
            name: "BackpropDifferentiable",
            dependencies: ["Backprop", "BackpropDerivatives"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Hand-run timing of a training step through Swift AD against the library's own step,
        // and the release-build check of .ci/run: swift run -c release differentiable-step --help
        .executableTarget(
            name: "differentiable-step",
            dependencies: ["Backprop", "BackpropDifferentiable"],
            path: "bench/DifferentiableStep",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "BackpropDifferentiableTests",
            dependencies: ["Backprop", "BackpropDifferentiable"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The same operations in forward mode, which the calling module must opt into with this
        // frontend flag (a test target, not a library target: no unsafe flags reach dependents).
        .testTarget(
            name: "BackpropDifferentiableForwardTests",
            dependencies: ["Backprop", "BackpropDifferentiable"],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .define("FORWARD_MODE"),
                .unsafeFlags(["-Xfrontend", "-enable-experimental-forward-mode-differentiation"]),
            ]
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
            dependencies: ["Backprop", "BackpropKernels", "BackpropExplain", "BackpropBenchmarks"],
            resources: [.copy("Fixtures")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
