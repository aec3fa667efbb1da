import Foundation
import Testing

/// The Go programs under Tests/IntegrationTests/go, each built once per test run with Debian's Go
/// toolchain and client libraries (GOPATH mode: `tools/setup.sh --test` installs golang-go,
/// golang-github-shopify-sarama-dev and golang-github-segmentio-kafka-go-dev).
enum GoPrograms {
    static let gopath = "/usr/share/gocode"
    static let sources = Paths.packageRoot.appendingPathComponent("Tests/IntegrationTests/go")

    /// Libraries each program imports, as Debian lays them out under GOPATH.
    static let libraries = [
        "sarama_client": "github.com/Shopify/sarama",
        "kafkago_client": "github.com/segmentio/kafka-go",
        "sarama_configs": "github.com/Shopify/sarama",
    ]

    /// `go` on PATH, else where Debian's golang-go puts it.
    static var go: String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map {
            "\($0)/go"
        }
        return (path + ["/usr/bin/go", "/usr/lib/go/bin/go"]).first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static let builds = BuildCache()

    /// The path of the built program; the first call builds it, later ones wait for that build.
    static func binary(_ name: String) async throws -> String {
        try await self.builds.binary(name) { try await self.build(name) }
    }

    private static func build(_ name: String) async throws -> String {
        guard let go = self.go else {
            throw TestFailure(
                "the Go client tests need the go toolchain, which is not installed: run tools/setup.sh --test "
                    + "(installs Debian's golang-go, golang-github-shopify-sarama-dev and "
                    + "golang-github-segmentio-kafka-go-dev)"
            )
        }
        if let library = self.libraries[name],
            !FileManager.default.fileExists(atPath: "\(self.gopath)/src/\(library)")
        {
            throw TestFailure(
                "\(name) needs \(library) under \(self.gopath)/src, which is missing: run tools/setup.sh --test"
            )
        }
        let output = try Paths.temporaryDirectory().appendingPathComponent(name).path
        var environment = ["GO111MODULE": "off", "GOPATH": self.gopath, "GOFLAGS": "", "CGO_ENABLED": "1"]
        let inherited = ProcessInfo.processInfo.environment
        if inherited["GOCACHE"] == nil && inherited["HOME"] == nil && inherited["XDG_CACHE_HOME"] == nil {
            environment["GOCACHE"] = FileManager.default.temporaryDirectory.appendingPathComponent("tern-go-cache").path
        }
        let result = try await runCommand(
            go,
            ["build", "-o", output, self.sources.appendingPathComponent("\(name)/main.go").path],
            environment: environment,
            timeout: .seconds(300)
        )
        guard result.status == 0, FileManager.default.isExecutableFile(atPath: output) else {
            throw TestFailure("go build of \(name) failed (status \(result.status)):\n\(result.stderr)\(result.output)")
        }
        return output
    }
}

/// One build per program per test run, shared by concurrent callers.
private actor BuildCache {
    private var tasks: [String: Task<String, any Error>] = [:]

    func binary(_ name: String, build: @escaping @Sendable () async throws -> String) async throws -> String {
        if let task = self.tasks[name] { return try await task.value }
        let task = Task { try await build() }
        self.tasks[name] = task
        return try await task.value
    }
}

/// The JSON line a Go client program prints (the fields the tests read).
private struct GoClientSummary: Decodable, Sendable {
    var ok: Bool
    var step: String?
    var error: String?
    var partitions: Int?
    var produced: Int?
    var consumed: Int?
    var committed: Int?
    var skipped: [String]?
}

/// Runs a Go client program against the broker and checks the one JSON line it prints: `program
/// [flags] BOOTSTRAP arguments` (Go's flag package stops at the first positional argument).
private func runGoClient(
    _ program: String,
    flags: [String] = [],
    _ arguments: [String],
    against ternd: TerndProcess,
    bootstrap: String? = nil
) async throws -> GoClientSummary {
    let binary = try await GoPrograms.binary(program)
    // The programs fail themselves after 50 s; this limit only catches a hung process.
    let result = try await runCommand(
        binary,
        flags + [bootstrap ?? ternd.bootstrap] + arguments,
        timeout: .seconds(75)
    )
    let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
    let context =
        "\(program) \((flags + arguments).joined(separator: " ")) exited \(result.status):\n\(result.output)\n"
        + "stderr:\n\(result.stderr.suffix(4000))\nternd log:\n\(ternd.log.suffix(4000))"
    guard let summary = try? JSONDecoder().decode(GoClientSummary.self, from: Data(line.utf8)) else {
        throw TestFailure("no JSON summary from \(context)")
    }
    #expect(result.status == 0, "\(context)")
    #expect(summary.ok, "failed at step \(summary.step ?? "?"): \(summary.error ?? "?")\n\(context)")
    return summary
}

/// sarama 1.22 (Debian's), as a service would use it, at several configured Kafka versions: sarama
/// picks each request's version from `Config.Version` without asking the broker (it sends no
/// ApiVersions), so each version is a different mix of request versions (0.10.0.0: Produce v2
/// with message format v1, Fetch v2, group APIs v0; 0.11 and later: Produce v3, Fetch v4,
/// CreateTopics v1–v2, DeleteTopics v1, DescribeConfigs v0; "max" is sarama.MaxVersion, 2.2.0).
@Suite(.serialized) struct SaramaClientTests {
    @Test(arguments: ["0.10.0.0", "0.11.0.0", "1.0.0.0", "2.0.0.0", "2.1.0.0", "max"])
    func serviceLifeCycle(version: String) async throws {
        // Below 0.10.1 sarama cannot send CreateTopics: the topic is auto-created, with 3
        // partitions as the other versions create it.
        try await withTernd(environment: ["TERN_NUM_PARTITIONS": "3"]) { ternd in
            let summary = try await runGoClient("sarama_client", [version], against: ternd)
            if summary.ok {
                #expect(summary.produced == 20)
                #expect(summary.consumed == 20)
                #expect(summary.committed == 20)
                #expect(summary.partitions == 3)
            }
        }
    }

    /// The 0.10.0.0 consumer side on its own: records written by a sarama.MaxVersion producer
    /// (Produce v3, record batches), read with Fetch v2 by a group joined with JoinGroup v0 /
    /// SyncGroup v0 / Heartbeat v0, committed with OffsetCommit v2, listed with ListGroups v0 and
    /// DescribeGroups v0, fetched with OffsetFetch v1.
    @Test func legacyConsumerOfModernProducer() async throws {
        try await withTernd(environment: ["TERN_NUM_PARTITIONS": "3"]) { ternd in
            let summary = try await runGoClient(
                "sarama_client",
                flags: ["-producer-version", "max"],
                ["0.10.0.0"],
                against: ternd
            )
            if summary.ok {
                #expect(summary.consumed == 20)
                #expect(summary.committed == 20)
            }
        }
    }
}

/// sarama's whole life cycle (topic, produce, group consume, commits, configs, delete) over
/// SASL_SSL with SASL/PLAIN (SaslHandshake v1 + SaslAuthenticate from Kafka 1.0 on) and over SSL
/// with a client certificate, next to a PLAINTEXT listener.
@Suite(.serialized) struct SaramaSecurityTests {
    @Test(arguments: ["sasl_ssl", "mtls"])
    func serviceLifeCycleOverSecureListeners(listener: String) async throws {
        let certificates = try await TLSTests.Certificates.make()
        let (plaintext, saslSSL, ssl) = (try await freePort(), try await freePort(), try await freePort())
        let ternd = try await TerndProcess.start(
            port: plaintext,
            environment: [
                "TERN_LISTENERS":
                    "PLAINTEXT://127.0.0.1:\(plaintext),SASL_SSL://127.0.0.1:\(saslSSL),SSL://127.0.0.1:\(ssl)",
                "TERN_SSL_KEYSTORE_LOCATION": certificates.keystore,
                "TERN_SSL_TRUSTSTORE_LOCATION": certificates.ca,
                "TERN_SSL_CLIENT_AUTH": "requested",
                "TERN_SASL_BOOTSTRAP_USERS": "alice:wonderland",
                "TERN_NUM_PARTITIONS": "3",
            ],
            passesPort: false
        )
        let (certificate, key) = certificates.client("client")
        let flags =
            listener == "sasl_ssl"
            ? ["-tls-ca", certificates.ca, "-sasl-user", "alice", "-sasl-password", "wonderland"]
            : ["-tls-ca", certificates.ca, "-tls-cert", certificate, "-tls-key", key]
        let summary = try await runGoClient(
            "sarama_client",
            flags: flags,
            ["2.1.0.0"],
            against: ternd,
            bootstrap: "127.0.0.1:\(listener == "sasl_ssl" ? saslSSL : ssl)"
        )
        if summary.ok {
            #expect(summary.produced == 20)
            #expect(summary.consumed == 20)
        }
        if listener == "sasl_ssl" {
            // A wrong password is refused.
            let binary = try await GoPrograms.binary("sarama_client")
            let refused = try await runCommand(
                binary,
                [
                    "-tls-ca", certificates.ca, "-sasl-user", "alice", "-sasl-password", "nope", "127.0.0.1:\(saslSSL)",
                    "2.1.0.0",
                ],
                timeout: .seconds(75)
            )
            #expect(refused.status != 0, "a wrong password was accepted: \(refused.output)")
        }
        try await ternd.stop()
    }
}

/// kafka-go 0.2.1 (Debian's): fixed request versions (Produce v2 with message format v1, Fetch
/// v2, Metadata v1, CreateTopics v0, DeleteTopics v1, JoinGroup v1, SyncGroup/Heartbeat/LeaveGroup
/// v0, OffsetCommit v2, OffsetFetch v1), so what varies is the Writer's compression codec.
@Suite(.serialized) struct KafkaGoClientTests {
    @Test(arguments: ["none", "gzip", "snappy", "lz4"])
    func serviceLifeCycle(codec: String) async throws {
        try await withTernd { ternd in
            let summary = try await runGoClient("kafkago_client", [codec], against: ternd)
            if summary.ok {
                #expect(summary.produced == 20)
                #expect(summary.consumed == 20)
                #expect(summary.partitions == 3)
            }
        }
    }
}
