import Foundation
import Testing

/// Leader epochs as a real client uses them (KIP-320): librdkafka validates a position that
/// carries a leader epoch with OffsetForLeaderEpoch before it fetches from it.
@Suite struct LeaderEpochClientTests {
    @Test func librdkafkaValidatesSeeksWithOffsetForLeaderEpoch() async throws {
        try await withTernd { ternd in
            // epochs.py checks the records' epoch, a seek inside epoch 0, and a seek past its end
            // that librdkafka moves back to the end offset OffsetForLeaderEpoch answered.
            let result = try await runPython("epochs.py", ["confluent", ternd.bootstrap, "epochs"])
            #expect(result.output.contains("\"truncated_to\": 10"), "\(result.output)")
            let metrics = try await scrape(ternd)
            #expect((metrics["tern_requests_total{api=\"OffsetForLeaderEpoch\"}"] ?? 0) >= 2)
        }
    }
}
