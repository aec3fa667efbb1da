public import NIOCore

/// One record of a v2 batch, with its offset and timestamp made absolute.
///
/// `key`, `value` and header values are slices of the batch's (decompressed) records bytes, not
/// copies; holding one keeps that whole buffer alive.
public struct Record: Hashable, Sendable {
    /// `baseOffset + offsetDelta`.
    public var offset: Int64
    /// `baseTimestamp + timestampDelta` for CreateTime batches; the batch's `maxTimestampMs` (the
    /// broker's append time) for LogAppendTime batches, as Kafka reports it.
    public var timestampMs: Int64
    /// nil for a null key.
    public var key: ByteBuffer?
    /// nil for a null value (a tombstone on compacted topics).
    public var value: ByteBuffer?
    public var headers: [RecordHeader]
    /// The record's own attribute byte; unused by Kafka so far (written as 0).
    public var attributes: Int8
}

extension Record {
    /// A record with attributes 0. (Declared in an extension so the struct keeps its memberwise
    /// initializer, which the reader uses: with Swift 6.3 an explicit initializer of this struct
    /// builds it in a temporary and copies it out, retaining and releasing every buffer once more
    /// per record.)
    public init(offset: Int64, timestampMs: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []) {
        self.init(offset: offset, timestampMs: timestampMs, key: key, value: value, headers: headers, attributes: 0)
    }
}

/// A record header. The key is UTF-8 on the wire and never null; the value may be null.
public struct RecordHeader: Hashable, Sendable {
    public var key: String
    public var value: ByteBuffer?

    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }
}

/// Where the fields of one encoded record lie, as indices into the records bytes.
///
///     length varint | attributes int8 | timestampDelta varlong | offsetDelta varint
///     keyLength varint (-1 null) | key | valueLength varint (-1 null) | value
///     headerCount varint | headerCount × (keyLength varint | key UTF-8 | valueLength varint (-1 null) | value)
///
/// All varints are zig-zag. `length` counts the bytes after itself and must match them exactly.
struct RecordLayout {
    var attributes: Int8
    var timestampDelta: Int64
    var offsetDelta: Int32
    var keyStart: Int
    var keyLength: Int
    var valueStart: Int
    var valueLength: Int
    var headerCount: Int
    var headersStart: Int
    /// Index just past the record, where the next one starts.
    var end: Int

    /// Decodes the record at `start`, checking every length against the record's own length.
    @inline(__always)
    static func decode(_ bytes: UnsafeRawBufferPointer, at start: Int) throws(RecordBatchError) -> RecordLayout {
        var cursor = RecordFieldCursor(bytes, position: start)
        let bodyLength = Int(try cursor.readVarint())
        // attributes + timestampDelta + offsetDelta + keyLength + valueLength + headerCount ≥ 6 bytes.
        guard bodyLength >= 6, bodyLength <= cursor.remainingByteCount else {
            throw RecordDecodingError.recordLength(bodyLength, at: start, remaining: cursor.remainingByteCount)
        }
        cursor.end = cursor.position + bodyLength
        let attributes = try cursor.readInt8()
        let timestampDelta = try cursor.readVarlong()
        let offsetDelta = try cursor.readVarint()
        let key = try cursor.readSizedField(nullable: true, "key")
        let value = try cursor.readSizedField(nullable: true, "value")
        let headerCount = Int(try cursor.readVarint())
        // Each header takes at least two bytes (two one-byte lengths).
        guard headerCount >= 0, headerCount <= cursor.remainingByteCount / 2 else {
            throw RecordDecodingError.headerCount(headerCount, at: start)
        }
        let headersStart = cursor.position
        for _ in 0..<headerCount {
            _ = try cursor.readSizedField(nullable: false, "header key")
            _ = try cursor.readSizedField(nullable: true, "header value")
        }
        guard cursor.position == cursor.end else {
            throw RecordDecodingError.bytesAfterHeaders(cursor.end - cursor.position, at: start)
        }
        return RecordLayout(
            attributes: attributes,
            timestampDelta: timestampDelta,
            offsetDelta: offsetDelta,
            keyStart: key.start,
            keyLength: key.length,
            valueStart: value.start,
            valueLength: value.length,
            headerCount: headerCount,
            headersStart: headersStart,
            end: cursor.end
        )
    }
}

/// The part of a batch header that record decoding needs, and the checks shared by the reader and
/// the validation walk.
struct RecordSectionContext: Sendable {
    var baseOffset: Int64
    var baseTimestampMs: Int64
    /// Set for LogAppendTime batches: every record reports this timestamp.
    var logAppendTimeMs: Int64?
    var lastOffsetDelta: Int32
    var recordCount: Int

    /// Offset deltas must rise strictly and stay within the batch's offset range, so that record
    /// offsets are unique and inside [baseOffset, lastOffset].
    @inline(__always)
    func checkOffsetDelta(_ offsetDelta: Int32, after previous: Int32) throws(RecordBatchError) {
        guard offsetDelta > previous, offsetDelta <= self.lastOffsetDelta else {
            throw RecordDecodingError.offsetDelta(offsetDelta, after: previous, lastOffsetDelta: self.lastOffsetDelta)
        }
    }

    /// Walks `recordCount` records without materializing them.
    func validate(_ records: ByteBuffer) throws(RecordBatchError) {
        try records.withUnsafeReadableBytes { (bytes) throws(RecordBatchError) in
            var position = 0
            var previousOffsetDelta: Int32 = -1
            for index in 0..<self.recordCount {
                guard position < bytes.count else {
                    throw Self.missingRecords(found: index, expected: self.recordCount)
                }
                let layout = try RecordLayout.decode(bytes, at: position)
                try self.checkOffsetDelta(layout.offsetDelta, after: previousOffsetDelta)
                previousOffsetDelta = layout.offsetDelta
                position = layout.end
            }
            guard position == bytes.count else {
                throw Self.bytesAfterLastRecord(bytes.count - position, recordCount: self.recordCount)
            }
        }
    }

    @inline(never)
    static func missingRecords(found: Int, expected: Int) -> RecordBatchError {
        RecordBatchError(.invalidRecordCount, "records end after \(found) of the declared \(expected) records")
    }

    @inline(never)
    static func bytesAfterLastRecord(_ byteCount: Int, recordCount: Int) -> RecordBatchError {
        RecordBatchError(.invalidRecordCount, "\(byteCount) bytes follow the declared \(recordCount) records")
    }
}

/// Reads the records of one batch in order, decoding each on demand.
///
/// Obtain one from `RecordBatch.makeRecordReader(decompressionLimit:)`. Each `next()` decodes one
/// record and checks it; a malformed record throws, and the reader then returns nil. Keys, values
/// and header values are slices of the records bytes. No allocation happens per record unless it
/// has headers.
public struct RecordReader: @unchecked Sendable {
    private let records: ByteBuffer
    /// The readable bytes of `records`. Held across calls, which NIO allows when the storage is kept
    /// alive (`withUnsafeReadableBytesWithStorageManagement`): `records` owns it, and no one can write
    /// to it while this reference exists, because a write through another copy copies first. Saves a
    /// closure and an exclusivity check per record. (Hence `@unchecked Sendable`: the pointer is to
    /// bytes that are immutable while the reader lives.)
    private let bytes: UnsafeRawBufferPointer
    private let context: RecordSectionContext
    /// Index into `bytes` of the next record.
    private var position: Int = 0
    private var decodedCount: Int = 0
    private var previousOffsetDelta: Int32 = -1

    init(records: ByteBuffer, context: RecordSectionContext) {
        self.records = records
        self.bytes = records.withUnsafeReadableBytesWithStorageManagement { bytes, _ in bytes }
        self.context = context
    }

    /// The number of records the batch header declares.
    public var declaredRecordCount: Int { self.context.recordCount }

    public mutating func next() throws(RecordBatchError) -> Record? {
        guard self.decodedCount < self.context.recordCount else {
            try self.checkNoBytesAfterLastRecord()
            return nil
        }
        let layout = try self.decodeNextLayout()
        let base = self.records.readerIndex
        // Built here rather than in a helper so it is constructed in place. The layout was
        // bounds-checked against these bytes, so the slices exist.
        return Record(
            offset: self.context.baseOffset &+ Int64(layout.offsetDelta),
            timestampMs: self.context.logAppendTimeMs ?? (self.context.baseTimestampMs &+ layout.timestampDelta),
            key: layout.keyLength < 0
                ? nil : self.records.getSlice(at: base + layout.keyStart, length: layout.keyLength),
            value: layout.valueLength < 0
                ? nil : self.records.getSlice(at: base + layout.valueStart, length: layout.valueLength),
            headers: layout.headerCount == 0 ? [] : self.decodeHeaders(layout),
            attributes: layout.attributes
        )
    }

    private mutating func checkNoBytesAfterLastRecord() throws(RecordBatchError) {
        let recordsEnd = self.bytes.count
        guard self.position == recordsEnd else {
            let error = RecordSectionContext.bytesAfterLastRecord(
                recordsEnd - self.position,
                recordCount: self.context.recordCount
            )
            self.finish()
            throw error
        }
    }

    /// Decodes and checks the next record's layout and moves past it; on error, finishes the reader.
    @inline(__always)
    private mutating func decodeNextLayout() throws(RecordBatchError) -> RecordLayout {
        guard self.position < self.bytes.count else {
            let error = RecordSectionContext.missingRecords(
                found: self.decodedCount,
                expected: self.context.recordCount
            )
            self.finish()
            throw error
        }
        let layout: RecordLayout
        do {
            layout = try RecordLayout.decode(self.bytes, at: self.position)
            try self.context.checkOffsetDelta(layout.offsetDelta, after: self.previousOffsetDelta)
        } catch {
            self.finish()
            throw error
        }
        self.position = layout.end
        self.decodedCount += 1
        self.previousOffsetDelta = layout.offsetDelta
        return layout
    }

    /// Stops the reader after an error, so later calls return nil instead of re-reading garbage.
    private mutating func finish() {
        self.decodedCount = self.context.recordCount
        self.position = self.bytes.count
    }

    private func decodeHeaders(_ layout: RecordLayout) -> [RecordHeader] {
        let base = self.records.readerIndex
        var headers: [RecordHeader] = []
        headers.reserveCapacity(layout.headerCount)
        var cursor = RecordFieldCursor(self.bytes, position: layout.headersStart)
        cursor.end = layout.end
        for _ in 0..<layout.headerCount {
            // `RecordLayout.decode` walked these same fields, so they cannot fail here.
            guard let key = try? cursor.readSizedField(nullable: false, "header key"),
                let value = try? cursor.readSizedField(nullable: true, "header value")
            else {
                preconditionFailure("record headers changed between decode and materialize")
            }
            // Like Kafka, invalid UTF-8 in a header key is repaired rather than refused.
            let keyString = String(
                decoding: UnsafeRawBufferPointer(rebasing: self.bytes[key.start..<key.start + key.length]),
                as: UTF8.self
            )
            let valueBytes =
                value.length < 0 ? nil : self.records.getSlice(at: base + value.start, length: value.length)
            headers.append(RecordHeader(key: keyString, value: valueBytes))
        }
        return headers
    }
}

/// The records of a batch whose records section was fully validated when this sequence was made,
/// so iterating it cannot fail. Obtain one from `RecordBatch.records(decompressionLimit:)`.
public struct RecordSequence: Sequence, Sendable {
    private let reader: RecordReader

    init(validatedReader: RecordReader) {
        self.reader = validatedReader
    }

    public var underestimatedCount: Int { self.reader.declaredRecordCount }

    public func makeIterator() -> Iterator {
        Iterator(reader: self.reader)
    }

    public struct Iterator: IteratorProtocol, Sendable {
        fileprivate var reader: RecordReader

        public mutating func next() -> Record? {
            do {
                return try self.reader.next()
            } catch {
                preconditionFailure("records failed to decode after validation: \(error)")
            }
        }
    }
}
