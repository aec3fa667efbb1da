public import NIOCore

/// Splits the `records` field of a Produce request, Fetch response or log segment — v2 batches laid
/// end to end — into batch views, without copying.
///
/// `next()` returns each complete batch in order (framing checked, CRC not: call `validate()` on
/// it). When the bytes end inside a batch it returns nil and leaves that batch's bytes in
/// `partialTrailingByteCount`: Kafka truncates the last batch of a Fetch response to the fetch size,
/// and a consumer ignores the fragment. A producer must not send one, so a Produce path should treat
/// a non-zero count as an error (or use `RecordBatch.init`, which requires exactly one batch).
///
/// A batch whose magic is not 2 or whose length is too small throws; the reader then returns nil.
public struct RecordBatchReader: Sendable {
    private var records: ByteBuffer
    private var failed = false

    public init(_ records: ByteBuffer) {
        self.records = records
    }

    /// Bytes not yet returned as batches. After `next()` has returned nil without throwing, these
    /// are the bytes of an incomplete trailing batch (0 when the field ended on a batch boundary).
    public var partialTrailingByteCount: Int { self.failed ? 0 : self.records.readableBytes }

    public mutating func next() throws(RecordBatchError) -> RecordBatch? {
        guard !self.failed else { return nil }
        let framing: RecordBatch.Framing
        do {
            framing = try RecordBatch.frame(self.records, at: self.records.readerIndex)
        } catch {
            self.failed = true
            throw error
        }
        guard case .complete(let byteCount) = framing else { return nil }
        // Framing checked the length and magic, which is all `RecordBatch.init` checks.
        return try RecordBatch(self.records.readSlice(length: byteCount)!)
    }
}

extension RecordBatch {
    /// All complete batches in a `records` field, and the size of the incomplete batch that ends it
    /// (0 if none). See `RecordBatchReader`.
    public static func split(
        _ records: ByteBuffer
    ) throws(RecordBatchError) -> (batches: [RecordBatch], partialTrailingByteCount: Int) {
        var reader = RecordBatchReader(records)
        var batches: [RecordBatch] = []
        while let batch = try reader.next() {
            batches.append(batch)
        }
        return (batches, reader.partialTrailingByteCount)
    }
}
