import Foundation
import Testing

/// Real clients pinned to each protocol baseline they can be configured for, driven as a service
/// would (admin, producer, consumer group with commits, group listing, offsets, configs): the
/// broker must answer every version these clients send (docs/protocol.md).
@Suite(.serialized) struct ProtocolVersionTests {
    /// kafka-python 3.0.12's `api_version` values from 0.10 up; "auto" negotiates the newest.
    static let kafkaPythonVersions = [
        "0.10.0", "0.10.1", "0.10.2", "0.11", "1.0", "1.1", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6",
        "3.0", "3.5", "4.0", "auto",
    ]

    @Test(arguments: Self.kafkaPythonVersions)
    func kafkaPython(apiVersion: String) async throws {
        try await withTernd { ternd in
            let result = try await runPython("versions.py", ["kafka-python", ternd.bootstrap, apiVersion])
            #expect(result.output.contains("\"ok\": true"), "\(result.output)\n\(result.stderr)")
        }
    }

    /// aiokafka 0.14 always negotiates (its `api_version` is a no-op since 0.13).
    @Test func aiokafka() async throws {
        try await withTernd { ternd in
            let result = try await runPython("versions.py", ["aiokafka", ternd.bootstrap, "auto"])
            #expect(result.output.contains("\"ok\": true"), "\(result.output)\n\(result.stderr)")
        }
    }

    /// librdkafka 2.16 negotiates the newest versions it knows: Fetch with topic ids, flexible
    /// Metadata, Produce and group APIs. The versions it sent are checked against that.
    @Test func confluentKafkaNewestVersions() async throws {
        try await withTernd { ternd in
            let result = try await runPython("versions.py", ["confluent", ternd.bootstrap, "auto"])
            #expect(result.output.contains("\"ok\": true"), "\(result.output)\n\(result.stderr)")
            for sent in ["FetchRequest v16", "MetadataRequest v12", "ProduceRequest v10", "OffsetCommitRequest v9"] {
                #expect(result.output.contains(sent), "librdkafka did not send \(sent): \(result.output)")
            }
        }
    }
}
