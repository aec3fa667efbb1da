import NIOCore
import TernRecords
import TernStorage
import Testing

/// A producer batch of `values` (one record each), timestamps `timestampMs`, +1, +2, …
func makeBatch(_ values: [String], timestampMs: Int64 = 1_700_000_000_000, key: String? = nil) -> ByteBuffer {
    var builder = RecordBatchBuilder()
    for (index, value) in values.enumerated() {
        builder.append(
            key: key.map { ByteBuffer(string: $0) },
            value: ByteBuffer(string: value),
            timestampMs: timestampMs + Int64(index)
        )
    }
    return try! builder.build()
}

/// A producer batch with one record whose value is `byteCount` bytes of `fill`.
func makeBatch(valueByteCount: Int, fill: UInt8 = 0x61, timestampMs: Int64 = 1_700_000_000_000) -> ByteBuffer {
    var builder = RecordBatchBuilder(initialCapacityBytes: valueByteCount + 128)
    builder.append(key: nil, value: ByteBuffer(repeating: fill, count: valueByteCount), timestampMs: timestampMs)
    return try! builder.build()
}

/// The batches in a read result, as views.
func batches(in records: ByteBuffer) throws -> [RecordBatch] {
    let (batches, partial) = try RecordBatch.split(records)
    #expect(partial == 0)
    return batches
}

/// Record values, in order, of the batches in `records`.
func values(in records: ByteBuffer) throws -> [String] {
    try batches(in: records).flatMap { batch in
        try batch.records(decompressionLimit: 1 << 20).map { String(buffer: $0.value!) }
    }
}

/// Reads every value from `offset` to the log end.
func allValues(_ log: PartitionLog, from offset: Int64? = nil) throws -> [String] {
    var next = offset ?? log.logStartOffset
    var result: [String] = []
    while next < log.logEndOffset {
        let read = try log.read(from: next, maxBytes: 1 << 20)
        for batch in try batches(in: read.records) {
            for record in try batch.records(decompressionLimit: 1 << 20) where record.offset >= next {
                result.append(String(buffer: record.value!))
            }
            next = batch.lastOffset + 1
        }
    }
    return result
}

/// A log manager on an in-memory file system with a manual clock.
struct TestStorage {
    let fileSystem = InMemoryFileSystem()
    let clock = ManualClock(nowMs: 1_700_000_000_000)
    let dataDirectory = "/data"
    /// Off unless a test turns it on: tests drive cleaning passes themselves, deterministically.
    var cleaner: LogCleanerConfig = {
        var config = LogCleanerConfig()
        config.isEnabled = false
        return config
    }()

    func open(_ config: LogConfig = LogConfig()) async throws -> LogManager {
        try await LogManager.open(
            dataDirectory: self.dataDirectory,
            defaultConfig: config,
            clock: self.clock,
            // A new process's view: after a simulated crash the old manager's threads can no
            // longer touch the files the new one recovers.
            fileSystem: self.fileSystem.process(),
            flushThreadCount: 2,
            cleaner: self.cleaner
        )
    }

    /// Opens a manager with one topic `t` of one partition and returns both.
    func openWithPartition(
        _ config: LogConfig = LogConfig(),
        overrides: [String: String] = [:]
    ) async throws -> (LogManager, PartitionLog) {
        let manager = try await self.open(config)
        try manager.createTopic("t", partitionCount: 1, configOverrides: overrides)
        return (manager, manager.partition(topic: "t", index: 0)!)
    }

    func segmentPath(_ baseOffset: Int64, _ kind: SegmentFileName.Kind, partition: String = "t-0") -> String {
        "\(self.dataDirectory)/\(partition)/\(SegmentFileName(baseOffset: baseOffset, kind: kind).fileName)"
    }
}
