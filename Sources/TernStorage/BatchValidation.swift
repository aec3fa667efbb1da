import NIOCore
import TernRecords

/// What the log remembers about a stored batch; read from its header.
struct BatchSummary: Hashable, Sendable {
    var baseOffset: Int64
    var lastOffset: Int64
    var maxTimestampMs: Int64
    var byteCount: Int

    init(_ batch: RecordBatch) {
        self.baseOffset = batch.baseOffset
        self.lastOffset = batch.lastOffset
        self.maxTimestampMs = batch.maxTimestampMs
        self.byteCount = batch.byteCount
    }
}

extension StorageError {
    /// The storage code for a batch the records module refused: framing and checksum problems are
    /// corruption (Kafka CORRUPT_MESSAGE), a well-formed batch breaking a rule is INVALID_RECORD.
    init(refusedBatch error: RecordBatchError) {
        switch error.code {
        case .truncated, .invalidLength, .trailingBytes, .crcMismatch, .decompressionFailed:
            self.init(.corruptBatch, error.message, cause: error)
        case .invalidTimestamp:
            self.init(.invalidTimestamp, error.message, cause: error)
        default:
            self.init(.invalidRecord, error.message, cause: error)
        }
    }
}

/// Who wrote a batch the log appends, which decides the rules it must pass (Kafka's `AppendOrigin`).
public enum AppendOrigin: Sendable, Hashable {
    /// A producer, through Produce (Kafka's CLIENT): the stored-batch rules plus Kafka's client
    /// rules — baseOffset 0 and, for a compacted topic, a key on every record — checked in the
    /// order Kafka's broker checks them (header rules before the CRC).
    case client
    /// The broker's own writers (the group coordinator, tools, tests): the stored-batch rules only.
    case broker
}

/// Checks a batch as a producer sent it, before the log assigns its offsets — the one validation
/// pass of the append path: exactly one magic-2 batch (Kafka's Produce v3+ rule), a matching
/// CRC-32C, `lastOffsetDelta + 1 == recordCount` with at least one record, not a control batch,
/// CreateTime and the size limits; for `.client` also a base sequence with any producer id,
/// baseOffset 0 and keys on a compacted topic (see `AppendOrigin`). Records inside the batch are
/// walked only for that key rule: their bytes are covered by the CRC and stored as received.
func validateProducedBatch(
    _ bytes: ByteBuffer,
    config: LogConfig,
    origin: AppendOrigin = .broker,
    topicPartition: TopicPartition? = nil
) throws(StorageError) -> RecordBatch {
    let batch: RecordBatch
    do {
        batch = try RecordBatch(bytes)
    } catch {
        // Kafka's Produce rules for a client: more than one batch is INVALID_RECORD, an unknown
        // magic CORRUPT_MESSAGE.
        if origin == .client && error.code == .trailingBytes { throw StorageError(.invalidRecord, error.message) }
        if origin == .client && error.code == .invalidMagic { throw StorageError(.corruptBatch, error.message) }
        throw StorageError(refusedBatch: error)
    }
    switch origin {
    case .client:
        guard batch.baseOffset == 0 else {
            throw StorageError(.invalidRecord, "a producer batch must have baseOffset 0, not \(batch.baseOffset)")
        }
        try checkProducerHeader(batch)
        guard batch.producerId < 0 || batch.baseSequence >= 0 else {
            throw StorageError(.invalidRecord, "producerId \(batch.producerId) without a base sequence")
        }
        try checkStoredBatch(batch, config: config)
        if config.cleanupPolicy.contains(.compact), !everyRecordHasAKey(batch) {
            let partition = topicPartition.map { "\($0.topic)-\($0.partition)" } ?? "?"
            throw StorageError(
                .recordWithoutKey,
                "Compacted topic cannot accept message without key in topic partition \(partition)."
            )
        }
    case .broker:
        try checkStoredBatch(batch, config: config)
        // No sequence rule: the group coordinator writes a transactional offset commit with the
        // producer's id and epoch but no sequence (Kafka skips it for its coordinators' appends).
        try checkProducerHeader(batch)
    }
    return batch
}

/// CRC-32C, codec bits and offsets (`RecordBatch.validate`), then the size limits.
private func checkStoredBatch(_ batch: RecordBatch, config: LogConfig) throws(StorageError) {
    do {
        try batch.validate()
    } catch {
        throw StorageError(refusedBatch: error)
    }
    if batch.byteCount > config.maxMessageBytes {
        throw StorageError(
            .messageTooLarge,
            "batch of \(batch.byteCount) bytes exceeds max.message.bytes \(config.maxMessageBytes)"
        )
    }
    if batch.byteCount > config.segmentBytes {
        throw StorageError(
            .recordListTooLarge,
            "batch of \(batch.byteCount) bytes exceeds segment.bytes \(config.segmentBytes)"
        )
    }
}

/// The header rules of every appended data batch: record count, no control bit, CreateTime, a
/// producer id on a transactional batch.
private func checkProducerHeader(_ batch: RecordBatch) throws(StorageError) {
    guard batch.recordCount > 0, Int64(batch.lastOffsetDelta) + 1 == Int64(batch.recordCount) else {
        throw StorageError(
            .invalidRecord,
            "batch with recordCount \(batch.recordCount) and lastOffsetDelta \(batch.lastOffsetDelta)"
        )
    }
    let attributes = batch.attributes
    guard !attributes.isControl else { throw StorageError(.invalidRecord, "clients may not write control batches") }
    guard attributes.timestampType == .createTime else {
        throw StorageError(.invalidTimestamp, "a producer batch claims LogAppendTime")
    }
    guard !attributes.isTransactional || batch.producerId >= 0 else {
        throw StorageError(.invalidRecord, "a transactional batch without a producer id")
    }
}

/// Bound on decompressed bytes when the key rule walks a produced batch's records.
let producedBatchDecompressionLimitBytes = 64 << 20

/// Whether no record of the batch has a null key (false too when the records do not decode).
func everyRecordHasAKey(_ batch: RecordBatch) -> Bool {
    do throws(RecordBatchError) {
        var reader = try batch.makeRecordReader(decompressionLimit: producedBatchDecompressionLimitBytes)
        while let record = try reader.next() {
            if record.key == nil { return false }
        }
        return true
    } catch {
        return false
    }
}
