public import NIOCore
public import TernCompression

/// One message of a legacy message set (magic 0 or 1), with compressed wrappers unpacked: a record
/// that arrived inside a compressed wrapper appears here as the inner message, carrying the
/// wrapper's codec.
public struct LegacyRecord: Hashable, Sendable {
    /// The offset as the set gives it. For messages inside a magic 1 wrapper, inner offsets are
    /// relative and made absolute against the wrapper's offset (the offset of the last inner
    /// message), as Kafka's `AbstractLegacyRecordBatch.DeepRecordsIterator` does, and left as they
    /// are when that would give a negative base (producers write wrapper offset 0). A broker assigns
    /// its own offsets on append, so produced offsets matter only for reading a fetch response.
    public var offset: Int64
    /// The message's timestamp (magic 1); -1 (Kafka's NO_TIMESTAMP) for magic 0. Inside a magic 1
    /// wrapper marked LogAppendTime, the wrapper's timestamp, as Kafka's `LegacyRecord.timestamp()`.
    public var timestampMs: Int64
    /// What the timestamp means (attribute bit 3, or the wrapper's for inner messages); nil for
    /// magic 0, which has no timestamps (Kafka's NO_TIMESTAMP_TYPE).
    public var timestampType: RecordBatch.TimestampType?
    /// nil for a null key.
    public var key: ByteBuffer?
    /// nil for a null value.
    public var value: ByteBuffer?
    /// 0 or 1.
    public var magic: Int8
    /// The codec of the wrapper the message came in; `.none` for a message that was not compressed.
    public var codec: CompressionCodec

    public init(
        offset: Int64,
        timestampMs: Int64,
        timestampType: RecordBatch.TimestampType?,
        key: ByteBuffer?,
        value: ByteBuffer?,
        magic: Int8,
        codec: CompressionCodec
    ) {
        self.offset = offset
        self.timestampMs = timestampMs
        self.timestampType = timestampType
        self.key = key
        self.value = value
        self.magic = magic
        self.codec = codec
    }
}

/// Kafka's message formats before record batches: magic 0 (Kafka 0.8) and magic 1 (0.10, adds a
/// timestamp), which Produce v0–v2 and Fetch v0–v3 carry. As Kafka 3.x does, a broker converts a
/// produced message set to a v2 batch on append (`parse` then `convertToBatch`) and down-converts
/// v2 batches when a fetch version cannot read them (`downConvert`: magic 0 for Fetch v0–1,
/// magic 1 for Fetch v2–3).
///
/// Layout of one entry (big-endian); a message set is entries laid end to end:
///
///     offset     int64  absolute (or, inside a magic 1 wrapper, relative) offset
///     size       int32  bytes after this field
///     crc        uint32 CRC-32 (IEEE) of magic … end
///     magic      int8   0 or 1
///     attributes int8   bits 0–2 codec (0 none, 1 gzip, 2 snappy, 3 lz4), bit 3 LogAppendTime (magic 1)
///     timestamp  int64  magic 1 only
///     key        int32 length (-1 null) + bytes
///     value      int32 length (-1 null) + bytes
///
/// A compressed entry is a wrapper whose value is a whole message set, compressed; its inner
/// messages are themselves uncompressed.
public enum LegacyMessageSet {
    /// offset + size: the bytes before what `size` counts.
    public static let logOverheadByteCount = 12

    /// crc + magic + attributes + [timestamp] + key length + value length: the smallest `size`.
    public static func recordOverheadByteCount(magic: Int8) -> Int {
        magic == 0 ? 14 : 22
    }

    private static let codecMask: Int8 = 0x07
    private static let logAppendTimeBit: Int8 = 0x08

    /// The magic byte of the first entry or batch of a `records` field (the same position, byte 16,
    /// in every format), or nil when the bytes are too short to hold it. A Produce or Fetch path
    /// uses it to tell a legacy message set (0, 1) from record batches (2).
    public static func magic(of records: ByteBuffer) -> Int8? {
        records.getInteger(at: records.readerIndex + 16, as: Int8.self)
    }

    // MARK: Parsing

    /// Reads a message set as a producer sends it, unpacking compressed wrappers.
    ///
    /// Every message's CRC is checked, the inner ones' too. Refused, like Kafka's broker does: a set
    /// that ends inside an entry (`.truncated`; Kafka drops a partial entry only at the end of a
    /// fetch response, never in a produce request), a size below the format's overhead or lengths
    /// that do not fit the entry (`.invalidLength`, `.invalidRecord`), a magic other than 0 or 1
    /// (`.invalidMagic`), a CRC mismatch (`.crcMismatch`, CORRUPT_MESSAGE), a compressed message
    /// inside a wrapper, an inner magic that is not the wrapper's, a wrapper with a null value or no
    /// inner messages (`.invalidRecord`), zstd or an undefined codec (`.unsupportedCompression`:
    /// zstd needs magic 2).
    ///
    /// - Parameter decompressionLimit: Bounds the bytes decompressed for all wrappers of the set
    ///   together; beyond it, `.decompressionLimitExceeded`. Uncompressed entries do not count.
    /// - Returns: The messages in order; keys and values are slices of `bytes` or of the
    ///   decompressed inner sets.
    public static func parse(_ bytes: ByteBuffer, decompressionLimit: Int) throws(RecordBatchError) -> [LegacyRecord] {
        precondition(decompressionLimit >= 0, "negative decompression limit \(decompressionLimit)")
        var records: [LegacyRecord] = []
        var remainingLimit = decompressionLimit
        var index = bytes.readerIndex
        while index < bytes.writerIndex {
            let entry = try Self.readEntry(bytes, at: index, inWrapperOfMagic: nil)
            index = entry.end
            guard let codec = entry.codec else {
                throw RecordBatchError(
                    .unsupportedCompression,
                    "message at offset \(entry.offset) has codec bits \(entry.codecBits), which name no codec"
                )
            }
            guard codec != .none else {
                records.append(entry.record(codec: .none))
                continue
            }
            try Self.unpackWrapper(entry, codec: codec, remainingLimit: &remainingLimit, into: &records)
        }
        return records
    }

    /// One entry's fields, located and checked.
    private struct Entry {
        var offset: Int64
        var magic: Int8
        /// nil for the undefined codec values 5–7.
        var codec: CompressionCodec?
        var codecBits: Int8
        var timestampType: RecordBatch.TimestampType?
        var timestampMs: Int64
        var key: ByteBuffer?
        var value: ByteBuffer?
        /// Index just past the entry.
        var end: Int

        func record(codec: CompressionCodec) -> LegacyRecord {
            LegacyRecord(
                offset: self.offset,
                timestampMs: self.timestampMs,
                timestampType: self.timestampType,
                key: self.key,
                value: self.value,
                magic: self.magic,
                codec: codec
            )
        }
    }

    /// Reads and checks the entry at `index`. Every length is checked against the bytes left
    /// before anything is sliced, so hostile lengths cannot make it allocate or read out of bounds.
    private static func readEntry(
        _ bytes: ByteBuffer,
        at index: Int,
        inWrapperOfMagic wrapperMagic: Int8?
    ) throws(RecordBatchError) -> Entry {
        let kind = wrapperMagic == nil ? "message" : "inner message"
        let available = bytes.writerIndex - index
        guard available >= Self.logOverheadByteCount else {
            throw RecordBatchError(.truncated, "\(available) bytes hold only part of a \(kind) header")
        }
        let offset = bytes.getInteger(at: index, as: Int64.self)!
        let size = Int(bytes.getInteger(at: index + 8, as: Int32.self)!)
        let minimumSize = Self.recordOverheadByteCount(magic: 0)
        guard size >= minimumSize else {
            throw RecordBatchError(
                .invalidLength,
                "\(kind) at offset \(offset) has size \(size), below the \(minimumSize) bytes of a message"
            )
        }
        let start = index + Self.logOverheadByteCount
        let end = start + size
        // The magic first, so a v2 batch or garbage is named as such rather than as truncated.
        if available > Self.logOverheadByteCount + 4 {
            let magic = bytes.getInteger(at: start + 4, as: Int8.self)!
            guard magic == 0 || magic == 1 else {
                throw RecordBatchError(.invalidMagic, "\(kind) at offset \(offset) has magic \(magic), not 0 or 1")
            }
        }
        guard size <= available - Self.logOverheadByteCount else {
            throw RecordBatchError(
                .truncated,
                "\(kind) at offset \(offset) of \(size) bytes, but only \(available - Self.logOverheadByteCount) remain"
            )
        }
        let magic = bytes.getInteger(at: start + 4, as: Int8.self)!
        guard size >= Self.recordOverheadByteCount(magic: magic) else {
            throw RecordBatchError(
                .invalidLength,
                "magic \(magic) \(kind) at offset \(offset) has size \(size), below the "
                    + "\(Self.recordOverheadByteCount(magic: magic)) bytes of its header"
            )
        }
        let storedCRC = bytes.getInteger(at: start, as: UInt32.self)!
        let computedCRC = CRC32IEEE.checksum(bytes, at: start + 4, length: size - 4)!
        guard storedCRC == computedCRC else {
            throw RecordBatchError(
                .crcMismatch,
                "\(kind) at offset \(offset): stored CRC \(Self.hex(storedCRC)) but its bytes give "
                    + Self.hex(computedCRC)
            )
        }
        if let wrapperMagic, magic != wrapperMagic {
            throw RecordBatchError(
                .invalidRecord,
                "compressed message magic \(magic) does not match wrapper magic \(wrapperMagic)"
            )
        }
        let attributes = bytes.getInteger(at: start + 5, as: Int8.self)!
        var position = start + 6
        var timestampMs: Int64 = -1
        var timestampType: RecordBatch.TimestampType?
        if magic == 1 {
            timestampMs = bytes.getInteger(at: position, as: Int64.self)!
            timestampType = attributes & Self.logAppendTimeBit != 0 ? .logAppendTime : .createTime
            position += 8
        }
        let key = try Self.readBytesField(bytes, at: &position, end: end, lengthsAfter: 4, "key", offset: offset)
        let value = try Self.readBytesField(bytes, at: &position, end: end, lengthsAfter: 0, "value", offset: offset)
        guard position == end else {
            throw RecordBatchError(
                .invalidRecord,
                "\(end - position) bytes follow the value of message at offset \(offset)"
            )
        }
        let codecBits = attributes & Self.codecMask
        return Entry(
            offset: offset,
            magic: magic,
            codec: CompressionCodec(rawValue: codecBits),
            codecBits: codecBits,
            timestampType: timestampType,
            timestampMs: timestampMs,
            key: key,
            value: value,
            end: end
        )
    }

    /// Reads an int32-length-prefixed bytes field (-1 null) that must end, with `lengthsAfter`
    /// bytes of fields still to come, by `end`.
    private static func readBytesField(
        _ bytes: ByteBuffer,
        at position: inout Int,
        end: Int,
        lengthsAfter: Int,
        _ name: String,
        offset: Int64
    ) throws(RecordBatchError) -> ByteBuffer? {
        // The header size check guarantees the length itself is there.
        let length = Int(bytes.getInteger(at: position, as: Int32.self)!)
        position += 4
        guard length >= -1, length <= end - position - lengthsAfter else {
            throw RecordBatchError(
                .invalidRecord,
                "\(name) length \(length) of message at offset \(offset) does not fit the "
                    + "\(end - position - lengthsAfter) bytes left"
            )
        }
        guard length >= 0 else { return nil }
        defer { position += length }
        return bytes.getSlice(at: position, length: length)!
    }

    /// Decompresses a wrapper's value and appends its inner messages.
    private static func unpackWrapper(
        _ wrapper: Entry,
        codec: CompressionCodec,
        remainingLimit: inout Int,
        into records: inout [LegacyRecord]
    ) throws(RecordBatchError) {
        guard let compressed = wrapper.value else {
            throw RecordBatchError(
                .invalidRecord,
                "compressed message at offset \(wrapper.offset) has a null value (magic \(wrapper.magic))"
            )
        }
        let inner = try Self.decompress(compressed, codec: codec, magic: wrapper.magic, limit: remainingLimit)
        remainingLimit -= inner.readableBytes
        let first = records.count
        var index = inner.readerIndex
        while index < inner.writerIndex {
            let entry = try Self.readEntry(inner, at: index, inWrapperOfMagic: wrapper.magic)
            index = entry.end
            guard entry.codecBits == 0 else {
                throw RecordBatchError(
                    .invalidRecord,
                    "compressed message at offset \(wrapper.offset) holds a compressed message "
                        + "(codec bits \(entry.codecBits))"
                )
            }
            var record = entry.record(codec: codec)
            // Kafka's LegacyRecord.timestamp(): a LogAppendTime wrapper's timestamp applies to
            // every inner message, and the wrapper's timestamp type to all of them.
            if wrapper.magic == 1 {
                record.timestampType = wrapper.timestampType
                if wrapper.timestampType == .logAppendTime {
                    record.timestampMs = wrapper.timestampMs
                }
            }
            records.append(record)
        }
        guard records.count > first else {
            throw RecordBatchError(.invalidRecord, "compressed message at offset \(wrapper.offset) holds no messages")
        }
        // Magic 1 inner offsets are relative; the wrapper holds the last inner message's absolute
        // offset. Applied only when the base is not negative, as Kafka does.
        if wrapper.magic == 1 {
            let base = wrapper.offset &- records[records.count - 1].offset
            if base >= 0 {
                for position in first..<records.count {
                    records[position].offset = base &+ records[position].offset
                }
            }
        }
    }

    private static func decompress(
        _ compressed: ByteBuffer,
        codec: CompressionCodec,
        magic: Int8,
        limit: Int
    ) throws(RecordBatchError) -> ByteBuffer {
        guard codec != .zstd else {
            throw RecordBatchError(.unsupportedCompression, "zstd needs magic 2; this message has magic \(magic)")
        }
        var input = compressed
        if codec == .lz4 && magic == 0 {
            input = LegacyLZ4.repairingHeaderChecksum(input)
        }
        do {
            return try Compression.decompress(input, codec: codec, limit: limit)
        } catch {
            switch error.code {
            case .outputLimitExceeded:
                throw RecordBatchError(
                    .decompressionLimitExceeded,
                    "\(codec) message set exceeds the \(limit) bytes left of the decompression limit",
                    cause: error
                )
            case .unsupportedCodec:
                throw RecordBatchError(.unsupportedCompression, "cannot decompress \(codec)", cause: error)
            default:
                throw RecordBatchError(.decompressionFailed, "\(codec) message set does not decompress", cause: error)
            }
        }
    }

    // MARK: Up-conversion

    /// One v2 batch holding `records` in order, as Kafka's `LogValidator` converts a legacy
    /// message set on append (`convertAndAssignOffsetsNonCompressed` and the compressed path):
    /// producer id, epoch and base sequence -1, offsets 0, 1, 2, … (the broker assigns real ones on
    /// append), keys and values kept, no headers, CreateTime.
    ///
    /// Timestamps are kept as they are, including -1 (NO_TIMESTAMP) for magic 0 messages: Kafka's
    /// `MemoryRecordsBuilder.appendWithOffset(offset, record)` copies `record.timestamp()`, which is
    /// NO_TIMESTAMP for magic 0, and `LogValidator` only checks timestamps that are not
    /// NO_TIMESTAMP. `nowMs` is therefore not written into any record: Kafka uses its `now` only as
    /// the append time of LogAppendTime topics, which the log applies to this batch as to any v2
    /// batch, and for the timestamp-difference check, which is the log's too.
    ///
    /// - Parameter codec: The new batch's codec; Kafka keeps the producer's (the wrappers') codec
    ///   unless the topic's `compression.type` names another.
    /// - Throws: `.invalidRecordCount` for no records (`RecordBatchBuilder`), `.unsupportedCompression`
    ///   or `.compressionFailed` from the codec.
    public static func convertToBatch(
        _ records: [LegacyRecord],
        codec: CompressionCodec,
        nowMs: Int64
    ) throws(RecordBatchError) -> ByteBuffer {
        // A v2 record costs at most ~21 bytes of framing besides its key and value.
        var capacity = RecordBatch.headerByteCount
        for record in records {
            capacity += 21 + (record.key?.readableBytes ?? 0) + (record.value?.readableBytes ?? 0)
        }
        var builder = RecordBatchBuilder(codec: codec, initialCapacityBytes: capacity)
        for record in records {
            builder.append(key: record.key, value: record.value, timestampMs: record.timestampMs)
        }
        return try builder.build()
    }

    // MARK: Down-conversion

    /// Rewrites the v2 batches of a `records` field (a fetch response's, or a log read) as a legacy
    /// message set of magic `toMagic`, as Kafka's `RecordsUtil.downConvert` does for Fetch v0–3:
    /// each record becomes one uncompressed entry with its absolute offset, its key and value, and
    /// for magic 1 its timestamp (with attribute bit 3 when the batch is LogAppendTime, whose
    /// append time each record then reports); headers are dropped, as the legacy formats have none.
    ///
    /// Control batches (transaction markers) are skipped, as are records below `firstOffset`
    /// (Kafka drops those from uncompressed batches, since a magic 0/1 consumer expects none before
    /// its fetch offset; every entry written here is uncompressed). A partial batch at the end (a
    /// fetch cut at its size limit) is ignored.
    ///
    /// Unlike Kafka, the output is never compressed: Kafka writes a compressed wrapper per
    /// compressed batch and refuses zstd batches (UNSUPPORTED_COMPRESSION_TYPE) because a legacy
    /// consumer could not read them; written uncompressed, they down-convert like any other batch.
    /// The CRC of the v2 batches is not checked (they come from the log, which checked them on
    /// append); their records are decoded and checked as they are read.
    ///
    /// - Parameters:
    ///   - toMagic: 0 (Fetch v0–1) or 1 (Fetch v2–3).
    ///   - firstOffset: The fetch offset; records before it are left out.
    ///   - decompressionLimit: Bounds the decompressed records of each batch.
    /// - Throws: What reading the batches throws (framing, decompression, malformed records);
    ///   `.invalidLength` for a record too large for a legacy entry.
    public static func downConvert(
        _ batches: ByteBuffer,
        toMagic: Int8,
        firstOffset: Int64 = 0,
        decompressionLimit: Int
    ) throws(RecordBatchError) -> ByteBuffer {
        precondition(toMagic == 0 || toMagic == 1, "legacy magic is 0 or 1, not \(toMagic)")
        var reader = RecordBatchReader(batches)
        // Legacy framing costs 26–34 bytes a record against v2's ~8, and compressed batches grow
        // further; this first guess is only to save early reallocations.
        var output = ByteBufferAllocator().buffer(capacity: batches.readableBytes + batches.readableBytes / 2)
        while let batch = try reader.next() {
            let attributes = batch.attributes
            guard !attributes.isControl else { continue }
            // An uncompressed batch entirely before the fetch offset needs no decoding.
            guard batch.lastOffset >= firstOffset else { continue }
            let entryAttributes: Int8 =
                toMagic == 1 && attributes.timestampType == .logAppendTime ? Self.logAppendTimeBit : 0
            var records = try batch.makeRecordReader(decompressionLimit: decompressionLimit)
            while let record = try records.next() {
                guard record.offset >= firstOffset else { continue }
                try Self.writeEntry(
                    offset: record.offset,
                    magic: toMagic,
                    attributes: entryAttributes,
                    timestampMs: record.timestampMs,
                    key: record.key,
                    value: record.value,
                    to: &output
                )
            }
        }
        return output
    }

    /// Appends one legacy entry, CRC included. (Internal: down-conversion and tests.)
    static func writeEntry(
        offset: Int64,
        magic: Int8,
        attributes: Int8,
        timestampMs: Int64,
        key: ByteBuffer?,
        value: ByteBuffer?,
        to output: inout ByteBuffer
    ) throws(RecordBatchError) {
        let size = Self.recordOverheadByteCount(magic: magic) + (key?.readableBytes ?? 0) + (value?.readableBytes ?? 0)
        guard size <= Int(Int32.max) else {
            throw RecordBatchError(
                .invalidLength,
                "a \(size)-byte message at offset \(offset) exceeds the format's limit"
            )
        }
        output.reserveCapacity(minimumWritableBytes: Self.logOverheadByteCount + size)
        let start = output.writerIndex
        output.writeInteger(offset)
        output.writeInteger(Int32(size))
        output.writeInteger(UInt32(0))  // CRC, filled in below
        output.writeInteger(magic)
        output.writeInteger(attributes)
        if magic >= 1 {
            output.writeInteger(timestampMs)
        }
        Self.writeBytesField(key, to: &output)
        Self.writeBytesField(value, to: &output)
        let crcStart = start + Self.logOverheadByteCount
        let crc = CRC32IEEE.checksum(output, at: crcStart + 4, length: size - 4)!
        output.setInteger(crc, at: crcStart)
    }

    private static func writeBytesField(_ field: ByteBuffer?, to output: inout ByteBuffer) {
        if let field {
            output.writeInteger(Int32(field.readableBytes))
            output.writeImmutableBuffer(field)
        } else {
            output.writeInteger(Int32(-1))
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// The LZ4 framing of magic 0 message sets. Kafka 0.8–0.9's `KafkaLZ4BlockOutputStream` computed
/// the frame descriptor's header checksum over the 4-byte frame magic as well as the descriptor,
/// contrary to the LZ4 frame spec, and Kafka's `KafkaLZ4BlockInputStream` therefore ignores that
/// checksum for magic 0 (`ignoreFlagDescriptorChecksum`) and checks it for magic 1. liblz4 always
/// checks it, so for magic 0 the byte is replaced by the correct checksum before decoding, which
/// is the same as ignoring it. Everything else in the frame (blocks, content checksum) is standard.
enum LegacyLZ4 {
    static let frameMagic: UInt32 = 0x184D_2204

    /// `frame` with its header checksum byte set to the spec's value: the second byte of XXH32 (seed
    /// 0) of the frame descriptor (FLG, BD, optional content size and dictionary id). Unchanged when
    /// it does not start like an LZ4 frame; the decoder then reports what is wrong.
    static func repairingHeaderChecksum(_ frame: ByteBuffer) -> ByteBuffer {
        let start = frame.readerIndex
        guard frame.readableBytes >= 7,
            frame.getInteger(at: start, endianness: .little, as: UInt32.self) == Self.frameMagic
        else { return frame }
        let flags = frame.getInteger(at: start + 4, as: UInt8.self)!
        let descriptorCount = 2 + (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
        guard frame.readableBytes > 4 + descriptorCount else { return frame }
        let descriptor = frame.getBytes(at: start + 4, length: descriptorCount)!
        let checksum = UInt8(truncatingIfNeeded: XXH32.hash(descriptor) >> 8)
        var repaired = frame
        repaired.setInteger(checksum, at: start + 4 + descriptorCount)
        return repaired
    }
}

/// xxHash32, which the LZ4 frame format uses for its checksums. Only the frame header's few bytes
/// are hashed here, so a plain implementation is enough.
enum XXH32 {
    private static let prime1: UInt32 = 2_654_435_761
    private static let prime2: UInt32 = 2_246_822_519
    private static let prime3: UInt32 = 3_266_489_917
    private static let prime4: UInt32 = 668_265_263
    private static let prime5: UInt32 = 374_761_393

    static func hash(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        func lane(_ index: Int) -> UInt32 {
            UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16
                | UInt32(bytes[index + 3]) << 24
        }
        func rotl(_ value: UInt32, _ count: UInt32) -> UInt32 {
            value << count | value >> (32 - count)
        }
        func round(_ accumulator: UInt32, _ input: UInt32) -> UInt32 {
            rotl(accumulator &+ input &* prime2, 13) &* prime1
        }
        var index = 0
        var hash: UInt32
        if bytes.count >= 16 {
            var v1 = seed &+ prime1 &+ prime2
            var v2 = seed &+ prime2
            var v3 = seed
            var v4 = seed &- prime1
            while index + 16 <= bytes.count {
                v1 = round(v1, lane(index))
                v2 = round(v2, lane(index + 4))
                v3 = round(v3, lane(index + 8))
                v4 = round(v4, lane(index + 12))
                index += 16
            }
            hash = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
        } else {
            hash = seed &+ prime5
        }
        hash = hash &+ UInt32(truncatingIfNeeded: bytes.count)
        while index + 4 <= bytes.count {
            hash = rotl(hash &+ lane(index) &* prime3, 17) &* prime4
            index += 4
        }
        while index < bytes.count {
            hash = rotl(hash &+ UInt32(bytes[index]) &* prime5, 11) &* prime1
            index += 1
        }
        hash ^= hash >> 15
        hash = hash &* prime2
        hash ^= hash >> 13
        hash = hash &* prime3
        hash ^= hash >> 16
        return hash
    }
}
