public import NIOCore
public import TernCompression

/// A read-only view of one Kafka v2 record batch (magic 2) held in a `ByteBuffer`.
///
/// Byte layout (big-endian; offsets from the start of the batch):
///
///     offset size field
///          0    8 baseOffset            i64  first offset; written by the broker (clients send 0)
///          8    4 batchLength           i32  bytes after this field = total size − 12
///         12    4 partitionLeaderEpoch  i32  written by the broker
///         16    1 magic                 i8   2
///         17    4 crc                   u32  CRC-32C of bytes 21 ..< end
///         21    2 attributes            i16  bits 0–2 codec, 3 timestamp type, 4 transactional,
///                                            5 control, 6 delete horizon
///         23    4 lastOffsetDelta       i32  offset delta of the last record
///         27    8 baseTimestamp         i64  first record's timestamp (delete horizon if bit 6)
///         35    8 maxTimestamp          i64  largest record timestamp, or the broker's append time
///         43    8 producerId            i64  -1 when not idempotent
///         51    2 producerEpoch         i16
///         53    4 baseSequence          i32
///         57    4 recordCount           i32
///         61    … records               plain, or one compressed blob when the codec is not none
///
/// The CRC covers attributes through the end of the batch. It deliberately leaves out baseOffset and
/// partitionLeaderEpoch, the two fields the broker fills in on append, so the broker can patch them
/// in place (`setBaseOffset`, `setPartitionLeaderEpoch`) without recomputing it. Setting
/// LogAppendTime changes covered bytes, so `setMaxTimestampAndLogAppendTime` recomputes it.
///
/// Making a view checks the framing only (size, magic, `batchLength`), which makes every header
/// getter safe. Call `validate()` for the CRC and header consistency, and `validateRecords` (or read
/// the records) for the records themselves. A view is a value: the patching methods write to its own
/// buffer, copying it first if the storage is shared (e.g. when the view is a slice of a larger
/// buffer that is still referenced).
public struct RecordBatch: Hashable, Sendable {
    /// Exactly the batch's bytes, as readable bytes.
    public private(set) var buffer: ByteBuffer

    /// Size of the fixed header, which is also the smallest batch (zero records).
    public static let headerByteCount = 61
    /// baseOffset + batchLength: the bytes before what `batchLength` counts.
    public static let logOverheadByteCount = 12
    /// The magic byte of the format this type reads.
    public static let currentMagic: Int8 = 2

    enum FieldOffset {
        static let baseOffset = 0
        static let batchLength = 8
        static let partitionLeaderEpoch = 12
        static let magic = 16
        static let crc = 17
        static let attributes = 21
        static let lastOffsetDelta = 23
        static let baseTimestamp = 27
        static let maxTimestamp = 35
        static let producerId = 43
        static let producerEpoch = 51
        static let baseSequence = 53
        static let recordCount = 57
        static let records = 61
        /// First byte the CRC covers.
        static let crcCoverageStart = attributes
    }

    /// Wraps `buffer`, whose readable bytes must be exactly one v2 batch.
    ///
    /// - Throws: `.truncated` if the bytes end inside the batch, `.trailingBytes` if bytes follow it,
    ///   `.legacyMessageFormat` / `.invalidMagic` for another magic, `.invalidLength` if
    ///   `batchLength` is too small for a v2 header.
    public init(_ buffer: ByteBuffer) throws(RecordBatchError) {
        switch try Self.frame(buffer, at: buffer.readerIndex) {
        case .partial:
            throw RecordBatchError(.truncated, "\(buffer.readableBytes) bytes hold only part of a record batch")
        case .complete(let byteCount):
            guard byteCount == buffer.readableBytes else {
                throw RecordBatchError(
                    .trailingBytes,
                    "\(buffer.readableBytes - byteCount) bytes follow a \(byteCount)-byte record batch"
                )
            }
        }
        self.buffer = buffer
    }

    enum Framing: Equatable {
        /// A whole batch of this many bytes starts at the index.
        case complete(byteCount: Int)
        /// The bytes end before the batch does.
        case partial
    }

    /// Reads the framing of the batch starting at `index` (up to the writer index). The magic is
    /// checked as soon as it is present; the length before deciding that a batch is partial, so a
    /// corrupt length is not mistaken for a batch still arriving.
    static func frame(_ buffer: ByteBuffer, at index: Int) throws(RecordBatchError) -> Framing {
        let available = buffer.writerIndex - index
        guard available >= Self.logOverheadByteCount else { return .partial }
        let batchLength = Int(buffer.getInteger(at: index + FieldOffset.batchLength, as: Int32.self)!)
        if available > FieldOffset.magic {
            let magic = buffer.getInteger(at: index + FieldOffset.magic, as: Int8.self)!
            guard magic == Self.currentMagic else {
                if magic == 0 || magic == 1 {
                    throw RecordBatchError(
                        .legacyMessageFormat,
                        "message set with magic \(magic); only record batches with magic 2 are supported"
                    )
                }
                throw RecordBatchError(.invalidMagic, "invalid magic \(magic)")
            }
        }
        guard batchLength >= Self.headerByteCount - Self.logOverheadByteCount else {
            throw RecordBatchError(
                .invalidLength,
                "batchLength \(batchLength) is below the \(Self.headerByteCount - Self.logOverheadByteCount) bytes of a v2 header"
            )
        }
        let byteCount = batchLength + Self.logOverheadByteCount
        return available >= byteCount ? .complete(byteCount: byteCount) : .partial
    }

    // MARK: Header fields

    @inline(__always)
    private func field<Integer: FixedWidthInteger>(_ offset: Int, as: Integer.Type = Integer.self) -> Integer {
        // In bounds: `init` checked the buffer holds at least a full header.
        self.buffer.getInteger(at: self.buffer.readerIndex + offset, as: Integer.self)!
    }

    public var baseOffset: Int64 { self.field(FieldOffset.baseOffset) }
    /// Bytes after the batchLength field; the batch is `batchLength + 12` bytes in all.
    public var batchLength: Int32 { self.field(FieldOffset.batchLength) }
    public var partitionLeaderEpoch: Int32 { self.field(FieldOffset.partitionLeaderEpoch) }
    /// Always 2 for a view (checked by `init`).
    public var magic: Int8 { self.field(FieldOffset.magic) }
    /// The CRC-32C stored in the header.
    public var crc: UInt32 { self.field(FieldOffset.crc) }
    public var attributes: Attributes { Attributes(rawValue: self.field(FieldOffset.attributes)) }
    public var lastOffsetDelta: Int32 { self.field(FieldOffset.lastOffsetDelta) }
    public var baseTimestampMs: Int64 { self.field(FieldOffset.baseTimestamp) }
    public var maxTimestampMs: Int64 { self.field(FieldOffset.maxTimestamp) }
    public var producerId: Int64 { self.field(FieldOffset.producerId) }
    public var producerEpoch: Int16 { self.field(FieldOffset.producerEpoch) }
    public var baseSequence: Int32 { self.field(FieldOffset.baseSequence) }
    public var recordCount: Int32 { self.field(FieldOffset.recordCount) }

    /// `baseOffset + lastOffsetDelta`, the offset of the batch's last record. Wraps rather than traps
    /// on corrupt values; `validate()` rejects those.
    public var lastOffset: Int64 { self.baseOffset &+ Int64(self.lastOffsetDelta) }
    /// The offset after this batch: the log end offset once it is appended.
    public var nextOffset: Int64 { self.lastOffset &+ 1 }
    /// The whole batch's size, `batchLength + 12`.
    public var byteCount: Int { self.buffer.readableBytes }
    /// The delete horizon the log cleaner stored in baseTimestamp, when attribute bit 6 is set.
    public var deleteHorizonMs: Int64? { self.attributes.hasDeleteHorizon ? self.baseTimestampMs : nil }
    /// The bytes after the header: the records, compressed as a whole when the codec is not none.
    public var recordsSection: ByteBuffer {
        self.buffer.getSlice(
            at: self.buffer.readerIndex + FieldOffset.records,
            length: self.buffer.readableBytes - FieldOffset.records
        )!
    }

    // MARK: Integrity

    /// The CRC-32C of the covered bytes (attributes to the end), as it should be stored.
    public func computeCRC() -> UInt32 {
        CRC32C.checksum(
            self.buffer,
            at: self.buffer.readerIndex + FieldOffset.crcCoverageStart,
            length: self.buffer.readableBytes - FieldOffset.crcCoverageStart
        )!
    }

    public var isValidCRC: Bool { self.computeCRC() == self.crc }

    /// Checks what can be checked without reading records: the CRC, the codec bits, and that the
    /// offsets and counts in the header agree (`0 ≤ recordCount ≤ lastOffsetDelta + 1`; fewer records
    /// than the offset range is normal after compaction). Kafka's `ensureValid` plus the header
    /// checks of its validator.
    public func validate() throws(RecordBatchError) {
        let storedCRC = self.crc
        let computedCRC = self.computeCRC()
        guard storedCRC == computedCRC else {
            throw RecordBatchError(
                .crcMismatch,
                "stored CRC \(Self.hex(storedCRC)) but the batch's bytes give \(Self.hex(computedCRC))"
            )
        }
        guard self.attributes.codec != nil else {
            throw RecordBatchError(.unsupportedCompression, "codec bits \(self.attributes.codecBits) name no codec")
        }
        let recordCount = self.recordCount
        let lastOffsetDelta = self.lastOffsetDelta
        guard recordCount >= 0, lastOffsetDelta >= 0, Int64(recordCount) <= Int64(lastOffsetDelta) + 1 else {
            throw RecordBatchError(
                .invalidRecordCount,
                "recordCount \(recordCount) does not fit lastOffsetDelta \(lastOffsetDelta)"
            )
        }
        // A valid log never comes near these values; checking keeps `lastOffset` meaningful.
        guard self.baseOffset >= 0, self.baseOffset <= Int64.max - Int64(lastOffsetDelta) - 1 else {
            throw RecordBatchError(.invalidLength, "baseOffset \(self.baseOffset) is out of range")
        }
    }

    /// The extra rules Kafka applies to a batch a producer sends (Produce v3+): baseOffset 0, at least
    /// one record and offset deltas 0 … recordCount − 1, CreateTime, not a control batch, and a base
    /// sequence whenever there is a producer id. Call after `validate()`.
    public func validateProducerBatch() throws(RecordBatchError) {
        guard self.baseOffset == 0 else {
            throw RecordBatchError(.invalidRecord, "a producer batch must have baseOffset 0, not \(self.baseOffset)")
        }
        guard self.recordCount > 0, Int64(self.lastOffsetDelta) + 1 == Int64(self.recordCount) else {
            throw RecordBatchError(
                .invalidRecordCount,
                "producer batch with recordCount \(self.recordCount) and lastOffsetDelta \(self.lastOffsetDelta)"
            )
        }
        let attributes = self.attributes
        guard !attributes.isControl else {
            throw RecordBatchError(.invalidRecord, "clients may not write control batches")
        }
        guard attributes.timestampType == .createTime else {
            throw RecordBatchError(.invalidTimestamp, "a producer batch claims LogAppendTime")
        }
        guard self.producerId < 0 || self.baseSequence >= 0 else {
            throw RecordBatchError(
                .invalidProducerState,
                "producerId \(self.producerId) with baseSequence \(self.baseSequence)"
            )
        }
    }

    // MARK: Records

    /// The records section, decompressed when the codec is not none. `decompressionLimit` bounds the
    /// decompressed size in bytes; an uncompressed section is returned as is, whatever its size.
    public func uncompressedRecordsSection(decompressionLimit: Int) throws(RecordBatchError) -> ByteBuffer {
        precondition(decompressionLimit >= 0, "negative decompression limit \(decompressionLimit)")
        let attributes = self.attributes
        guard let codec = attributes.codec else {
            throw RecordBatchError(.unsupportedCompression, "codec bits \(attributes.codecBits) name no codec")
        }
        if codec == .none {
            return self.recordsSection
        }
        do {
            return try Compression.decompress(self.recordsSection, codec: codec, limit: decompressionLimit)
        } catch {
            switch error.code {
            case .outputLimitExceeded:
                throw RecordBatchError(
                    .decompressionLimitExceeded,
                    "\(codec) records exceed \(decompressionLimit) bytes when decompressed",
                    cause: error
                )
            case .unsupportedCodec:
                throw RecordBatchError(.unsupportedCompression, "cannot decompress \(codec)", cause: error)
            default:
                throw RecordBatchError(.decompressionFailed, "\(codec) records do not decompress", cause: error)
            }
        }
    }

    /// A reader that decodes the records one at a time. Decompresses first (bounded by
    /// `decompressionLimit` bytes) when the codec is not none.
    public func makeRecordReader(decompressionLimit: Int) throws(RecordBatchError) -> RecordReader {
        let context = try self.recordSectionContext()
        return RecordReader(
            records: try self.uncompressedRecordsSection(decompressionLimit: decompressionLimit),
            context: context
        )
    }

    /// All records, validated up front so the returned sequence cannot fail while iterating. Costs a
    /// validation walk more than `makeRecordReader`.
    public func records(decompressionLimit: Int) throws(RecordBatchError) -> RecordSequence {
        let context = try self.recordSectionContext()
        let records = try self.uncompressedRecordsSection(decompressionLimit: decompressionLimit)
        try context.validate(records)
        return RecordSequence(validatedReader: RecordReader(records: records, context: context))
    }

    /// Walks the records checking every length, varint and offset delta, and that exactly
    /// `recordCount` records fill the section, without building `Record` values. This is the
    /// broker's per-record check on produce; it does not re-check the CRC (see `validate()`).
    public func validateRecords(decompressionLimit: Int) throws(RecordBatchError) {
        let context = try self.recordSectionContext()
        try context.validate(try self.uncompressedRecordsSection(decompressionLimit: decompressionLimit))
    }

    func recordSectionContext() throws(RecordBatchError) -> RecordSectionContext {
        let recordCount = self.recordCount
        guard recordCount >= 0 else {
            throw RecordBatchError(.invalidRecordCount, "negative recordCount \(recordCount)")
        }
        let attributes = self.attributes
        return RecordSectionContext(
            baseOffset: self.baseOffset,
            baseTimestampMs: self.baseTimestampMs,
            logAppendTimeMs: attributes.timestampType == .logAppendTime ? self.maxTimestampMs : nil,
            lastOffsetDelta: self.lastOffsetDelta,
            recordCount: Int(recordCount)
        )
    }

    // MARK: Patching

    /// Sets the first offset (the broker assigns the log end offset on append). Outside the CRC, so
    /// the stored CRC stays valid.
    public mutating func setBaseOffset(_ baseOffset: Int64) {
        precondition(baseOffset >= 0, "negative base offset \(baseOffset)")
        self.setField(baseOffset, at: FieldOffset.baseOffset)
    }

    /// Sets the leader epoch of the partition the batch is appended to. Outside the CRC.
    public mutating func setPartitionLeaderEpoch(_ epoch: Int32) {
        self.setField(epoch, at: FieldOffset.partitionLeaderEpoch)
    }

    /// Marks the batch as LogAppendTime with `timestampMs` as its append time (stored in
    /// maxTimestamp, which every record then reports), and rewrites the CRC, which covers both.
    public mutating func setMaxTimestampAndLogAppendTime(_ timestampMs: Int64) {
        var attributes = self.attributes
        attributes.timestampType = .logAppendTime
        self.setField(attributes.rawValue, at: FieldOffset.attributes)
        self.setField(timestampMs, at: FieldOffset.maxTimestamp)
        self.setField(self.computeCRC(), at: FieldOffset.crc)
    }

    private mutating func setField<Integer: FixedWidthInteger>(_ value: Integer, at offset: Int) {
        self.buffer.setInteger(value, at: self.buffer.readerIndex + offset)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

extension RecordBatch {
    /// The batch's attribute bits.
    public struct Attributes: Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int16

        static let codecMask: Int16 = 0x07
        static let logAppendTimeBit: Int16 = 1 << 3
        static let transactionalBit: Int16 = 1 << 4
        static let controlBit: Int16 = 1 << 5
        static let deleteHorizonBit: Int16 = 1 << 6

        public init(rawValue: Int16) {
            self.rawValue = rawValue
        }

        public init(
            codec: CompressionCodec = .none,
            timestampType: TimestampType = .createTime,
            isTransactional: Bool = false,
            isControl: Bool = false,
            hasDeleteHorizon: Bool = false
        ) {
            self.rawValue = Int16(codec.rawValue)
            self.timestampType = timestampType
            self.isTransactional = isTransactional
            self.isControl = isControl
            self.hasDeleteHorizon = hasDeleteHorizon
        }

        /// Bits 0–2 as stored (0–7).
        public var codecBits: Int { Int(self.rawValue & Self.codecMask) }

        /// The codec of the records section; nil for the undefined values 5–7.
        public var codec: CompressionCodec? {
            get { CompressionCodec(rawValue: Int8(self.codecBits)) }
            set { self.rawValue = (self.rawValue & ~Self.codecMask) | Int16(newValue?.rawValue ?? 0) }
        }

        public var timestampType: TimestampType {
            get { self.rawValue & Self.logAppendTimeBit != 0 ? .logAppendTime : .createTime }
            set { self.setBit(Self.logAppendTimeBit, newValue == .logAppendTime) }
        }

        public var isTransactional: Bool {
            get { self.rawValue & Self.transactionalBit != 0 }
            set { self.setBit(Self.transactionalBit, newValue) }
        }

        /// A control batch carries transaction markers; consumers skip it.
        public var isControl: Bool {
            get { self.rawValue & Self.controlBit != 0 }
            set { self.setBit(Self.controlBit, newValue) }
        }

        /// The log cleaner stored a delete horizon in baseTimestamp.
        public var hasDeleteHorizon: Bool {
            get { self.rawValue & Self.deleteHorizonBit != 0 }
            set { self.setBit(Self.deleteHorizonBit, newValue) }
        }

        private mutating func setBit(_ bit: Int16, _ isSet: Bool) {
            self.rawValue = isSet ? self.rawValue | bit : self.rawValue & ~bit
        }

        public var description: String {
            var parts = [self.codec.map { "\($0)" } ?? "codec \(self.codecBits)", "\(self.timestampType)"]
            if self.isTransactional { parts.append("transactional") }
            if self.isControl { parts.append("control") }
            if self.hasDeleteHorizon { parts.append("deleteHorizon") }
            return parts.joined(separator: ", ")
        }
    }

    /// What a batch's timestamps mean.
    public enum TimestampType: Hashable, Sendable {
        /// Record timestamps were set by the producer.
        case createTime
        /// The broker's append time, stored in maxTimestamp, applies to every record.
        case logAppendTime
    }
}
