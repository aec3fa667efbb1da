// swift-tools-version: 6.0
// The codec generator: reads Kafka's message schemas and writes Sources/TernWire/Generated/.
// Its own package so the broker's build never compiles it; tools/generate-codecs.sh runs it.
import PackageDescription

let package = Package(
    name: "tern-codegen",
    targets: [
        .executableTarget(name: "tern-codegen", swiftSettings: [.swiftLanguageMode(.v6)])
    ]
)
