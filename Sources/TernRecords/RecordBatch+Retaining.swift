public import NIOCore
import TernCompression

extension RecordBatch {
    /// What `retainingRecords` made of a batch.
    public enum Retained: Sendable {
        /// Every record was kept and the header is unchanged: store the batch's own bytes.
        case unchanged
        /// Some records were dropped or the delete horizon was set: a new batch.
        case rewritten(ByteBuffer)
        /// No record was kept.
        case empty
    }

    /// The batch with only the records `keep` accepts, for the log cleaner.
    ///
    /// Kept records are copied as encoded apart from their timestamp delta, so their offsets keep
    /// their gaps (offset deltas stay relative to the unchanged base offset; `lastOffsetDelta` is
    /// kept, Kafka's rule that "the last offset of a batch survives compaction"). Header fields are
    /// kept: base offset, partition leader epoch, max timestamp, producer id, epoch and base
    /// sequence, codec, timestamp type, transactional bit. The records section is compressed again
    /// with the batch's codec (default level).
    ///
    /// - Parameters:
    ///   - deleteHorizonMs: When given, the batch has none and a kept record is a tombstone (null
    ///     value), it is stored as Kafka's KIP-534 delete horizon: attribute bit 6 set and
    ///     baseTimestamp = the horizon, record timestamp deltas re-encoded against it so every record
    ///     keeps its timestamp.
    ///   - keep: Called once per record, in order (headers are not decoded for it: `headers` is empty).
    /// - Throws: a `RecordBatchError` when the records do not decode or cannot be recompressed.
    public func retainingRecords(
        decompressionLimit: Int,
        deleteHorizonMs: Int64? = nil,
        _ keep: (Record) -> Bool
    ) throws(RecordBatchError) -> Retained {
        let context = try self.recordSectionContext()
        let records = try self.uncompressedRecordsSection(decompressionLimit: decompressionLimit)
        let attributes = self.attributes
        var output = ByteBuffer()
        output.reserveCapacity(records.readableBytes)
        var keptCount = 0
        var newHorizon: Int64?
        try records.withUnsafeReadableBytes { (bytes) throws(RecordBatchError) in
            // First pass: decode and decide; the second encodes the kept records, once it is known
            // whether their timestamps are re-based on a new delete horizon.
            var keptLayouts: [(position: Int, layout: RecordLayout)] = []
            var keptTombstone = false
            var position = 0
            var previousOffsetDelta: Int32 = -1
            for index in 0..<context.recordCount {
                guard position < bytes.count else {
                    throw RecordSectionContext.missingRecords(found: index, expected: context.recordCount)
                }
                let layout = try RecordLayout.decode(bytes, at: position)
                try context.checkOffsetDelta(layout.offsetDelta, after: previousOffsetDelta)
                previousOffsetDelta = layout.offsetDelta
                let base = records.readerIndex
                let record = Record(
                    offset: context.baseOffset &+ Int64(layout.offsetDelta),
                    timestampMs: context.logAppendTimeMs ?? (context.baseTimestampMs &+ layout.timestampDelta),
                    key: layout.keyLength < 0
                        ? nil : records.getSlice(at: base + layout.keyStart, length: layout.keyLength),
                    value: layout.valueLength < 0
                        ? nil : records.getSlice(at: base + layout.valueStart, length: layout.valueLength),
                    headers: [],
                    attributes: layout.attributes
                )
                if keep(record) {
                    keptLayouts.append((position, layout))
                    if layout.valueLength < 0 { keptTombstone = true }
                }
                position = layout.end
            }
            guard position == bytes.count else {
                throw RecordSectionContext.bytesAfterLastRecord(
                    bytes.count - position,
                    recordCount: context.recordCount
                )
            }
            keptCount = keptLayouts.count
            if keptTombstone && !attributes.hasDeleteHorizon { newHorizon = deleteHorizonMs }
            let newBaseTimestampMs = newHorizon ?? context.baseTimestampMs
            guard keptCount < context.recordCount || newHorizon != nil else { return }
            for (position, layout) in keptLayouts {
                // The fields after offsetDelta (key, value, headers) are copied as they are.
                var cursor = RecordFieldCursor(bytes, position: position)
                _ = try cursor.readVarint()
                _ = try cursor.readInt8()
                _ = try cursor.readVarlong()
                _ = try cursor.readVarint()
                let tailStart = cursor.position
                let timestampDelta = (context.baseTimestampMs &+ layout.timestampDelta) &- newBaseTimestampMs
                let encodedTimestampDelta = ZigZag.encode(timestampDelta)
                let encodedOffsetDelta = ZigZag.encode(layout.offsetDelta)
                let bodyLength =
                    1 + ZigZag.byteCount(encodedTimestampDelta) + ZigZag.byteCount(encodedOffsetDelta)
                    + (layout.end - tailStart)
                let encodedBodyLength = ZigZag.encode(Int32(bodyLength))
                output.writeWithUnsafeMutableBytes(
                    minimumWritableBytes: ZigZag.byteCount(encodedBodyLength) + bodyLength
                ) { out in
                    let start = out.baseAddress!
                    var index = ZigZag.write(encodedBodyLength, to: start, at: 0)
                    start.storeBytes(of: layout.attributes, toByteOffset: index, as: Int8.self)
                    index += 1
                    index = ZigZag.write(encodedTimestampDelta, to: start, at: index)
                    index = ZigZag.write(encodedOffsetDelta, to: start, at: index)
                    (start + index).copyMemory(from: bytes.baseAddress! + tailStart, byteCount: layout.end - tailStart)
                    return index + layout.end - tailStart
                }
            }
        }
        if keptCount == 0 { return .empty }
        if keptCount == context.recordCount && newHorizon == nil { return .unchanged }

        typealias Offset = FieldOffset
        var batch = ByteBuffer()
        batch.reserveCapacity(Offset.records + output.readableBytes)
        batch.writeImmutableBuffer(self.buffer.getSlice(at: self.buffer.readerIndex, length: Offset.records)!)
        let codec = attributes.codec ?? .none
        if codec == .none {
            batch.writeBuffer(&output)
        } else {
            do {
                try Compression.compress(output, codec: codec, level: nil, into: &batch)
            } catch {
                throw RecordBatchError(.compressionFailed, "cannot compress kept records with \(codec)", cause: error)
            }
        }
        let start = batch.readerIndex
        var newAttributes = attributes
        if newHorizon != nil { newAttributes.hasDeleteHorizon = true }
        batch.setInteger(Int32(batch.readableBytes - Self.logOverheadByteCount), at: start + Offset.batchLength)
        batch.setInteger(newAttributes.rawValue, at: start + Offset.attributes)
        batch.setInteger(newHorizon ?? self.baseTimestampMs, at: start + Offset.baseTimestamp)
        batch.setInteger(Int32(keptCount), at: start + Offset.recordCount)
        let crc = CRC32C.checksum(
            batch,
            at: start + Offset.crcCoverageStart,
            length: batch.readableBytes - Offset.crcCoverageStart
        )!
        batch.setInteger(crc, at: start + Offset.crc)
        return .rewritten(batch)
    }
}

extension RecordBatch {
    /// The batch's header with no records (Kafka's `writeEmptyHeader`): what the log cleaner keeps of
    /// a producer's last batch when none of its records survive, so the producer id, epoch and
    /// sequences (and the batch's offset range, through `lastOffsetDelta`) stay in the log.
    /// Uncompressed; the other attributes, offsets and timestamps are kept.
    public func emptyHeader() -> ByteBuffer {
        typealias Offset = FieldOffset
        var batch = ByteBuffer()
        batch.writeImmutableBuffer(self.buffer.getSlice(at: self.buffer.readerIndex, length: Offset.records)!)
        var attributes = self.attributes
        attributes.codec = CompressionCodec.none
        batch.setInteger(Int32(Self.headerByteCount - Self.logOverheadByteCount), at: Offset.batchLength)
        batch.setInteger(attributes.rawValue, at: Offset.attributes)
        batch.setInteger(Int32(0), at: Offset.recordCount)
        let crc = CRC32C.checksum(
            batch,
            at: Offset.crcCoverageStart,
            length: batch.readableBytes - Offset.crcCoverageStart
        )!
        batch.setInteger(crc, at: Offset.crc)
        return batch
    }
}
