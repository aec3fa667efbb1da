// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so the main package's build and tests never pull in
// ordo-one/benchmark. Run from this directory: `swift package benchmark` (see docs/benchmarks.md).
let package = Package(
    name: "TernBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Tern", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TernRecords", package: "Tern"),
                .product(name: "TernCompression", package: "Tern"),
                .product(name: "TernWire", package: "Tern"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "StorageBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TernStorage", package: "Tern"),
                .product(name: "TernRecords", package: "Tern"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/StorageBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // A plain load generator, not an ordo-one benchmark: consumer-group offset commits against
        // a running ternd (tools/bench-groups.sh).
        .executableTarget(
            name: "GroupCommitLoad",
            dependencies: [
                .product(name: "TernWire", package: "Tern"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Sources/GroupCommitLoad"
        ),
    ]
)
