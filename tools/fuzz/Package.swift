// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for Tern's decoders (docs/reliability.md, "Fuzzing"). A package of its own so the
// main package's build and tests never see the sanitizer flags; tools/fuzz.sh builds it with
// `-sanitize=fuzzer,address` and picks the target with TERN_FUZZ_TARGET.
let package = Package(
    name: "TernFuzz",
    dependencies: [
        .package(name: "Tern", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CTernFuzzDriver"),
        .executableTarget(
            name: "TernFuzz",
            dependencies: [
                "CTernFuzzDriver",
                .product(name: "TernWire", package: "Tern"),
                .product(name: "TernRecords", package: "Tern"),
                .product(name: "TernCompression", package: "Tern"),
                .product(name: "TernStorage", package: "Tern"),
                .product(name: "TernCoordinator", package: "Tern"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
    ]
)
