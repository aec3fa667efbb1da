import NIOCore
import TernRecords

/// One segment of a partition log: the `<baseOffset>.log` file of record batches laid end to end
/// exactly as stored (base offset patched), and its offset, time and aborted-transaction indexes,
/// kept in memory and written to `<baseOffset>.index` / `<baseOffset>.timeindex` /
/// `<baseOffset>.txnindex` when the segment is rolled or the log is closed.
///
/// Invariants: every batch's base offset is ≥ the segment's base offset and ≥ the previous
/// batch's next offset; `lastOffset − baseOffset` fits in an Int32 (Kafka's relative-offset rule);
/// `sizeBytes` is the end of the last complete batch, and nothing past it is ever served.
///
/// Crash policy: `open(..., mode: .recover)` rescans the whole file, checking each batch's
/// framing, CRC-32C and offset monotonicity, truncates the file after the last valid batch and
/// rebuilds the offset and time indexes (the partition log rebuilds the txnindex by replaying the producer
/// state). `.trustIndexes` (after a clean shutdown, or for segments below the
/// recovery point) loads the index files, checks their invariants and the last entry against the
/// log, scans only the tail after the last entry, and falls back to `.recover` when anything is off.
///
/// Not thread-safe: the partition's lock guards every method. Reads copy what they need into a
/// `SegmentSnapshot` under the lock and do the file I/O outside it.
final class LogSegment {
    enum OpenMode {
        case trustIndexes
        case recover
    }

    let baseOffset: Int64
    let directory: String
    let logFile: any StorageFile
    /// End of the last complete batch: where the next batch goes.
    private(set) var sizeBytes: Int
    /// The offset after the segment's last batch (`baseOffset` when empty).
    private(set) var nextOffset: Int64
    /// The largest batch max timestamp, -1 when empty (Kafka's NO_TIMESTAMP).
    private(set) var maxTimestampMs: Int64 = -1
    /// What `segment.ms` counts from: the clock when the first batch was appended; for a segment
    /// loaded from disk, its first batch's max timestamp (Kafka's rule). Kafka uses the batch
    /// timestamp for fresh segments too, so a producer with a skewed clock rolls a segment per
    /// batch; the broker's clock does not have that failure.
    private(set) var rollBaseTimeMs: Int64
    private(set) var offsetIndex: OffsetIndex
    private(set) var timeIndex: TimeIndex
    /// The aborted transactions whose ABORT marker is in this segment.
    var transactionIndex = TransactionIndex()
    private var bytesSinceLastIndexEntry = 0
    private let indexIntervalBytes: Int
    private let maxIndexBytes: Int

    var isEmpty: Bool { self.sizeBytes == 0 }
    var logPath: String { Self.path(self.directory, self.baseOffset, .log) }
    var offsetIndexPath: String { Self.path(self.directory, self.baseOffset, .offsetIndex) }
    var timeIndexPath: String { Self.path(self.directory, self.baseOffset, .timeIndex) }
    var txnIndexPath: String { Self.path(self.directory, self.baseOffset, .txnIndex) }

    static func path(_ directory: String, _ baseOffset: Int64, _ kind: SegmentFileName.Kind) -> String {
        directory + "/" + SegmentFileName(baseOffset: baseOffset, kind: kind).fileName
    }

    private init(baseOffset: Int64, directory: String, logFile: any StorageFile, config: LogConfig, nowMs: Int64) {
        self.baseOffset = baseOffset
        self.directory = directory
        self.logFile = logFile
        self.sizeBytes = 0
        self.nextOffset = baseOffset
        self.rollBaseTimeMs = nowMs
        self.indexIntervalBytes = config.indexIntervalBytes
        self.maxIndexBytes = config.segmentIndexBytes
        self.offsetIndex = OffsetIndex(baseOffset: baseOffset, maxIndexBytes: config.segmentIndexBytes)
        self.timeIndex = TimeIndex(baseOffset: baseOffset, maxIndexBytes: config.segmentIndexBytes)
    }

    /// A new, empty segment. Leftover files with the same base offset (from a log truncated by
    /// recovery) are replaced. The caller makes the directory entry durable (flusher).
    static func create(
        directory: String,
        baseOffset: Int64,
        config: LogConfig,
        nowMs: Int64,
        fileSystem: any FileSystem
    ) throws(StorageError) -> LogSegment {
        for kind in [SegmentFileName.Kind.offsetIndex, .timeIndex, .txnIndex] {
            let path = Self.path(directory, baseOffset, kind)
            if fileSystem.fileExists(atPath: path) { try fileSystem.remove(atPath: path) }
        }
        let file = try fileSystem.openFile(atPath: Self.path(directory, baseOffset, .log), create: true)
        try file.truncate(toSize: 0)
        return LogSegment(baseOffset: baseOffset, directory: directory, logFile: file, config: config, nowMs: nowMs)
    }

    /// A new, empty segment for the log cleaner to fill, written at `<base>.log.cleaned` (any
    /// leftover there is replaced). The handle keeps working when the cleaner renames the file to
    /// `.swap` and then to its final name, which `logPath` already gives.
    static func createCleaned(
        directory: String,
        baseOffset: Int64,
        config: LogConfig,
        nowMs: Int64,
        fileSystem: any FileSystem
    ) throws(StorageError) -> LogSegment {
        let file = try fileSystem.openFile(
            atPath: Self.path(directory, baseOffset, .log) + LogCleaner.cleanedSuffix,
            create: true
        )
        try file.truncate(toSize: 0)
        return LogSegment(baseOffset: baseOffset, directory: directory, logFile: file, config: config, nowMs: nowMs)
    }

    /// Opens an existing segment. `truncated` is true when invalid bytes were cut off the end of
    /// the log file (the caller must then drop every later segment); `rebuiltIndexes` when the
    /// in-memory indexes no longer match the index files (the caller must rewrite them).
    static func open(
        directory: String,
        baseOffset: Int64,
        config: LogConfig,
        nowMs: Int64,
        fileSystem: any FileSystem,
        mode: OpenMode
    ) throws(StorageError) -> (segment: LogSegment, truncated: Bool, rebuiltIndexes: Bool) {
        let file = try fileSystem.openFile(atPath: Self.path(directory, baseOffset, .log), create: false)
        let segment = LogSegment(
            baseOffset: baseOffset,
            directory: directory,
            logFile: file,
            config: config,
            nowMs: nowMs
        )
        let fileSizeBytes = Int(try file.size())
        if mode == .trustIndexes, try segment.loadIndexes(fileSystem: fileSystem, fileSizeBytes: fileSizeBytes) {
            return (segment, false, false)
        }
        let truncated = try segment.recover(fileSizeBytes: fileSizeBytes)
        return (segment, truncated, true)
    }

    // MARK: Loading

    /// Loads and checks both index files and scans the tail after the last offset-index entry.
    /// Returns false (leaving the segment to `recover`) when an index is missing, breaks an
    /// invariant, disagrees with the log, or the tail holds an invalid batch.
    private func loadIndexes(fileSystem: any FileSystem, fileSizeBytes: Int) throws(StorageError) -> Bool {
        guard let offsetBytes = try fileSystem.readWholeFile(atPath: self.offsetIndexPath),
            let timeBytes = try fileSystem.readWholeFile(atPath: self.timeIndexPath),
            let offsetIndex = OffsetIndex.parse(
                offsetBytes,
                baseOffset: self.baseOffset,
                maxIndexBytes: self.maxIndexBytes,
                logSizeBytes: fileSizeBytes
            )
        else { return false }
        guard
            let timeIndex = TimeIndex.parse(
                timeBytes,
                baseOffset: self.baseOffset,
                maxIndexBytes: self.maxIndexBytes,
                nextOffset: .max
            )
        else { return false }
        self.offsetIndex = offsetIndex
        self.timeIndex = timeIndex
        var tailStartPosition = 0
        if let last = offsetIndex.entries.last {
            // The last entry must name the batch at its position; the tail scan starts there.
            let header = try self.logFile.read(at: Int64(last.position), count: StoredBatchHeader.byteCount)
            guard let batch = StoredBatchHeader(header, at: 0),
                batch.lastOffset == self.baseOffset + Int64(last.relativeOffset)
            else { return false }
            tailStartPosition = Int(last.position)
            self.nextOffset = batch.baseOffset
        }
        let tail = try self.scan(from: tailStartPosition, fileSizeBytes: fileSizeBytes, rebuildingIndexes: false)
        guard tail.endPosition == fileSizeBytes else { return false }
        if let last = timeIndex.entries.last, self.baseOffset + Int64(last.relativeOffset) >= self.nextOffset {
            return false
        }
        self.maxTimestampMs = max(self.maxTimestampMs, timeIndex.lastTimestampMs ?? -1)
        if let txnBytes = try fileSystem.readWholeFile(atPath: self.txnIndexPath) {
            guard
                let transactionIndex = TransactionIndex.parse(
                    txnBytes,
                    baseOffset: self.baseOffset,
                    nextOffset: self.nextOffset
                )
            else { return false }
            self.transactionIndex = transactionIndex
        }
        try self.loadRollBaseTime()
        return true
    }

    /// Rebuilds the segment from its log file: validates batch after batch from the start, cuts
    /// the file after the last valid one, rebuilds the indexes. Returns whether it cut anything.
    private func recover(fileSizeBytes: Int) throws(StorageError) -> Bool {
        self.offsetIndex = OffsetIndex(baseOffset: self.baseOffset, maxIndexBytes: self.maxIndexBytes)
        self.timeIndex = TimeIndex(baseOffset: self.baseOffset, maxIndexBytes: self.maxIndexBytes)
        self.transactionIndex = TransactionIndex()
        self.nextOffset = self.baseOffset
        self.maxTimestampMs = -1
        self.bytesSinceLastIndexEntry = 0
        let result = try self.scan(from: 0, fileSizeBytes: fileSizeBytes, rebuildingIndexes: true)
        if result.endPosition < fileSizeBytes {
            try self.logFile.truncate(toSize: Int64(result.endPosition))
        }
        try self.loadRollBaseTime()
        return result.endPosition < fileSizeBytes
    }

    private func loadRollBaseTime() throws(StorageError) {
        guard self.sizeBytes > 0 else { return }
        let bytes = try self.logFile.read(at: 0, count: StoredBatchHeader.byteCount)
        if let first = StoredBatchHeader(bytes, at: 0) { self.rollBaseTimeMs = first.maxTimestampMs }
    }

    /// Bytes read per system call while scanning a segment.
    static let scanChunkByteCount = 4 * 1024 * 1024

    /// Validates batches from `startPosition` on (framing, CRC-32C, offsets increasing and within
    /// the segment's relative range), adding each valid batch to the segment's state, until the
    /// file ends or a batch is invalid. With `rebuildingIndexes` false, the first batch is the one
    /// the last index entry names and gets no new entry.
    private func scan(
        from startPosition: Int,
        fileSizeBytes: Int,
        rebuildingIndexes: Bool
    ) throws(StorageError) -> (endPosition: Int, batchCount: Int) {
        var position = startPosition
        var batchCount = 0
        self.sizeBytes = startPosition
        scanning: while position < fileSizeBytes {
            var chunk = try self.logFile.read(
                at: Int64(position),
                count: min(Self.scanChunkByteCount, fileSizeBytes - position)
            )
            guard let length = chunk.getInteger(at: 8, as: Int32.self) else { break }
            let firstBatchByteCount = Int(length) + RecordBatch.logOverheadByteCount
            guard firstBatchByteCount >= RecordBatch.headerByteCount, position + firstBatchByteCount <= fileSizeBytes
            else { break }
            if firstBatchByteCount > chunk.readableBytes {
                chunk = try self.logFile.read(at: Int64(position), count: firstBatchByteCount)
            }
            var reader = RecordBatchReader(chunk)
            while true {
                let next: RecordBatch?
                do { next = try reader.next() } catch { break scanning }
                guard let batch = next else { break }
                do { try batch.validate() } catch { break scanning }
                guard batch.baseOffset >= self.nextOffset, batch.lastOffset - self.baseOffset <= Int64(Int32.max) else {
                    break scanning
                }
                let summary = BatchSummary(batch)
                if rebuildingIndexes || batchCount > 0 {
                    self.recordAppended(summary, at: position)
                } else {
                    self.recordIndexedBatch(summary, at: position)
                }
                position += batch.byteCount
                batchCount += 1
            }
        }
        return (position, batchCount)
    }

    // MARK: Appending

    /// Whether a batch of `batchByteCount` bytes ending at `lastOffset` must go to a new segment:
    /// this one is non-empty and the batch would overflow `segment.bytes`, or the segment is older
    /// than `segment.ms`, or an index is full, or the relative offset would overflow.
    func shouldRoll(batchByteCount: Int, lastOffset: Int64, nowMs: Int64, config: LogConfig) -> Bool {
        guard !self.isEmpty else { return false }
        return self.sizeBytes + batchByteCount > config.segmentBytes
            || nowMs - self.rollBaseTimeMs >= config.segmentMs
            || self.offsetIndex.isFull || self.timeIndex.isFull
            || lastOffset - self.baseOffset > Int64(Int32.max)
    }

    /// Writes a validated batch (offsets already assigned) at the end and updates the indexes.
    /// On a write error the segment is unchanged (the file is cut back when possible; either way
    /// the next append overwrites the torn bytes, and recovery would cut them).
    func append(_ batch: ByteBuffer, summary: BatchSummary, nowMs: Int64) throws(StorageError) {
        precondition(summary.baseOffset >= self.nextOffset, "offsets must increase within a segment")
        precondition(summary.byteCount == batch.readableBytes, "summary must describe the batch")
        do {
            try self.logFile.write(batch, at: Int64(self.sizeBytes))
        } catch {
            try? self.logFile.truncate(toSize: Int64(self.sizeBytes))
            throw error
        }
        if self.isEmpty { self.rollBaseTimeMs = nowMs }
        self.recordAppended(summary, at: self.sizeBytes)
    }

    /// Kafka's indexing rule: an entry for a batch when more than `index.interval.bytes` were
    /// appended since the previous entry.
    private func recordAppended(_ summary: BatchSummary, at position: Int) {
        precondition(position == self.sizeBytes, "batches are contiguous")
        self.maxTimestampMs = max(self.maxTimestampMs, summary.maxTimestampMs)
        if self.bytesSinceLastIndexEntry > self.indexIntervalBytes && !self.offsetIndex.isFull {
            self.offsetIndex.append(lastOffset: summary.lastOffset, position: position)
            self.timeIndex.maybeAppend(timestampMs: self.maxTimestampMs, offset: summary.lastOffset)
            self.bytesSinceLastIndexEntry = 0
        }
        self.bytesSinceLastIndexEntry += summary.byteCount
        self.sizeBytes = position + summary.byteCount
        self.nextOffset = summary.lastOffset + 1
    }

    /// Accounts for the batch the last loaded index entry points at (no new entry).
    private func recordIndexedBatch(_ summary: BatchSummary, at position: Int) {
        self.maxTimestampMs = max(self.maxTimestampMs, summary.maxTimestampMs)
        self.bytesSinceLastIndexEntry = summary.byteCount
        self.sizeBytes = position + summary.byteCount
        self.nextOffset = summary.lastOffset + 1
    }

    // MARK: Reading

    /// A snapshot for reading from the batch holding `offset`.
    func snapshot(forOffset offset: Int64) -> SegmentSnapshot {
        SegmentSnapshot(
            file: self.logFile,
            baseOffset: self.baseOffset,
            scanStartPosition: self.offsetIndex.lookup(offset: offset).position,
            endPosition: self.sizeBytes
        )
    }

    /// A snapshot for finding the first record with a timestamp ≥ `timestampMs`.
    func snapshot(forTimestamp timestampMs: Int64) -> SegmentSnapshot {
        var position = 0
        if let offset = self.timeIndex.lowerBound(forTimestamp: timestampMs) {
            position = self.offsetIndex.lookup(offset: offset).position
        }
        return SegmentSnapshot(
            file: self.logFile,
            baseOffset: self.baseOffset,
            scanStartPosition: position,
            endPosition: self.sizeBytes
        )
    }

    // MARK: Index files

    /// The bytes of both index files, the time index closed with an entry for the segment's
    /// largest timestamp (so a reopened segment knows it without scanning).
    func indexFileContents() -> (offsetIndex: ByteBuffer, timeIndex: ByteBuffer) {
        var timeIndex = self.timeIndex
        if self.maxTimestampMs >= 0 && self.nextOffset > self.baseOffset {
            timeIndex.maybeAppend(timestampMs: self.maxTimestampMs, offset: self.nextOffset - 1, force: true)
        }
        return (self.offsetIndex.serialized(), timeIndex.serialized())
    }

    /// Removes the segment's files. Handles stay valid for readers still holding them.
    func deleteFiles(fileSystem: any FileSystem) throws(StorageError) {
        for path in [self.logPath, self.offsetIndexPath, self.timeIndexPath, self.txnIndexPath]
        where fileSystem.fileExists(atPath: path) {
            try fileSystem.remove(atPath: path)
        }
    }
}
