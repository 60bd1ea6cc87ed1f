// swift-tools-version:6.0
import PackageDescription

// Percept: image classification from pixels to reports.
// Targets follow the data: decode (PerceptImage) → dataset (PerceptData) → preprocessing → models → evaluation → reports → CLI.

/// System libraries, found with pkg-config on Linux (see scripts/bootstrap for the Debian packages).
let systemLibraries: [Target] = [
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                   providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg",
                   providers: [.apt(["libturbojpeg0-dev"]), .brew(["jpeg-turbo"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng",
                   providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
    .systemLibrary(name: "CArchive", pkgConfig: "libarchive",
                   providers: [.apt(["libarchive-dev"]), .brew(["libarchive"])]),
    .systemLibrary(name: "CExif", pkgConfig: "libexif",
                   providers: [.apt(["libexif-dev"]), .brew(["libexif"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                   providers: [.apt(["zlib1g-dev"])]),
    // Open MPI for distributed runs; shim.h hands over the handles MPI defines as macros.
    .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                   providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]),
]

/// Small C helpers around system libraries whose error handling Swift cannot call directly
/// (libpng reports errors by longjmp).
let cHelpers: [Target] = [
    .target(name: "CPNGCodec", dependencies: ["CPNG"]),
    // Hot loops Swift cannot express (AVX2 sum of absolute differences), with scalar fallbacks.
    .target(name: "CKernels"),
    // The CNN engine's direct convolution for narrow layers (AVX2 + FMA, runtime-checked).
    .target(name: "CNetworkKernels"),
]

/// The library, one module per stage of the data's journey.
let libraries: [Target] = [
    .target(name: "PerceptCore",
            dependencies: [.target(name: "CBLAS", condition: .when(platforms: [.linux])), "CZlib"]),
    .target(name: "PerceptImage",
            dependencies: ["PerceptCore", "CTurboJPEG", "CPNGCodec", "CExif"]),
    .target(name: "PerceptData",
            dependencies: ["PerceptCore", "PerceptImage", "CArchive", "CZlib",
                           .product(name: "CSV", package: "CSV.swift"),
                           .product(name: "Crypto", package: "swift-crypto")]),
    // The lecture's preprocessing stage: features (pixels, HOG, hue), standardisation, the CNN's
    // input normalisation and augmentation — everything between a decoded image and a model's input.
    .target(name: "PerceptPreprocessing", dependencies: ["PerceptCore", "PerceptImage", "PerceptData"]),
    // The contract every model family shares (Classifier, the model file, TrainingHistory), below
    // the families so the classic models and the CNN engine are siblings.
    .target(name: "PerceptModelKit", dependencies: ["PerceptCore", "PerceptData", "CZlib"]),
    // More than one process: the collectives (Open MPI under mpirun/srun, threads as the reference) that
    // sharded k-NN search (PerceptModels) and data-parallel training (PerceptModels, PerceptNetwork) run on.
    .target(name: "PerceptDistributed", dependencies: ["PerceptCore", "CMPI"]),
    .target(name: "PerceptModels",
            dependencies: ["PerceptCore", "PerceptData", "PerceptPreprocessing", "PerceptModelKit", "PerceptDistributed", "CKernels"]),
    // The CNN engine (layers, optimisers, trainer): large enough to build and test on its own.
    .target(name: "PerceptNetwork",
            dependencies: ["PerceptCore", "PerceptData", "PerceptPreprocessing", "PerceptModelKit", "PerceptDistributed",
                           "CNetworkKernels"]),
    .target(name: "PerceptEvaluation", dependencies: ["PerceptCore", "PerceptData", "PerceptModelKit", "PerceptModels"]),
    // ONNX files read through swift-protobuf's generated types (Generated/, made by scripts/generate-onnx-types)
    // and run on the CNN engine's kernels (Runtime/).
    .target(name: "PerceptONNX",
            dependencies: ["PerceptCore", "PerceptNetwork", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    .target(name: "PerceptReports",
            dependencies: ["PerceptCore", "PerceptImage", "PerceptData", "PerceptModelKit", "PerceptModels",
                           "PerceptEvaluation"]),
]

/// `import Percept`: every stage plus the workflow the CLI runs (load any model, train from a
/// recipe, predict files), so a Swift program does what a command does.
let umbrella: [Target] = [
    .target(name: "Percept",
            dependencies: ["PerceptCore", "PerceptImage", "PerceptData", "PerceptPreprocessing", "PerceptModelKit",
                           "PerceptModels", "PerceptNetwork", "PerceptEvaluation", "PerceptReports", "PerceptONNX",
                           "PerceptDistributed",
                           // SHA-256 of backbones and datasets (the transfer family's checksums and feature cache).
                           .product(name: "Crypto", package: "swift-crypto")]),
]

/// `percept serve`: the AutoML flow as a local web app — Hummingbird 2 for HTTP (Server/), GRDB's SQLite
/// for its records (Store/), the training queue (Jobs/); the same `Percept` calls the CLI makes.
let server: [Target] = [
    .target(name: "PerceptServer",
            dependencies: ["Percept", "PerceptCore", "PerceptData",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           // Streaming multipart/form-data parsing for uploads (datasets, photos to predict).
                           .product(name: "MultipartKit", package: "multipart-kit"),
                           .product(name: "GRDB", package: "GRDB.swift"),
                           // Label statistics as CSV for download.
                           .product(name: "CSV", package: "CSV.swift")]),
]

let executables: [Target] = [
    .executableTarget(name: "percept",
                      dependencies: ["Percept", "PerceptServer", "PerceptCore", "PerceptImage", "PerceptData", "PerceptPreprocessing",
                                     "PerceptModelKit", "PerceptModels", "PerceptNetwork", "PerceptEvaluation",
                                     "PerceptReports", "PerceptONNX", "PerceptDistributed",
                                     .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                     .product(name: "CSV", package: "CSV.swift")]),
    // The README's Swift example; a CLI test builds and runs it so the README cannot rot.
    .executableTarget(name: "percept-quickstart", dependencies: ["Percept"], path: "Examples/QuickStart"),
    .executableTarget(name: "percept-bench", dependencies: ["PerceptCore", "PerceptImage", "PerceptData",
                                                            "PerceptPreprocessing", "PerceptModelKit", "PerceptModels",
                                                            "PerceptNetwork", "CKernels", "PerceptReports", "PerceptONNX",
                                                            "PerceptDistributed"],
                      path: "Benchmarks/PerceptBench"),
]

let tests: [Target] = [
    .target(name: "TestSupport", dependencies: ["PerceptCore"], path: "Tests/TestSupport"),
    .testTarget(name: "PerceptCoreTests", dependencies: ["PerceptCore", "TestSupport"]),
    .testTarget(name: "PerceptImageTests", dependencies: ["PerceptImage", "TestSupport"]),
    .testTarget(name: "PerceptDataTests", dependencies: ["PerceptData", "PerceptImage", "TestSupport"]),
    .testTarget(name: "PerceptPreprocessingTests",
                dependencies: ["PerceptPreprocessing", "PerceptData", "PerceptModelKit", "TestSupport"]),
    // Runs the built `percept` executable end to end (exit codes, files, JSON).
    // `Percept` to check printed numbers against the library's own answers (predict --scores).
    // TestSupport's MPILauncher runs the `--distributed` commands under `mpirun -np 2`.
    .testTarget(name: "PerceptCLITests", dependencies: ["PerceptCore", "PerceptData", "PerceptImage", "Percept", "TestSupport"]),
    // The umbrella's workflow: the model-family registry, settings, training histories.
    // SwiftProtobuf and PerceptONNX's generated types build the tiny ONNX backbones the transfer tests register;
    // TestSupport's onnxruntime oracle checks the exports.
    .testTarget(name: "PerceptTests",
                dependencies: ["Percept", "PerceptONNX", "TestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    .testTarget(name: "PerceptNetworkTests",
                dependencies: ["PerceptNetwork", "PerceptPreprocessing", "PerceptModelKit", "PerceptData", "PerceptDistributed",
                               "TestSupport"]),
    // Builds small ONNX models with the generated types to check every load-time error.
    .testTarget(name: "PerceptONNXTests",
                dependencies: ["PerceptONNX", "PerceptCore", "TestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    // In-process HTTP tests (HummingbirdTesting) and the store's migrations and records.
    .testTarget(name: "PerceptServerTests",
                dependencies: ["PerceptServer", "Percept", "TestSupport",
                               .product(name: "HummingbirdTesting", package: "hummingbird"),
                               .product(name: "GRDB", package: "GRDB.swift")]),
    // The collectives on threads and, where `mpirun` exists, under `mpirun -np 2`.
    .testTarget(name: "PerceptDistributedTests", dependencies: ["PerceptDistributed", "TestSupport"]),
    .testTarget(name: "PerceptModelsTests",
                dependencies: ["PerceptModelKit", "PerceptModels", "PerceptEvaluation", "PerceptReports", "PerceptData", "CKernels",
                                "PerceptDistributed", "TestSupport"]),
]

let package = Package(
    name: "Percept",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "percept", targets: ["percept"]),
        .library(name: "Percept", targets: ["Percept"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
    ],
    targets: systemLibraries + cHelpers + libraries + umbrella + server + executables + tests
)
