import NIOCore
import TernStorage
import Testing

/// Topic configs and broker defaults changed while partitions are open: the change applies to the
/// next append, roll and retention pass, persists with the topic, and a refused change leaves
/// everything as it was.
@Suite struct ConfigChangeTests {
    @Test func loweredMaxMessageBytesRefusesTheNextLargerBatch() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition()
        _ = try await log.append(makeBatch(valueByteCount: 3000), durability: .none)
        try manager.alterTopicConfig("t") { _, _ in ["max.message.bytes": "2000"] }
        #expect(log.config.maxMessageBytes == 2000)
        await #expect(throws: StorageError(.messageTooLarge)) {
            try await log.append(makeBatch(valueByteCount: 3000), durability: .none)
        }
        _ = try await log.append(makeBatch(valueByteCount: 100), durability: .none)
        #expect(manager.topic("t")?.configOverrides == ["max.message.bytes": "2000"])
        try await manager.close()
    }

    @Test func loweredRetentionDeletesAtTheNextPassAndSurvivesReopening() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: ["segment.bytes": "1000"])
        let start = storage.clock.nowMs
        for index in 0..<4 {
            _ = try await log.append(
                makeBatch(valueByteCount: 600, timestampMs: start + Int64(index)),
                durability: .none
            )
        }
        #expect(log.segmentBaseOffsets == [0, 1, 2, 3])
        storage.clock.set(nowMs: start + 60_000)
        await manager.applyRetention()
        #expect(log.logStartOffset == 0, "the default retention (7 days) keeps everything")

        try manager.alterTopicConfig("t") { current, _ in
            current.configOverrides.merging(["retention.ms": "1000"]) { $1 }
        }
        await manager.applyRetention()
        #expect(log.segmentBaseOffsets == [3])
        try await manager.close()

        let reopened = try await storage.open()
        #expect(reopened.topic("t")?.configOverrides == ["segment.bytes": "1000", "retention.ms": "1000"])
        #expect(reopened.partition(topic: "t", index: 0)?.config.retentionMs == 1000)
        try await reopened.close()
    }

    @Test func refusedAndValidateOnlyChangesChangeNothing() async throws {
        let storage = TestStorage()
        let (manager, log) = try await storage.openWithPartition(overrides: ["retention.ms": "5000"])
        #expect(throws: StorageError(.invalidConfig)) {
            try manager.alterTopicConfig("t") { _, _ in ["retention.ms": "soon"] }
        }
        #expect(throws: StorageError(.invalidConfig)) {
            try manager.alterTopicConfig("t") { _, _ in ["no.such.key": "1"] }
        }
        #expect(throws: StorageError(.invalidConfig)) {
            try manager.alterTopicConfig("t") { _, _ in ["retention.ms": "1\nsegment.bytes=14"] }
        }
        #expect(throws: StorageError(.unknownTopicOrPartition)) {
            try manager.alterTopicConfig("missing") { _, _ in [:] }
        }
        let checked = try manager.alterTopicConfig("t", validateOnly: true) { _, _ in ["retention.ms": "1"] }
        #expect(checked.config.retentionMs == 1)
        #expect(log.config.retentionMs == 5000)
        #expect(manager.topic("t")?.configOverrides == ["retention.ms": "5000"])
        try await manager.close()
        let reopened = try await storage.open()
        #expect(reopened.topic("t")?.configOverrides == ["retention.ms": "5000"])
        try await reopened.close()
    }

    /// New broker defaults reach every key a topic does not override, and leave its overrides.
    @Test func newDefaultsApplyToTopicsWithoutAnOverride() async throws {
        let storage = TestStorage()
        let (manager, overriding) = try await storage.openWithPartition(overrides: ["retention.ms": "5000"])
        try manager.createTopic("plain", partitionCount: 2)
        var defaults = LogConfig()
        defaults.retentionMs = 60_000
        defaults.maxMessageBytes = 4096
        try manager.setDefaultConfig(defaults)
        #expect(overriding.config.retentionMs == 5000)
        #expect(overriding.config.maxMessageBytes == 4096)
        for index in 0..<2 {
            #expect(manager.partition(topic: "plain", index: Int32(index))?.config.retentionMs == 60_000)
        }
        #expect(manager.topic("plain")?.config.maxMessageBytes == 4096)
        try manager.createTopic("later", partitionCount: 1)
        #expect(manager.topic("later")?.config.retentionMs == 60_000)
        try await manager.close()
    }
}
