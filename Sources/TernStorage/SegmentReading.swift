import NIOCore
import TernRecords

/// The header fields of a stored batch that seeking needs, read without loading the batch.
///
/// Field positions are those of `RecordBatch` (magic 2): baseOffset i64 at 0, batchLength i32 at 8,
/// partitionLeaderEpoch i32 at 12, lastOffsetDelta i32 at 23, maxTimestamp i64 at 35. Only batches the log validated before writing
/// them (or while recovering) are read this way, so the values are trusted; full batches go through
/// `RecordBatch`.
struct StoredBatchHeader: Hashable, Sendable {
    static let byteCount = 43

    var baseOffset: Int64
    var lastOffset: Int64
    var maxTimestampMs: Int64
    var byteCount: Int
    var partitionLeaderEpoch: Int32

    /// Reads a header at `index`; nil when fewer than `byteCount` bytes are there.
    init?(_ buffer: ByteBuffer, at index: Int) {
        guard buffer.writerIndex - index >= Self.byteCount else { return nil }
        self.baseOffset = buffer.getInteger(at: index, as: Int64.self)!
        self.byteCount = Int(buffer.getInteger(at: index + 8, as: Int32.self)!) + RecordBatch.logOverheadByteCount
        // Wrapping: a corrupt header must not trap; `BatchHeaderCursor.header()` refuses the result.
        self.lastOffset = self.baseOffset &+ Int64(buffer.getInteger(at: index + 23, as: Int32.self)!)
        self.maxTimestampMs = buffer.getInteger(at: index + 35, as: Int64.self)!
        self.partitionLeaderEpoch = buffer.getInteger(at: index + 12, as: Int32.self)!
    }
}

/// What a read needs from a segment, captured under the partition's lock so the file I/O can run
/// outside it. The bytes below `endPosition` never change (segments are append-only while the log
/// is open), so scanning them without the lock is safe.
struct SegmentSnapshot: Sendable {
    var file: any StorageFile
    var baseOffset: Int64
    /// A batch boundary at or before the batch being looked for (from the offset index).
    var scanStartPosition: Int
    /// The segment's size when captured: bytes past it are not yet (or never) part of the log.
    var endPosition: Int
}

/// Seeks batch headers forward through a segment file, reading it in windows so that a scan over
/// many small batches costs few system calls.
struct BatchHeaderCursor {
    private let file: any StorageFile
    private let endPosition: Int
    private var window: ByteBuffer
    private var windowPosition: Int
    private(set) var position: Int

    static let windowByteCount = 64 * 1024

    init(file: any StorageFile, startPosition: Int, endPosition: Int) {
        self.file = file
        self.endPosition = endPosition
        self.window = ByteBuffer()
        self.windowPosition = startPosition
        self.position = startPosition
    }

    /// The header of the batch at the cursor, or nil at the end.
    mutating func header() throws(StorageError) -> StoredBatchHeader? {
        guard self.position + StoredBatchHeader.byteCount <= self.endPosition else { return nil }
        let windowIndex = self.position - self.windowPosition
        if windowIndex < 0 || windowIndex + StoredBatchHeader.byteCount > self.window.writerIndex {
            let count = min(Self.windowByteCount, self.endPosition - self.position)
            self.window = try self.file.read(at: Int64(self.position), count: count)
            self.windowPosition = self.position
        }
        guard let header = StoredBatchHeader(self.window, at: self.position - self.windowPosition) else {
            throw StorageError(.io, "\(self.file.path) ends inside a batch header at \(self.position)")
        }
        // Only a damaged file (one trusted after a clean shutdown, or changed under the broker) has
        // these; reading on would loop or read out of bounds.
        guard header.byteCount >= RecordBatch.headerByteCount, header.lastOffset >= header.baseOffset else {
            throw StorageError(
                .corruptBatch,
                "\(self.file.path): impossible batch header at \(self.position) (\(header.byteCount) bytes, offsets \(header.baseOffset)...\(header.lastOffset))"
            )
        }
        return header
    }

    mutating func advance(past header: StoredBatchHeader) {
        self.position += header.byteCount
    }
}

extension SegmentSnapshot {
    /// The position and header of the first batch whose last offset is ≥ `offset`, or nil when no
    /// batch before `endPosition` reaches `offset`.
    func findBatch(containing offset: Int64) throws(StorageError) -> (position: Int, header: StoredBatchHeader)? {
        var cursor = BatchHeaderCursor(
            file: self.file,
            startPosition: self.scanStartPosition,
            endPosition: self.endPosition
        )
        while let header = try cursor.header() {
            if header.lastOffset >= offset { return (cursor.position, header) }
            cursor.advance(past: header)
        }
        return nil
    }

    /// Whole batches starting at `position`: as many as fit in `maxBytes`, but always at least the
    /// first one (as Kafka returns an oversized first batch whole), never past `limitPosition`.
    func readBatches(from position: Int, maxBytes: Int, limitPosition: Int) throws(StorageError) -> ByteBuffer {
        guard position < limitPosition else { return ByteBuffer() }
        var bytes = try self.file.read(at: Int64(position), count: min(max(maxBytes, 0), limitPosition - position))
        var wholeByteCount = 0
        while let size = Self.batchSize(in: bytes, at: wholeByteCount), wholeByteCount + size <= bytes.writerIndex {
            wholeByteCount += size
        }
        if wholeByteCount == 0 {
            let header = try self.file.read(at: Int64(position), count: RecordBatch.logOverheadByteCount)
            guard let size = Self.batchSize(in: header, at: 0), position + size <= limitPosition else {
                throw StorageError(.io, "\(self.file.path): no whole batch at \(position)")
            }
            bytes = try self.file.read(at: Int64(position), count: size)
            guard bytes.writerIndex >= size else {
                throw StorageError(.io, "\(self.file.path): the batch at \(position) ends past the file's end")
            }
            wholeByteCount = size
        }
        return bytes.getSlice(at: 0, length: wholeByteCount)!
    }

    private static func batchSize(in buffer: ByteBuffer, at index: Int) -> Int? {
        guard let length = buffer.getInteger(at: index + 8, as: Int32.self) else { return nil }
        // A length below a v2 header's is corruption: nil ends the batches here (a zero or negative
        // size would never advance, or step backwards).
        let size = Int(length) + RecordBatch.logOverheadByteCount
        return size >= RecordBatch.headerByteCount ? size : nil
    }

    /// The first record at or after `scanStartPosition` whose timestamp is ≥ `timestampMs`: its
    /// offset and timestamp, or nil when there is none before `endPosition`.
    func findRecord(
        atOrAfterTimestamp timestampMs: Int64,
        minimumOffset: Int64
    ) throws(StorageError) -> (offset: Int64, timestampMs: Int64)? {
        var cursor = BatchHeaderCursor(
            file: self.file,
            startPosition: self.scanStartPosition,
            endPosition: self.endPosition
        )
        while let header = try cursor.header() {
            if header.maxTimestampMs >= timestampMs && header.lastOffset >= minimumOffset {
                let bytes = try self.file.read(at: Int64(cursor.position), count: header.byteCount)
                do {
                    let batch = try RecordBatch(bytes)
                    for record in try batch.records(decompressionLimit: Self.decompressionLimitBytes)
                    where record.timestampMs >= timestampMs && record.offset >= minimumOffset {
                        return (record.offset, record.timestampMs)
                    }
                } catch {
                    throw StorageError(
                        .corruptBatch,
                        "stored batch at \(cursor.position) does not decode",
                        cause: error
                    )
                }
            }
            cursor.advance(past: header)
        }
        return nil
    }

    /// Bound on a stored batch's decompressed records when the log itself must read them.
    static let decompressionLimitBytes = 256 * 1024 * 1024
}
