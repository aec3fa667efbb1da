// swift-tools-version: 6.0
// Produce/Fetch codec timings against the TernWire of a Tern checkout (TERN_ROOT, default ../..),
// so tools/bench-codec.sh can build it once for the current tree and once for a baseline commit and
// compare them in one run. Only APIs both the hand-written and the generated codecs have are used.
import PackageDescription
import class Foundation.ProcessInfo

let ternRoot = ProcessInfo.processInfo.environment["TERN_ROOT"] ?? "../.."

let package = Package(
    name: "codec-bench",
    dependencies: [
        .package(name: "Tern", path: ternRoot),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "codec-bench",
            dependencies: [.product(name: "TernWire", package: "Tern"), .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
