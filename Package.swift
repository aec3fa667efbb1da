// swift-tools-version: 6.1
import PackageDescription

// Every Swift target builds in Swift 6 language mode (the default for tools 6.x) with strict
// concurrency, and with the upcoming features that keep module surfaces honest.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioConcurrencyHelpers = Target.Dependency.product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let histogram = Target.Dependency.product(name: "Histogram", package: "hdrhistogram-swift")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let x509 = Target.Dependency.product(name: "X509", package: "swift-certificates")
let asn1 = Target.Dependency.product(name: "SwiftASN1", package: "swift-asn1")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let cryptoExtras = Target.Dependency.product(name: "CryptoExtras", package: "swift-crypto")
let tracing = Target.Dependency.product(name: "Tracing", package: "swift-distributed-tracing")
let inMemoryTracing = Target.Dependency.product(name: "InMemoryTracing", package: "swift-distributed-tracing")

let package = Package(
    name: "Tern",
    products: [
        .library(name: "Tern", targets: ["TernClient"]),
        .library(name: "TernWire", targets: ["TernWire"]),
        .library(name: "TernRecords", targets: ["TernRecords"]),
        .library(name: "TernCompression", targets: ["TernCompression"]),
        .library(name: "TernStorage", targets: ["TernStorage"]),
        .library(name: "TernCoordinator", targets: ["TernCoordinator"]),
        // An in-process broker for Swift tests of code that talks to Kafka (docs/testing.md).
        .library(name: "TernTestKit", targets: ["TernTestKit"]),
        .executable(name: "ternd", targets: ["ternd"]),
        .executable(name: "tern", targets: ["tern"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // TernClient's spans and record-header context propagation (docs/tracing.md); a tracer
        // backend (swift-otel) is the application's choice, never a dependency here.
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // TLS listeners (docs/security.md).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Client certificates' subject names, for the mTLS principal.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        // SCRAM's HMAC, SHA-2 and PBKDF2 (SASL, docs/security.md).
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // System libraries for the Kafka compression codecs (Debian: libzstd-dev, liblz4-dev,
        // libsnappy-dev, zlib1g-dev).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // CRC-32C with the CPU's crc32 instruction where it has one (x86-64 SSE4.2, ARMv8 CRC).
        .target(name: "CTernCRC32C"),

        .target(
            name: "TernCompression",
            dependencies: ["CZstd", "CLZ4", "CSnappy", "CZlib", nioCore, nioConcurrencyHelpers],
            swiftSettings: strictSettings
        ),
        .target(name: "TernWire", dependencies: [nioCore], swiftSettings: strictSettings),
        .target(
            name: "TernRecords",
            dependencies: ["TernWire", "TernCompression", "CTernCRC32C", nioCore],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TernStorage",
            dependencies: ["TernRecords", "TernWire", nioCore, logging, metrics],
            swiftSettings: strictSettings
        ),
        // The consumer-group coordinator as a pure state machine: requests and the time in, responses,
        // records to append and timers out. No channels, storage or clocks.
        .target(name: "TernCoordinator", dependencies: ["TernWire", nioCore], swiftSettings: strictSettings),
        // The transaction coordinator as a pure state machine: InitProducerId, AddPartitionsToTxn,
        // AddOffsetsToTxn, EndTxn, timeouts and the `__transaction_state` records. No I/O.
        .target(name: "TernTransactions", dependencies: ["TernWire", nioCore], swiftSettings: strictSettings),
        // SCRAM (RFC 5802/7677) for both sides, pure: the broker's exchange and stored
        // credentials, the client's exchange.
        .target(name: "TernScram", dependencies: [crypto, cryptoExtras], swiftSettings: strictSettings),
        .target(
            name: "TernBroker",
            dependencies: [
                "TernWire", "TernRecords", "TernCompression", "TernStorage", "TernCoordinator", "TernScram",
                "TernTransactions", nioCore, logging, metrics,
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TernServer",
            dependencies: ["TernBroker", "TernWire", nioCore, nioPosix, nioSSL, x509, asn1, logging],
            swiftSettings: strictSettings
        ),
        // The HTTP admin listener (/metrics, /health/*), the Prometheus exposition of the broker's
        // state, and the structured log handler.
        .target(
            name: "TernOperations",
            dependencies: [
                "TernServer", "TernBroker", "TernStorage", "TernWire", nioCore, nioPosix, nioHTTP1, nioSSL, logging,
                metrics, prometheus, serviceLifecycle,
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TernClient",
            dependencies: [
                "TernWire", "TernRecords", "TernCompression", "TernScram", nioCore, nioPosix, nioConcurrencyHelpers,
                nioSSL, logging, metrics, serviceLifecycle, tracing,
            ],
            swiftSettings: strictSettings
        ),
        // A real broker inside the test process, on an ephemeral port, with helpers.
        .target(
            name: "TernTestKit",
            dependencies: ["TernServer", "TernBroker", "TernStorage", "TernClient", nioCore, logging],
            swiftSettings: strictSettings
        ),
        // Measures TestBroker.start() to the first acknowledged produce (docs/testing.md).
        .executableTarget(
            name: "tern-testkit-startup",
            dependencies: ["TernTestKit", "TernClient"],
            path: "Sources/TernTestKitStartup",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "ternd",
            dependencies: [
                "TernServer", "TernBroker", "TernStorage", "TernOperations", "TernVersion", argumentParser, logging,
                nioCore, nioPosix, nioSSL, metrics, prometheus, serviceLifecycle,
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "tern-storage-crash-writer",
            dependencies: ["TernStorage", "TernRecords", nioCore],
            path: "Sources/TernStorageCrashWriter",
            swiftSettings: strictSettings
        ),
        // The Swift client's consume-transform-produce processor, SIGKILLed by an integration test.
        .executableTarget(
            name: "tern-transaction-processor",
            dependencies: ["TernClient"],
            path: "Sources/TernTransactionProcessor",
            swiftSettings: strictSettings
        ),
        // The CLI's pure parts (kcat option parsing, output formats, JSON envelopes, dump-log) in a
        // library so tests can import them; the `tern` executable adds the client and subcommands.
        .target(
            name: "TernCLICore",
            dependencies: ["TernRecords", "TernWire", nioCore],
            swiftSettings: strictSettings
        ),
        // The version and the git commit of the build, for `--version` (the plugin runs git before
        // every build; no network).
        .plugin(name: "GitCommitPlugin", capability: .buildTool()),
        .target(name: "TernVersion", swiftSettings: strictSettings, plugins: ["GitCommitPlugin"]),
        .executableTarget(
            name: "tern",
            dependencies: [
                "TernCLICore", "TernClient", "TernWire", "TernRecords", "TernCompression", nioCore,
                nioConcurrencyHelpers,
                argumentParser, histogram, logging, "TernVersion",
            ],
            swiftSettings: strictSettings
        ),

        .testTarget(
            name: "TernWireTests",
            dependencies: ["TernWire", nioCore, .product(name: "NIOTestUtils", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TernStorageTests",
            // The crash test runs tern-storage-crash-writer; depending on it gets it built.
            dependencies: [
                "TernStorage", "TernRecords", "TernCompression", "TernWire", nioCore, "tern-storage-crash-writer",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TernBrokerTests",
            dependencies: [
                "TernBroker", "TernScram", "TernWire", "TernStorage", "TernRecords", "TernTransactions",
                "TernCoordinator",
                nioCore,
                logging,
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TernServerTests",
            dependencies: ["TernServer", "TernBroker", "TernStorage", "TernWire", nioCore, nioPosix, logging],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TernCoordinatorTests",
            dependencies: ["TernCoordinator", "TernWire", nioCore],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TernTransactionsTests",
            dependencies: ["TernTransactions", "TernWire", nioCore],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TernOperationsTests",
            dependencies: [
                "TernOperations", "TernBroker", "TernStorage", nioCore, nioPosix, logging, metrics, prometheus,
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TernClientTests",
            dependencies: ["TernClient", "TernRecords", "TernWire", nioCore, tracing],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TernCLITests",
            dependencies: ["TernCLICore", "TernRecords", "TernWire", nioCore],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "TernWire", "TernRecords", "TernCompression", "TernClient", "TernTestKit", "TernStorage", nioCore,
                nioPosix, logging,
                serviceLifecycle, .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                metrics, .product(name: "MetricsTestKit", package: "swift-metrics"), tracing, inMemoryTracing,
                // Run by the tests as child processes; depending on them gets them built.
                "tern-transaction-processor",
            ],
            exclude: ["python", "go"],
            swiftSettings: strictSettings
        ),

        .testTarget(
            name: "TernCompressionTests",
            dependencies: ["TernCompression", nioCore],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "TernRecordsTests",
            dependencies: ["TernRecords", "TernWire", "TernCompression", nioCore],
            swiftSettings: strictSettings
        ),
    ]
)
