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

/// Checks a batch as a producer sent it, before the log assigns its offsets: exactly one magic-2
/// batch (Kafka's Produce v3+ rule), a matching CRC-32C, `lastOffsetDelta + 1 == recordCount` with
/// at least one record, not a control batch, CreateTime, a base sequence with any producer id, and
/// the size limits. The client's baseOffset is not checked (Kafka's "must be 0" rule is the
/// broker's call). Records inside the batch are not walked: their bytes are covered by the CRC and
/// stored as received.
func validateProducedBatch(_ bytes: ByteBuffer, config: LogConfig) throws(StorageError) -> RecordBatch {
    let batch: RecordBatch
    do {
        batch = try RecordBatch(bytes)
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
    guard batch.producerId < 0 || batch.baseSequence >= 0 else {
        throw StorageError(.invalidRecord, "producerId \(batch.producerId) without a base sequence")
    }
    return batch
}
