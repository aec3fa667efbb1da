import TernStorage
import TernWire
import Testing

@Suite struct LogConfigTests {
    @Test func defaultsAreKafkas() {
        let config = LogConfig()
        #expect(config.segmentBytes == 1_073_741_824)
        #expect(config.segmentMs == 604_800_000)
        #expect(config.indexIntervalBytes == 4096)
        #expect(config.segmentIndexBytes == 10_485_760)
        #expect(config.retentionMs == 604_800_000)
        #expect(config.retentionBytes == -1)
        #expect(config.maxMessageBytes == 1_048_588)
        #expect(config.flushMessages == .max)
        #expect(config.flushMs == .max)
        #expect(config.messageTimestampType == .createTime)
        #expect(config.cleanupPolicy == .delete)
    }

    @Test func overridesApplyOnTopOfDefaults() throws {
        var defaults = LogConfig()
        defaults.retentionMs = 1000
        let config = try LogConfig(
            properties: [
                "segment.bytes": "1048576", "message.timestamp.type": "LogAppendTime",
                "cleanup.policy": "compact,delete",
                "flush.messages": "1", "retention.bytes": "-1", "compression.type": "lz4",
            ],
            defaults: defaults
        )
        #expect(config.segmentBytes == 1_048_576)
        #expect(config.retentionMs == 1000)
        #expect(config.messageTimestampType == .logAppendTime)
        #expect(config.cleanupPolicy == [.compact, .delete])
        #expect(config.flushMessages == 1)
        #expect(config.kafkaProperties["cleanup.policy"] == "compact,delete")
        #expect(config.kafkaProperties["segment.bytes"] == "1048576")
    }

    @Test(arguments: [
        ["no.such.key": "1"], ["segment.bytes": "10"], ["segment.bytes": "abc"], ["segment.bytes": "4294967296"],
        ["retention.ms": "-2"], ["flush.messages": "0"], ["message.timestamp.type": "Now"],
        ["cleanup.policy": "delete,shred"], ["segment.ms": "0"],
    ])
    func refusesUnknownKeysAndBadValues(properties: [String: String]) {
        #expect(throws: StorageError(.invalidConfig)) { try LogConfig(properties: properties, defaults: LogConfig()) }
    }

    @Test func errorCodesMapToKafka() {
        #expect(StorageError(.invalidConfig).kafkaErrorCode == .invalidConfig)
        #expect(StorageError(.corruptBatch).kafkaErrorCode == .corruptMessage)
        #expect(StorageError(.offsetOutOfRange).kafkaErrorCode == .offsetOutOfRange)
        #expect(StorageError(.messageTooLarge).kafkaErrorCode == .messageTooLarge)
        #expect(StorageError(.recordListTooLarge).kafkaErrorCode == .recordListTooLarge)
        #expect(StorageError(.invalidTopic).kafkaErrorCode == .invalidTopicException)
        #expect(StorageError(.topicAlreadyExists).kafkaErrorCode == .topicAlreadyExists)
        #expect(StorageError(.diskFull).kafkaErrorCode.rawValue == 56)
    }
}
