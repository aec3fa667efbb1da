public import NIOCore
public import TernCompression

/// Builds one v2 record batch, the way a producer does.
///
/// Records are encoded straight into the output buffer as they are appended (offset deltas 0, 1, 2,
/// …; timestamp deltas against the first record's timestamp). `build()` compresses the records
/// section with the codec if there is one, then fills in the header: lastOffsetDelta, base and max
/// timestamps, recordCount, batchLength and the CRC. See `RecordBatch` for the layout.
///
///     var builder = RecordBatchBuilder(codec: .lz4, producerId: 7, producerEpoch: 0, baseSequence: 0)
///     builder.append(key: key, value: value, timestampMs: now)
///     let batch: ByteBuffer = try builder.build()
public struct RecordBatchBuilder: Sendable {
    private var buffer: ByteBuffer
    private let attributes: RecordBatch.Attributes
    private let compressionLevel: Int?
    private let allocator: ByteBufferAllocator
    private var producerId: Int64
    private var producerEpoch: Int16
    private var baseSequence: Int32
    private let baseOffset: Int64
    private let partitionLeaderEpoch: Int32
    private var baseTimestampMs: Int64 = 0
    private var maxTimestampMs: Int64 = 0

    /// Records appended so far.
    public private(set) var recordCount: Int = 0

    /// - Parameters:
    ///   - codec: Compression of the records section.
    ///   - compressionLevel: The codec's level, as Kafka's `compression.<codec>.level` (nil: the
    ///     codec's default; see `Compression.compress(_:codec:level:)`).
    ///   - isTransactional: Sets the transactional bit (needs a producer id).
    ///   - isControl: Sets the control bit; only the broker writes control batches.
    ///   - producerId, producerEpoch, baseSequence: Idempotence state; -1 when not idempotent.
    ///   - baseOffset: 0 for a producer; the broker overwrites it on append.
    ///   - partitionLeaderEpoch: -1 for a producer; the broker overwrites it on append.
    ///   - initialCapacityBytes: Expected size of the uncompressed batch, reserved up front so appends
    ///     do not reallocate. The buffer still grows past it as needed.
    public init(
        codec: CompressionCodec = .none,
        compressionLevel: Int? = nil,
        isTransactional: Bool = false,
        isControl: Bool = false,
        producerId: Int64 = -1,
        producerEpoch: Int16 = -1,
        baseSequence: Int32 = -1,
        baseOffset: Int64 = 0,
        partitionLeaderEpoch: Int32 = -1,
        initialCapacityBytes: Int = 16 * 1024,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) {
        self.attributes = RecordBatch.Attributes(codec: codec, isTransactional: isTransactional, isControl: isControl)
        self.compressionLevel = compressionLevel
        self.allocator = allocator
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.baseOffset = baseOffset
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.buffer = allocator.buffer(capacity: max(initialCapacityBytes, RecordBatch.headerByteCount))
        // Placeholder for the header, filled in by `build()`.
        self.buffer.writeRepeatingByte(0, count: RecordBatch.headerByteCount)
    }

    /// Sets the idempotence fields written by `build()`. A producer assigns sequence numbers when
    /// it sends a batch, not when it opens one, so that batches that never leave do not leave gaps.
    public mutating func setProducerState(producerId: Int64, producerEpoch: Int16, baseSequence: Int32) {
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
    }

    /// Size of the batch built so far before compression: header plus encoded records. A producer
    /// compares it against its batch size limit.
    public var uncompressedByteCount: Int { self.buffer.readableBytes }

    /// Appends a record. nil `key` or `value` is encoded as null (length -1); an empty buffer as an
    /// empty key or value.
    public mutating func append(
        key: ByteBuffer?,
        value: ByteBuffer?,
        headers: [RecordHeader] = [],
        timestampMs: Int64
    ) {
        precondition(self.recordCount < Int(Int32.max), "a record batch holds at most Int32.max records")
        if self.recordCount == 0 {
            self.baseTimestampMs = timestampMs
            self.maxTimestampMs = timestampMs
        } else if timestampMs > self.maxTimestampMs {
            self.maxTimestampMs = timestampMs
        }
        let keyLength = Self.encodedLength(key)
        let valueLength = Self.encodedLength(value)
        // Wrapping: extreme timestamps (e.g. -1 next to a real time) round-trip through `&+` on read.
        let timestampDelta = ZigZag.encode(timestampMs &- self.baseTimestampMs)
        let offsetDelta = ZigZag.encode(Int32(self.recordCount))
        let encodedKeyLength = ZigZag.encode(keyLength)
        let encodedValueLength = ZigZag.encode(valueLength)
        let encodedHeaderCount = ZigZag.encode(Int32(headers.count))

        var headersByteCount = ZigZag.byteCount(encodedHeaderCount)
        for header in headers {
            let headerKeyLength = header.key.utf8.count
            let headerValueLength = Self.encodedLength(header.value)
            headersByteCount += ZigZag.byteCount(ZigZag.encode(Int32(headerKeyLength))) + headerKeyLength
            headersByteCount += ZigZag.byteCount(ZigZag.encode(headerValueLength)) + max(Int(headerValueLength), 0)
        }
        let bodyLength =
            1 + ZigZag.byteCount(timestampDelta) + ZigZag.byteCount(offsetDelta)
            + ZigZag.byteCount(encodedKeyLength) + max(Int(keyLength), 0)
            + ZigZag.byteCount(encodedValueLength) + max(Int(valueLength), 0)
            + headersByteCount
        precondition(bodyLength <= Int(Int32.max), "record of \(bodyLength) bytes exceeds the format's limit")
        let encodedBodyLength = ZigZag.encode(Int32(bodyLength))
        let recordLength = ZigZag.byteCount(encodedBodyLength) + bodyLength

        // One capacity check for the whole record; headers (rare) go through ByteBuffer's writers.
        self.buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: recordLength) { output in
            let start = output.baseAddress!
            var index = ZigZag.write(encodedBodyLength, to: start, at: 0)
            start.storeBytes(of: 0, toByteOffset: index, as: UInt8.self)  // record attributes, unused
            index += 1
            index = ZigZag.write(timestampDelta, to: start, at: index)
            index = ZigZag.write(offsetDelta, to: start, at: index)
            index = ZigZag.write(encodedKeyLength, to: start, at: index)
            index = Self.copy(key, to: start, at: index)
            index = ZigZag.write(encodedValueLength, to: start, at: index)
            index = Self.copy(value, to: start, at: index)
            index = ZigZag.write(encodedHeaderCount, to: start, at: index)
            return index
        }
        for header in headers {
            self.writeVarint(ZigZag.encode(Int32(header.key.utf8.count)))
            self.buffer.writeString(header.key)
            self.writeVarint(ZigZag.encode(Self.encodedLength(header.value)))
            if let value = header.value {
                self.buffer.writeImmutableBuffer(value)
            }
        }
        self.recordCount += 1
    }

    /// The finished batch, as readable bytes of a buffer the caller owns.
    ///
    /// - Throws: `.invalidRecordCount` without records (Kafka refuses empty producer batches),
    ///   `.unsupportedCompression` if the codec is not available, `.invalidLength` if the batch
    ///   would exceed the 2 GiB the format can describe.
    public consuming func build() throws(RecordBatchError) -> ByteBuffer {
        guard self.recordCount > 0 else {
            throw RecordBatchError(.invalidRecordCount, "a record batch needs at least one record")
        }
        // Take the buffer out of `self` so it is uniquely referenced and the header writes below do
        // not copy it.
        var batch = self.buffer
        self.buffer = ByteBuffer()

        let codec = self.attributes.codec ?? .none
        if codec != .none {
            let records = batch.getSlice(
                at: batch.readerIndex + RecordBatch.headerByteCount,
                length: batch.readableBytes - RecordBatch.headerByteCount
            )!
            var compressedBatch = self.allocator.buffer(capacity: RecordBatch.headerByteCount)
            compressedBatch.writeRepeatingByte(0, count: RecordBatch.headerByteCount)
            do {
                try Compression.compress(records, codec: codec, level: self.compressionLevel, into: &compressedBatch)
            } catch {
                let code: RecordBatchError.Code =
                    error.code == .unsupportedCodec ? .unsupportedCompression : .compressionFailed
                throw RecordBatchError(code, "cannot compress records with \(codec)", cause: error)
            }
            // The codec sized the buffer for incompressible input. A producer holds the batch until
            // it is acknowledged, so give back the unused space when it is most of the buffer.
            if compressedBatch.capacity > 2 * max(compressedBatch.readableBytes, 4096) {
                compressedBatch = self.allocator.buffer(buffer: compressedBatch)
            }
            batch = compressedBatch
        }
        let start = batch.readerIndex

        let batchLength = batch.readableBytes - RecordBatch.logOverheadByteCount
        guard batchLength <= Int(Int32.max) else {
            throw RecordBatchError(.invalidLength, "batch of \(batch.readableBytes) bytes exceeds the format's limit")
        }
        typealias Offset = RecordBatch.FieldOffset
        batch.setInteger(self.baseOffset, at: start + Offset.baseOffset)
        batch.setInteger(Int32(batchLength), at: start + Offset.batchLength)
        batch.setInteger(self.partitionLeaderEpoch, at: start + Offset.partitionLeaderEpoch)
        batch.setInteger(RecordBatch.currentMagic, at: start + Offset.magic)
        batch.setInteger(self.attributes.rawValue, at: start + Offset.attributes)
        batch.setInteger(Int32(self.recordCount - 1), at: start + Offset.lastOffsetDelta)
        batch.setInteger(self.baseTimestampMs, at: start + Offset.baseTimestamp)
        batch.setInteger(self.maxTimestampMs, at: start + Offset.maxTimestamp)
        batch.setInteger(self.producerId, at: start + Offset.producerId)
        batch.setInteger(self.producerEpoch, at: start + Offset.producerEpoch)
        batch.setInteger(self.baseSequence, at: start + Offset.baseSequence)
        batch.setInteger(Int32(self.recordCount), at: start + Offset.recordCount)
        let crc = CRC32C.checksum(
            batch,
            at: start + Offset.crcCoverageStart,
            length: batch.readableBytes - Offset.crcCoverageStart
        )!
        batch.setInteger(crc, at: start + Offset.crc)
        return batch
    }

    /// -1 for null, else the byte count (which must fit the format's Int32 lengths).
    @inline(__always)
    private static func encodedLength(_ bytes: ByteBuffer?) -> Int32 {
        guard let bytes else { return -1 }
        precondition(bytes.readableBytes <= Int(Int32.max), "field of \(bytes.readableBytes) bytes exceeds Int32")
        return Int32(bytes.readableBytes)
    }

    @inline(__always)
    private static func copy(_ bytes: ByteBuffer?, to output: UnsafeMutableRawPointer, at index: Int) -> Int {
        guard let bytes, bytes.readableBytes > 0 else { return index }
        bytes.withUnsafeReadableBytes { source in
            (output + index).copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        return index + bytes.readableBytes
    }

    private mutating func writeVarint(_ encoded: UInt64) {
        self.buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: ZigZag.byteCount(encoded)) { output in
            ZigZag.write(encoded, to: output.baseAddress!, at: 0)
        }
    }
}
