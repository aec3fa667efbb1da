import Foundation
import Testing

/// CreatePartitions, DeleteRecords and DescribeCluster from real clients' admin APIs
/// (python/admin.py): growing a topic and using the new partition, deleting records, describing
/// the cluster, and the refusals with Kafka's error codes.
@Suite struct AdminApiClientTests {
    @Test(arguments: ["kafka-python", "confluent"])
    func adminApis(client: String) async throws {
        try await withTernd { ternd in
            let result = try await runPython("admin.py", [client, ternd.bootstrap])
            #expect(result.output.contains("\"ok\": true"), "\(result.output)\n\(result.stderr)")
            for refusal in ["shrink", "unknown_topic", "past_high_watermark", "delete_unknown_topic"] {
                #expect(result.output.contains("\"\(refusal)\""), "\(refusal) not checked: \(result.output)")
            }
        }
    }
}
