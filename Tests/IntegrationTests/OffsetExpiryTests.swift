import Foundation
import TernClient
import Testing

/// `offsets.retention.minutes` against a real `ternd`: offsets committed outside a group expire a
/// retention after their commit, the group goes with them, and the tombstones keep them gone
/// after a restart. One minute is the smallest retention Kafka's setting can say.
@Suite struct OffsetExpiryTests {
    @Test func committedOffsetsExpireAndStayGoneAfterARestart() async throws {
        let environment = [
            "TERN_OFFSETS_RETENTION_MINUTES": "1", "TERN_OFFSETS_RETENTION_CHECK_INTERVAL_MS": "500",
        ]
        let dataDirectory = try Paths.temporaryDirectory()
        var ternd = try await TerndProcess.start(dataDirectory: dataDirectory, environment: environment)
        let partition = TopicPartition(topic: "expiring", partition: 0)
        var admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
        try await admin.createTopic("expiring", partitions: 1)
        let committed = ContinuousClock.now
        try await admin.commitOffsets(group: "standalone", [partition: 5])
        #expect(try await admin.fetchOffsets(group: "standalone")[partition] == 5)
        #expect(try await admin.listGroups().contains { $0.groupId == "standalone" })
        // Still there well inside the minute.
        try await Task.sleep(for: .seconds(20))
        #expect(try await admin.fetchOffsets(group: "standalone")[partition] == 5)
        let deadline = committed + .seconds(120)
        while try await admin.fetchOffsets(group: "standalone")[partition] != nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
        }
        let elapsed = ContinuousClock.now - committed
        #expect(try await admin.fetchOffsets(group: "standalone")[partition] == nil, "not expired after \(elapsed)")
        #expect(elapsed >= .seconds(59), "expired after \(elapsed), before the retention")
        #expect(try await !admin.listGroups().contains { $0.groupId == "standalone" })
        #expect(ternd.log.contains("expired committed offsets"), "log:\n\(ternd.log)")
        await admin.close()

        try await ternd.stop()
        ternd = try await TerndProcess.start(dataDirectory: dataDirectory, port: ternd.port, environment: environment)
        admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
        #expect(try await admin.fetchOffsets(group: "standalone")[partition] == nil, "the replay brought it back")
        #expect(try await !admin.listGroups().contains { $0.groupId == "standalone" })
        await admin.close()
        try await ternd.stop()
    }
}
