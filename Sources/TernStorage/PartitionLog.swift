import Logging
public import NIOCore
import Synchronization
import TernRecords

/// How long an append waits before it returns.
public enum Durability: Sendable, Hashable {
    /// Return once the batch is written to the file (the page cache); the OS or the flush policy
    /// (`flush.messages`, `flush.ms`) makes it durable later. Kafka's acks=1 with default settings.
    case none
    /// Return once an fsync that covers the batch has completed (acks=all on a single node).
    case fsync
}

/// The outcome of an append, as a Produce response reports it.
public struct AppendResult: Sendable, Hashable {
    /// The offset assigned to the batch's first record.
    public var baseOffset: Int64
    /// The offset of the batch's last record.
    public var lastOffset: Int64
    /// The broker's append time when the topic uses LogAppendTime, else -1.
    public var logAppendTimeMs: Int64
    /// The partition's log start offset after the append.
    public var logStartOffset: Int64
    /// The batch repeats one of its idempotent producer's last five batches: nothing was written,
    /// and the offsets are those the original got.
    public var isDuplicate: Bool

    public init(
        baseOffset: Int64,
        lastOffset: Int64,
        logAppendTimeMs: Int64,
        logStartOffset: Int64,
        isDuplicate: Bool = false
    ) {
        self.baseOffset = baseOffset
        self.lastOffset = lastOffset
        self.logAppendTimeMs = logAppendTimeMs
        self.logStartOffset = logStartOffset
        self.isDuplicate = isDuplicate
    }
}

/// Which records a read may return (Fetch's isolation_level).
public enum ReadIsolation: Sendable, Hashable {
    /// Everything up to the high watermark, including open and aborted transactions' records
    /// and control batches (consumers skip those themselves).
    case readUncommitted
    /// Only below the last stable offset, with the aborted transactions overlapping what is
    /// returned, so the consumer can drop their records.
    case readCommitted
}

/// The outcome of a read, as a Fetch response reports it.
public struct LogReadResult: Sendable {
    /// Whole stored batches, back to back; empty at the log end.
    public var records: ByteBuffer
    public var highWatermark: Int64
    public var logStartOffset: Int64
    public var logEndOffset: Int64
    /// The offset below which every transaction is decided (see `PartitionLog.lastStableOffset`).
    public var lastStableOffset: Int64
    /// For `.readCommitted`: the aborted transactions overlapping the returned offsets (Kafka's
    /// `collectAbortedTransactions`: marker at or after the fetch offset, first offset below the
    /// offset after the last returned batch), oldest marker first; empty when none or no records.
    /// nil for `.readUncommitted`.
    public var abortedTransactions: [AbortedTransaction]?

    public init(
        records: ByteBuffer,
        highWatermark: Int64,
        logStartOffset: Int64,
        logEndOffset: Int64,
        lastStableOffset: Int64? = nil,
        abortedTransactions: [AbortedTransaction]? = nil
    ) {
        self.records = records
        self.highWatermark = highWatermark
        self.logStartOffset = logStartOffset
        self.logEndOffset = logEndOffset
        self.lastStableOffset = lastStableOffset ?? highWatermark
        self.abortedTransactions = abortedTransactions
    }
}

/// Services a manager's partitions share.
struct LogEnvironment: Sendable {
    var fileSystem: any FileSystem
    var clock: any LogClock
    var flushPool: FlushThreadPool
    var logger: Logger
    var fsyncMetrics: FsyncMetrics
    /// Persists every partition's log start offset (after DeleteRecords or retention moved one).
    var persistLogStartOffsets: @Sendable () throws(StorageError) -> Void
}

/// One partition's log: an ordered list of segments, the last of which (the active segment)
/// takes appends. See `docs/storage.md` for the files.
///
/// Offsets: `logStartOffset` ≤ every readable offset < `logEndOffset` (LEO, the next offset to
/// assign). On a single node the high watermark is the LEO. The recovery point (`flushedOffset`)
/// is the offset below which everything is known to be fsynced; recovery after a crash scans from
/// the segment holding it.
///
/// Durability: appends write under the lock; fsync never runs under it. A flush loop on the
/// manager's `FlushThreadPool` takes what is unflushed, fsyncs it (rolled segments with their
/// index files, the directory after a roll, the active segment), then completes every `.fsync`
/// waiter its fsync covered. Appends that arrive meanwhile wait for the next round, so a burst of
/// durable appends costs one fsync per round (group commit).
///
/// Thread-safety: all methods may be called concurrently from any task or thread. State sits
/// behind one `Mutex`; reads copy a snapshot under it and do the file I/O outside it.
public final class PartitionLog: Sendable {
    public let topicPartition: TopicPartition
    /// Produced and fetched records and bytes (the broker counts fetches, which it knows are sent).
    public let metrics: PartitionMetrics
    let directory: String
    let environment: LogEnvironment
    let state: Mutex<State>
    /// Held by the log cleaner for a whole pass over this partition; deleting the topic takes it
    /// after closing the log, so the directory is removed only once the cleaner left it.
    let cleanerLock = Mutex(())

    struct FsyncWaiter {
        var lastOffset: Int64
        var result: AppendResult
        var continuation: CheckedContinuation<Result<AppendResult, StorageError>, Never>
    }

    /// A rolled segment whose files the flusher must write (indexes) and fsync.
    struct RolledSegmentFiles: Sendable {
        var logFile: any StorageFile
        var offsetIndexPath: String
        var offsetIndexBytes: ByteBuffer
        var timeIndexPath: String
        var timeIndexBytes: ByteBuffer
        var txnIndexPath: String
        /// Empty: the segment has no aborted transaction and no `.txnindex` file.
        var txnIndexBytes: ByteBuffer

        init(_ segment: LogSegment) {
            let (offsetIndexBytes, timeIndexBytes) = segment.indexFileContents()
            self.logFile = segment.logFile
            self.offsetIndexPath = segment.offsetIndexPath
            self.offsetIndexBytes = offsetIndexBytes
            self.timeIndexPath = segment.timeIndexPath
            self.timeIndexBytes = timeIndexBytes
            self.txnIndexPath = segment.txnIndexPath
            self.txnIndexBytes = segment.transactionIndex.serialized()
        }
    }

    struct State {
        /// Swappable (AlterConfigs); an append reads it once, so one batch sees one config.
        var config: LogConfig
        var segments: [LogSegment]
        var logStartOffset: Int64
        /// The partition's leader epoch, stamped on every appended batch. One node starts a new
        /// partition at 0; the newest entry of `epochs` always holds it, so the checkpoint persists it.
        var leaderEpoch: Int32
        var epochs: LeaderEpochCache
        /// `epochs` changed since the flusher last wrote `leader-epoch-checkpoint`.
        var epochCheckpointNeedsWrite: Bool
        var isClosed = false
        /// Set when an fsync failed: what is durable is unknown, so the log takes no more appends
        /// (Kafka takes the log directory offline). Reads keep working.
        var failure: StorageError?

        var flushedOffset: Int64
        var flushRequestedOffset: Int64 = 0
        var isFlushScheduled = false
        var rolledSegmentsToSync: [RolledSegmentFiles] = []
        var directoryNeedsSync = false
        var fsyncWaiters: [FsyncWaiter] = []
        var flushIdleWaiters: [CheckedContinuation<Void, Never>] = []
        var unflushedRecordCount: Int64 = 0
        var oldestUnflushedAppendMs: Int64?

        /// Log files whose rolled-segment files the running flush round is writing; the cleaner
        /// leaves those segments (and later ones) alone until the round ends.
        var filesBeingSynced: Set<ObjectIdentifier> = []
        /// The log cleaner's clean/dirty boundary (Kafka's cleaner checkpoint): offsets below it
        /// were compacted by an earlier pass.
        var firstDirtyOffset: Int64 = 0
        /// The earliest delete horizon of a batch the cleaner kept a tombstone in, nil when none:
        /// once it passes, the partition is worth cleaning whatever its dirty ratio.
        var earliestDeleteHorizonMs: Int64?

        var dataWaiters: [Int: (offset: Int64, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextDataWaiterID = 0

        /// Idempotent and transactional producers (checked and recorded by every append).
        var producers = ProducerStateManager()
        /// A producer-state snapshot taken at a roll, for the flusher to write.
        var pendingSnapshot: (offset: Int64, bytes: ByteBuffer)?

        /// The smallest first offset of an ongoing transaction, else the log end offset.
        var lastStableOffset: Int64 { self.producers.firstUnstableOffset ?? self.logEndOffset }

        var activeSegment: LogSegment { self.segments[self.segments.count - 1] }
        var logEndOffset: Int64 { self.activeSegment.nextOffset }

        /// Index of the segment holding `offset`: the last one whose base offset is ≤ `offset`.
        func segmentIndex(containing offset: Int64) -> Int {
            var low = 0
            var high = self.segments.count
            while low < high {
                let middle = (low + high) / 2
                if self.segments[middle].baseOffset <= offset { low = middle + 1 } else { high = middle }
            }
            return max(0, low - 1)
        }
    }

    private init(
        topicPartition: TopicPartition,
        directory: String,
        environment: LogEnvironment,
        state: sending State
    ) {
        self.topicPartition = topicPartition
        self.directory = directory
        self.environment = environment
        self.state = Mutex(state)
        self.metrics = PartitionMetrics()
    }

    // MARK: Offsets

    /// The settings in force: the topic's overrides over the broker defaults.
    public var config: LogConfig { self.state.withLock { $0.config } }

    /// Replaces the settings; later appends, rolls, flushes and retention passes use the new
    /// ones. Existing segments keep their index capacity (as in Kafka, a change of
    /// `segment.index.bytes` applies from the next segment).
    func updateConfig(_ config: LogConfig) {
        self.state.withLock { $0.config = config }
    }

    public var logStartOffset: Int64 { self.state.withLock { $0.logStartOffset } }
    public var logEndOffset: Int64 { self.state.withLock { $0.logEndOffset } }
    /// The last offset consumers may read plus one; the log end offset on a single node.
    public var highWatermark: Int64 { self.logEndOffset }
    /// Offsets below this are known to be on stable storage.
    public var recoveryPoint: Int64 { self.state.withLock { $0.flushedOffset } }
    /// The partition's current leader epoch.
    public var leaderEpoch: Int32 { self.state.withLock { $0.leaderEpoch } }
    /// The leader epochs and where each starts, as `leader-epoch-checkpoint` holds them.
    public var leaderEpochs: LeaderEpochCache { self.state.withLock { $0.epochs } }
    var leaderEpochCheckpointPath: String { self.directory + "/" + LeaderEpochCheckpointFile.name }

    /// The end offset of `epoch` and the epoch it belongs to (OffsetForLeaderEpoch's answer; see
    /// `LeaderEpochCache.endOffset(forEpoch:logEndOffset:)`).
    public func endOffset(forEpoch epoch: Int32) -> (epoch: Int32, endOffset: Int64) {
        self.state.withLock { $0.epochs.endOffset(forEpoch: epoch, logEndOffset: $0.logEndOffset) }
    }

    /// The epoch the record at `offset` was written in; nil before the first known epoch.
    public func leaderEpoch(forOffset offset: Int64) -> Int32? {
        self.state.withLock { $0.epochs.epoch(forOffset: offset) }
    }

    /// Makes `epoch` the partition's leader epoch, starting at the log end offset, and returns once
    /// `leader-epoch-checkpoint` holds it (the cluster work calls this on a leader change).
    ///
    /// - Precondition: `epoch` is not below the current leader epoch.
    /// - Throws: `.closed`; `.io` or `.diskFull` when the checkpoint cannot be written.
    public func becomeLeader(epoch: Int32) async throws(StorageError) {
        try self.state.withLock { state throws(StorageError) in
            guard !state.isClosed else { throw StorageError(.closed, "\(self.topicPartition) is closed") }
            precondition(epoch >= state.leaderEpoch, "leader epoch \(epoch) is below \(state.leaderEpoch)")
            state.leaderEpoch = epoch
            if state.epochs.assign(epoch: epoch, startOffset: state.logEndOffset) {
                state.epochCheckpointNeedsWrite = true
            }
        }
        try await self.flush()
    }

    /// Bytes in all segments.
    public var sizeBytes: Int64 { self.state.withLock { $0.segments.reduce(0) { $0 + Int64($1.sizeBytes) } } }
    /// Base offsets of the segments, oldest first; the last is the active segment.
    public var segmentBaseOffsets: [Int64] { self.state.withLock { $0.segments.map(\.baseOffset) } }
    /// Offsets, size and segment count, read together.
    public var statistics: PartitionStatistics {
        var statistics = self.state.withLock { state in
            PartitionStatistics(
                topicPartition: self.topicPartition,
                logStartOffset: state.logStartOffset,
                logEndOffset: state.logEndOffset,
                sizeBytes: state.segments.reduce(0) { $0 + Int64($1.sizeBytes) },
                segmentCount: state.segments.count
            )
        }
        let totals = self.metrics.totals
        statistics.producedRecords = totals.producedRecords
        statistics.producedBytes = totals.producedBytes
        statistics.fetchedRecords = totals.fetchedRecords
        statistics.fetchedBytes = totals.fetchedBytes
        statistics.cleanerDirtyRatio = self.cleaningCandidate(nowMs: self.environment.clock.nowMs)?.dirtyRatio
        return statistics
    }

    // MARK: Opening

    /// Opens (or creates, when the directory holds no segment) a partition's log.
    ///
    /// - Parameters:
    ///   - recoveryPoint: The checkpointed recovery point; nil when unknown (everything is scanned
    ///     after an unclean shutdown).
    ///   - cleanShutdown: The data directory's clean-shutdown marker was present: no segment is
    ///     scanned, only index files are checked (and rebuilt if missing or corrupt).
    static func open(
        topicPartition: TopicPartition,
        directory: String,
        config: LogConfig,
        recoveryPoint: Int64?,
        logStartOffset checkpointedLogStartOffset: Int64?,
        firstDirtyOffset: Int64? = nil,
        cleanShutdown: Bool,
        environment: LogEnvironment
    ) throws(StorageError) -> PartitionLog {
        let fileSystem = environment.fileSystem
        let nowMs = environment.clock.nowMs
        try fileSystem.makeDirectory(atPath: directory)
        // Before anything else: a committed cleaner swap replaces the segments it covers.
        try Self.completeCleanerSwaps(directory: directory, fileSystem: fileSystem, logger: environment.logger)
        var logBaseOffsets: [Int64] = []
        var indexBaseOffsets: [Int64: [SegmentFileName.Kind]] = [:]
        for name in try fileSystem.listDirectory(atPath: directory) {
            if let segmentName = SegmentFileName(parsing: name) {
                if segmentName.kind == .log {
                    logBaseOffsets.append(segmentName.baseOffset)
                } else {
                    indexBaseOffsets[segmentName.baseOffset, default: []].append(segmentName.kind)
                }
            } else if name.hasSuffix(".tmp") || name.hasSuffix(".deleted") || name.hasSuffix(".cleaned")
                || name.hasSuffix(".swap")
            {
                // Leftovers of interrupted writes or of Kafka's deletion and compaction.
                try fileSystem.remove(atPath: directory + "/" + name)
            }
        }
        logBaseOffsets.sort()
        // Index files whose log is gone (a segment deleted while its indexes were being written).
        for (baseOffset, kinds) in indexBaseOffsets where logBaseOffsets.firstIndex(of: baseOffset) == nil {
            for kind in kinds { try fileSystem.remove(atPath: LogSegment.path(directory, baseOffset, kind)) }
        }

        var segments: [LogSegment] = []
        var recoveredSegments: [LogSegment] = []
        let recoveryPoint = cleanShutdown ? Int64.max : (recoveryPoint ?? 0)
        let firstBaseToRecover =
            cleanShutdown ? Int64.max : (logBaseOffsets.last(where: { $0 <= recoveryPoint }) ?? Int64.min)
        for (position, baseOffset) in logBaseOffsets.enumerated() {
            if let previous = segments.last, baseOffset < previous.nextOffset {
                // Overlapping segments cannot come from this log; keep the consistent prefix.
                environment.logger.warning(
                    "segment overlaps its predecessor; dropping it and later segments",
                    metadata: ["partition": "\(topicPartition)", "baseOffset": "\(baseOffset)"]
                )
                try Self.deleteSegmentFiles(logBaseOffsets[position...], directory: directory, fileSystem: fileSystem)
                break
            }
            let mode: LogSegment.OpenMode = baseOffset >= firstBaseToRecover ? .recover : .trustIndexes
            let (segment, truncated, rebuiltIndexes) = try LogSegment.open(
                directory: directory,
                baseOffset: baseOffset,
                config: config,
                nowMs: nowMs,
                fileSystem: fileSystem,
                mode: mode
            )
            if mode == .recover, let previous = segments.last, previous.nextOffset < baseOffset {
                // The page cache wrote a later segment back before an earlier one's tail (or the
                // earlier one lost it): keep the log contiguous, so what a crash loses of
                // unflushed records is always a suffix, as acks=1 promises.
                environment.logger.warning(
                    "records missing before an unflushed segment; dropping it and later segments",
                    metadata: [
                        "partition": "\(topicPartition)", "baseOffset": "\(baseOffset)",
                        "previousEnd": "\(previous.nextOffset)",
                    ]
                )
                try? segment.logFile.close()
                try Self.deleteSegmentFiles(logBaseOffsets[position...], directory: directory, fileSystem: fileSystem)
                break
            }
            segments.append(segment)
            if rebuiltIndexes { recoveredSegments.append(segment) }
            if truncated {
                environment.logger.warning(
                    "truncated invalid bytes at the end of a segment",
                    metadata: [
                        "partition": "\(topicPartition)", "baseOffset": "\(baseOffset)",
                        "validBytes": "\(segment.sizeBytes)",
                    ]
                )
                try Self.deleteSegmentFiles(
                    logBaseOffsets[(position + 1)...],
                    directory: directory,
                    fileSystem: fileSystem
                )
                break
            }
        }
        // An empty segment that is not the last one holds nothing; dropping it keeps "only the
        // active segment may be empty" true.
        while segments.count > 1, let index = segments.dropLast().firstIndex(where: \.isEmpty) {
            try segments[index].deleteFiles(fileSystem: fileSystem)
            segments.remove(at: index)
        }
        var directoryNeedsSync = false
        if segments.isEmpty {
            let baseOffset = max(0, checkpointedLogStartOffset ?? 0)
            segments.append(
                try LogSegment.create(
                    directory: directory,
                    baseOffset: baseOffset,
                    config: config,
                    nowMs: nowMs,
                    fileSystem: fileSystem
                )
            )
            directoryNeedsSync = true
        }
        let logEndOffset = segments[segments.count - 1].nextOffset
        let logStartOffset = min(max(checkpointedLogStartOffset ?? 0, segments[0].baseOffset), logEndOffset)
        let (epochs, leaderEpoch, epochsChanged) = try Self.loadLeaderEpochs(
            topicPartition: topicPartition,
            directory: directory,
            segments: segments,
            recoveredSegments: recoveredSegments,
            logStartOffset: logStartOffset,
            environment: environment
        )
        let producers = try Self.loadProducerState(
            topicPartition: topicPartition,
            directory: directory,
            segments: segments,
            recoveredSegments: recoveredSegments,
            recoveryPoint: recoveryPoint,
            logStartOffset: logStartOffset,
            environment: environment
        )
        // A new partition's files are made durable here, not by the flusher, so that creating a
        // topic or adding partitions has done every write when it commits the metadata file.
        let isNewPartition = directoryNeedsSync
        if isNewPartition {
            try fileSystem.writeFileAtomically(
                atPath: directory + "/" + LeaderEpochCheckpointFile.name,
                bytes: LeaderEpochCheckpointFile.serialize(epochs)
            )  // also fsyncs the directory, which now names the new segment's files
            directoryNeedsSync = false
        }
        var state = State(
            config: config,
            segments: segments,
            logStartOffset: logStartOffset,
            leaderEpoch: leaderEpoch,
            epochs: epochs,
            epochCheckpointNeedsWrite: epochsChanged && !isNewPartition,
            flushedOffset: cleanShutdown ? logEndOffset : min(recoveryPoint, logEndOffset)
        )
        state.firstDirtyOffset = min(max(firstDirtyOffset ?? 0, logStartOffset), logEndOffset)
        state.producers = producers
        // Recovered data may still sit in the page cache only, and recovered segments need fresh
        // index files: hand both to the flusher before advancing the recovery point.
        for segment in recoveredSegments where segment !== state.activeSegment {
            state.rolledSegmentsToSync.append(RolledSegmentFiles(segment))
        }
        state.directoryNeedsSync = directoryNeedsSync || !recoveredSegments.isEmpty
        state.flushRequestedOffset = logEndOffset
        let log = PartitionLog(
            topicPartition: topicPartition,
            directory: directory,
            environment: environment,
            state: state
        )
        log.scheduleFlushIfNeeded()
        return log
    }

    /// The leader epochs from `leader-epoch-checkpoint`, made consistent with the log as Kafka's
    /// `LogLoader` does: batches the file may not cover (all of them when it is missing or
    /// unreadable, else those recovery rescanned) add their epochs, entries past the log end or
    /// before the log start are cut, and the current epoch — the newest recorded, 0 for a new
    /// partition — starts at the log end if no entry holds it any more. Returns whether the entries
    /// differ from the file (it must be rewritten).
    private static func loadLeaderEpochs(
        topicPartition: TopicPartition,
        directory: String,
        segments: [LogSegment],
        recoveredSegments: [LogSegment],
        logStartOffset: Int64,
        environment: LogEnvironment
    ) throws(StorageError) -> (epochs: LeaderEpochCache, leaderEpoch: Int32, changed: Bool) {
        let path = directory + "/" + LeaderEpochCheckpointFile.name
        var loaded: LeaderEpochCache?
        do {
            if let bytes = try environment.fileSystem.readWholeFile(atPath: path) {
                loaded = try LeaderEpochCheckpointFile.parse(bytes)
            }
        } catch {
            environment.logger.warning(
                "unreadable leader epoch checkpoint; rebuilding it from the batches",
                metadata: ["partition": "\(topicPartition)", "error": "\(error)"]
            )
        }
        var epochs = loaded ?? LeaderEpochCache()
        for segment in loaded == nil ? segments : recoveredSegments {
            var cursor = BatchHeaderCursor(file: segment.logFile, startPosition: 0, endPosition: segment.sizeBytes)
            while let header = try cursor.header() {
                // Batches stored before Tern stamped epochs carry what the producer sent (often -1).
                let epoch = header.partitionLeaderEpoch
                if epoch >= 0, epoch > epochs.latestEpoch ?? -1 {
                    epochs.assign(epoch: epoch, startOffset: header.baseOffset)
                }
                cursor.advance(past: header)
            }
        }
        let leaderEpoch = epochs.latestEpoch ?? 0
        let logEndOffset = segments[segments.count - 1].nextOffset
        epochs.truncateFromEnd(logEndOffset)
        epochs.truncateFromStart(logStartOffset)
        epochs.assign(epoch: leaderEpoch, startOffset: logEndOffset)
        return (epochs, leaderEpoch, epochs != loaded)
    }

    private static func deleteSegmentFiles(
        _ baseOffsets: ArraySlice<Int64>,
        directory: String,
        fileSystem: any FileSystem
    ) throws(StorageError) {
        for baseOffset in baseOffsets {
            for kind in SegmentFileName.Kind.allCases {
                let path = LogSegment.path(directory, baseOffset, kind)
                if fileSystem.fileExists(atPath: path) { try fileSystem.remove(atPath: path) }
            }
        }
    }

    // MARK: Appending

    /// Appends one batch as a producer sent it and returns the offsets it got.
    ///
    /// Checks the batch once (`validateProducedBatch`: magic 2, CRC-32C, sizes against
    /// `max.message.bytes` and `segment.bytes`, record count, and for `.client` Kafka's client
    /// rules), then under the partition's lock checks and records its producer's state
    /// (`ProducerStateManager`): a retry of one of the producer's last five batches is answered
    /// with the original offsets and `isDuplicate` and not written again; a transactional batch
    /// starts the producer's transaction here. Then it rolls the active segment if needed,
    /// sets the batch's base offset to the log end offset in place (outside the CRC), stamps the
    /// append time when the topic uses LogAppendTime (recomputing the CRC), writes it and updates
    /// the indexes. With `.fsync` it returns once an fsync covering the batch completed.
    ///
    /// - Throws: `.corruptBatch`, `.invalidRecord`, `.invalidTimestamp`, `.messageTooLarge`,
    ///   `.recordListTooLarge`, `.recordWithoutKey` for a refused batch; `.outOfOrderSequence`,
    ///   `.invalidProducerEpoch`, `.invalidTxnState` for a batch its producer's state refuses;
    ///   `.diskFull` or `.io` when the write (or, with `.fsync`, the fsync) fails — the log then
    ///   still ends at its last good batch; `.closed`.
    /// - Parameter admitTransactional: Asked, for a transactional batch, whether its producer
    ///   (id, epoch) may write it here; the error it returns refuses the batch. The broker checks
    ///   the transaction coordinator's view there (the partition must be in the open transaction).
    public func append(
        _ batch: ByteBuffer,
        durability: Durability,
        origin: AppendOrigin = .broker,
        admitTransactional: ((_ producerId: Int64, _ producerEpoch: Int16) -> StorageError?)? = nil
    ) async throws(StorageError) -> AppendResult {
        let config = self.config
        var validated = try validateProducedBatch(
            batch,
            config: config,
            origin: origin,
            topicPartition: self.topicPartition
        )
        if validated.attributes.isTransactional, let admitTransactional,
            let refusal = admitTransactional(validated.producerId, validated.producerEpoch)
        {
            throw refusal
        }
        let recordCount = Int64(validated.recordCount)
        let byteCount = Int64(validated.byteCount)
        switch durability {
        case .none:
            let result = try self.state.withLock { state throws(StorageError) in
                try self.appendLocked(&state, &validated, config: config, waiter: nil)
            }
            guard !result.isDuplicate else { return result }
            self.metrics.recordAppend(records: recordCount, bytes: byteCount)
            self.scheduleFlushIfNeeded()
            return result
        case .fsync:
            let outcome = await withCheckedContinuation {
                (continuation: CheckedContinuation<Result<AppendResult, StorageError>, Never>) in
                do throws(StorageError) {
                    let result = try self.state.withLock { state throws(StorageError) in
                        try self.appendLocked(&state, &validated, config: config, waiter: continuation)
                    }
                    if !result.isDuplicate { self.metrics.recordAppend(records: recordCount, bytes: byteCount) }
                    self.scheduleFlushIfNeeded()
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            return try outcome.get()
        }
    }

    /// Returns once an fsync covering `offset` has completed (at once if one already has). With
    /// it a caller appends with `.none` in request order and waits for durability off that path,
    /// so later appends can join the same group commit.
    public func waitUntilDurable(offset: Int64) async throws(StorageError) {
        let placeholder = AppendResult(baseOffset: offset, lastOffset: offset, logAppendTimeMs: -1, logStartOffset: -1)
        let outcome = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<AppendResult, StorageError>, Never>) in
            let shouldSchedule = self.state.withLock { state -> Bool in
                if let failure = state.failure {
                    continuation.resume(returning: .failure(failure))
                    return false
                }
                if offset < state.flushedOffset {
                    continuation.resume(returning: .success(placeholder))
                    return false
                }
                state.fsyncWaiters.append(
                    FsyncWaiter(lastOffset: offset, result: placeholder, continuation: continuation)
                )
                state.flushRequestedOffset = max(state.flushRequestedOffset, offset + 1)
                return true
            }
            if shouldSchedule { self.scheduleFlushIfNeeded() }
        }
        _ = try outcome.get()
    }

    /// Appends a validated batch under the lock. A data batch (`isMarker` false) is first checked
    /// against and then recorded in its producer's state; a marker's producer state is the
    /// caller's (`appendTransactionMarker`).
    func appendLocked(
        _ state: inout State,
        _ batch: inout RecordBatch,
        config: LogConfig,
        waiter: CheckedContinuation<Result<AppendResult, StorageError>, Never>?,
        isMarker: Bool = false
    ) throws(StorageError) -> AppendResult {
        guard !state.isClosed else { throw StorageError(.closed, "\(self.topicPartition) is closed") }
        if let failure = state.failure { throw failure }
        let producerId = batch.producerId
        let firstSequence = batch.baseSequence
        let lastSequence = ProducerStateManager.lastSequence(
            first: firstSequence,
            lastOffsetDelta: batch.lastOffsetDelta
        )
        let isTransactional = batch.attributes.isTransactional
        if !isMarker && producerId >= 0 {
            switch state.producers.check(
                producerId: producerId,
                epoch: batch.producerEpoch,
                firstSequence: firstSequence,
                lastSequence: lastSequence,
                isTransactional: isTransactional
            ) {
            case .append:
                break
            case .reject(let code):
                throw StorageError(
                    code,
                    "\(self.topicPartition): producer \(producerId) epoch \(batch.producerEpoch) sequences \(firstSequence)...\(lastSequence)"
                )
            case .duplicate(let firstOffset, let lastOffset):
                return self.answerDuplicate(&state, firstOffset: firstOffset, lastOffset: lastOffset, waiter: waiter)
            }
        }
        let nowMs = self.environment.clock.nowMs
        let baseOffset = state.logEndOffset
        let lastOffset = baseOffset + Int64(batch.lastOffsetDelta)
        if state.activeSegment.shouldRoll(
            batchByteCount: batch.byteCount,
            lastOffset: lastOffset,
            nowMs: nowMs,
            config: config
        ) {
            try self.roll(&state, nowMs: nowMs)
        }
        batch.setBaseOffset(baseOffset)
        // Outside the CRC, like the base offset: a 4-byte overwrite.
        batch.setPartitionLeaderEpoch(state.leaderEpoch)
        if state.epochs.latestEpoch != state.leaderEpoch {
            state.epochs.assign(epoch: state.leaderEpoch, startOffset: baseOffset)
            state.epochCheckpointNeedsWrite = true
        }
        var logAppendTimeMs: Int64 = -1
        if config.messageTimestampType == .logAppendTime {
            batch.setMaxTimestampAndLogAppendTime(nowMs)
            logAppendTimeMs = nowMs
        }
        try state.activeSegment.append(batch.buffer, summary: BatchSummary(batch), nowMs: nowMs)
        if !isMarker && producerId >= 0 {
            state.producers.record(
                producerId: producerId,
                epoch: batch.producerEpoch,
                batch: .init(
                    firstSequence: firstSequence,
                    lastSequence: lastSequence,
                    firstOffset: baseOffset,
                    lastOffset: lastOffset
                ),
                // With LogAppendTime the broker's time replaces the producer's, as in Kafka.
                maxTimestampMs: logAppendTimeMs >= 0 ? logAppendTimeMs : batch.maxTimestampMs,
                isTransactional: isTransactional
            )
        }

        let result = AppendResult(
            baseOffset: baseOffset,
            lastOffset: lastOffset,
            logAppendTimeMs: logAppendTimeMs,
            logStartOffset: state.logStartOffset
        )
        state.unflushedRecordCount += Int64(batch.recordCount)
        if state.oldestUnflushedAppendMs == nil { state.oldestUnflushedAppendMs = nowMs }
        if state.unflushedRecordCount >= config.flushMessages {
            state.flushRequestedOffset = max(state.flushRequestedOffset, lastOffset + 1)
        }
        if let waiter {
            state.fsyncWaiters.append(FsyncWaiter(lastOffset: lastOffset, result: result, continuation: waiter))
            state.flushRequestedOffset = max(state.flushRequestedOffset, lastOffset + 1)
        }
        // Wake long-polling fetches; resuming only enqueues their tasks.
        let logEndOffset = state.logEndOffset
        for (id, waiter) in state.dataWaiters where waiter.offset < logEndOffset {
            state.dataWaiters[id] = nil
            waiter.continuation.resume()
        }
        return result
    }

    /// Starts a new active segment at the log end offset and queues the old one's files (with
    /// its index files' bytes) for the flusher, as Kafka flushes a rolled segment asynchronously.
    private func roll(_ state: inout State, nowMs: Int64) throws(StorageError) {
        let old = state.activeSegment
        // Kafka takes a producer snapshot at every roll, at the new segment's base offset.
        state.pendingSnapshot = (state.logEndOffset, ProducerStateSnapshot.serialize(state.producers))
        let new = try LogSegment.create(
            directory: self.directory,
            baseOffset: state.logEndOffset,
            config: state.config,
            nowMs: nowMs,
            fileSystem: self.environment.fileSystem
        )
        state.rolledSegmentsToSync.append(RolledSegmentFiles(old))
        state.segments.append(new)
        state.directoryNeedsSync = true
        state.flushRequestedOffset = max(state.flushRequestedOffset, new.baseOffset)
    }

    // MARK: Flushing

    /// What one flush round does, captured under the lock and run outside it.
    private struct FlushJob: Sendable {
        var targetOffset: Int64
        var rolledSegments: [RolledSegmentFiles]
        var syncDirectory: Bool
        var activeLogFile: any StorageFile
        var activeIndexes: RolledSegmentFiles?
        var leaderEpochCheckpoint: ByteBuffer?
        var producerSnapshot: (offset: Int64, bytes: ByteBuffer)?
    }

    private static func hasFlushWork(_ state: State) -> Bool {
        state.flushRequestedOffset > state.flushedOffset || !state.rolledSegmentsToSync.isEmpty
            || state.directoryNeedsSync || state.epochCheckpointNeedsWrite || state.pendingSnapshot != nil
    }

    func scheduleFlushIfNeeded() {
        let shouldSchedule = self.state.withLock { state in
            guard !state.isFlushScheduled, state.failure == nil, Self.hasFlushWork(state) else { return false }
            state.isFlushScheduled = true
            return true
        }
        if shouldSchedule {
            self.environment.flushPool.submit { self.runFlushLoop() }
        }
    }

    /// Flush rounds until nothing more is requested. Runs on a flush thread.
    private func runFlushLoop() {
        while self.runFlushRound(writingActiveIndexes: false) {}
    }

    /// One round: capture, fsync outside the lock, complete covered waiters. Returns whether
    /// another round is wanted (and, if not, marks the loop idle).
    private func runFlushRound(writingActiveIndexes: Bool) -> Bool {
        let job = self.state.withLock { state -> FlushJob? in
            guard state.failure == nil, writingActiveIndexes || Self.hasFlushWork(state) else {
                state.isFlushScheduled = false
                for waiter in state.flushIdleWaiters { waiter.resume() }
                state.flushIdleWaiters.removeAll()
                return nil
            }
            var activeIndexes: RolledSegmentFiles?
            var producerSnapshot = state.pendingSnapshot
            if writingActiveIndexes {
                activeIndexes = RolledSegmentFiles(state.activeSegment)
                // At close: a snapshot at the log end, so a clean restart replays nothing.
                producerSnapshot = (state.logEndOffset, ProducerStateSnapshot.serialize(state.producers))
            }
            state.pendingSnapshot = nil
            let job = FlushJob(
                targetOffset: state.logEndOffset,
                rolledSegments: state.rolledSegmentsToSync,
                syncDirectory: state.directoryNeedsSync,
                activeLogFile: state.activeSegment.logFile,
                activeIndexes: activeIndexes,
                leaderEpochCheckpoint: state.epochCheckpointNeedsWrite
                    ? LeaderEpochCheckpointFile.serialize(state.epochs) : nil,
                producerSnapshot: producerSnapshot
            )
            state.epochCheckpointNeedsWrite = false
            state.filesBeingSynced = Set(state.rolledSegmentsToSync.map { ObjectIdentifier($0.logFile) })
            state.rolledSegmentsToSync.removeAll()
            state.directoryNeedsSync = false
            state.unflushedRecordCount = 0
            state.oldestUnflushedAppendMs = nil
            return job
        }
        guard let job else { return false }

        var failure: StorageError?
        do {
            try self.perform(job)
        } catch {
            failure = error
            self.environment.logger.error(
                "flush failed; the partition takes no more appends",
                metadata: ["partition": "\(self.topicPartition)", "error": "\(error)"]
            )
        }
        return self.state.withLock { state in
            state.filesBeingSynced.removeAll()
            var completed: [FsyncWaiter] = []
            if let failure {
                state.failure = state.failure ?? failure
                completed = state.fsyncWaiters
                state.fsyncWaiters.removeAll()
                for waiter in completed { waiter.continuation.resume(returning: .failure(failure)) }
                state.isFlushScheduled = false
                for waiter in state.flushIdleWaiters { waiter.resume() }
                state.flushIdleWaiters.removeAll()
                return false
            }
            state.flushedOffset = max(state.flushedOffset, job.targetOffset)
            let flushedOffset = state.flushedOffset
            state.fsyncWaiters.removeAll { waiter in
                guard waiter.lastOffset < flushedOffset else { return false }
                waiter.continuation.resume(returning: .success(waiter.result))
                return true
            }
            return true
        }
    }

    private func perform(_ job: FlushJob) throws(StorageError) {
        let fileSystem = self.environment.fileSystem
        let fsyncs = self.environment.fsyncMetrics
        if let checkpoint = job.leaderEpochCheckpoint {
            try fsyncs.measure { () throws(StorageError) in
                try fileSystem.writeFileAtomically(atPath: self.leaderEpochCheckpointPath, bytes: checkpoint)
            }
        }
        for rolled in job.rolledSegments + (job.activeIndexes.map { [$0] } ?? []) {
            for (path, bytes) in [
                (rolled.offsetIndexPath, rolled.offsetIndexBytes), (rolled.timeIndexPath, rolled.timeIndexBytes),
            ] {
                let file = try fileSystem.openFile(atPath: path, create: true)
                defer { try? file.close() }
                try file.truncate(toSize: 0)
                try file.write(bytes, at: 0)
                try fsyncs.measure { () throws(StorageError) in try file.fsync() }
            }
            try self.writeTransactionIndex(rolled)
            if job.activeIndexes == nil || rolled.logFile !== job.activeLogFile {
                try fsyncs.measure { () throws(StorageError) in try rolled.logFile.fsync() }
            }
        }
        if job.syncDirectory {
            try fsyncs.measure { () throws(StorageError) in try fileSystem.fsyncDirectory(atPath: self.directory) }
        }
        try fsyncs.measure { () throws(StorageError) in try job.activeLogFile.fsync() }
        // After the log it describes is durable: a snapshot never runs ahead of the log.
        if let snapshot = job.producerSnapshot {
            try fsyncs.measure { () throws(StorageError) in try self.writeProducerSnapshot(snapshot) }
        }
    }

    /// Fsyncs everything appended so far; returns once that is on stable storage.
    public func flush() async throws(StorageError) {
        await self.waitUntilFlushIdle(requestingOffset: true)
        if let failure = self.state.withLock({ $0.failure }) { throw failure }
    }

    /// Waits until the flush loop has nothing left to do (having first asked it to flush up to the
    /// log end offset, when `requestingOffset`).
    private func waitUntilFlushIdle(requestingOffset: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let shouldSchedule = self.state.withLock { state in
                if requestingOffset { state.flushRequestedOffset = max(state.flushRequestedOffset, state.logEndOffset) }
                guard state.failure == nil else {
                    continuation.resume()
                    return false
                }
                state.flushIdleWaiters.append(continuation)
                guard !state.isFlushScheduled else { return false }
                state.isFlushScheduled = true
                return true
            }
            if shouldSchedule { self.environment.flushPool.submit { self.runFlushLoop() } }
        }
    }

    /// Requests a flush when `flush.ms` has passed since the oldest unflushed append (Kafka checks
    /// this periodically too, in `LogManager.flushDirtyLogs`).
    func flushIfDue(nowMs: Int64) {
        let isDue = self.state.withLock { state in
            guard let oldestMs = state.oldestUnflushedAppendMs, nowMs - oldestMs >= state.config.flushMs else {
                return false
            }
            state.flushRequestedOffset = max(state.flushRequestedOffset, state.logEndOffset)
            return true
        }
        if isDue { self.scheduleFlushIfNeeded() }
    }

    /// The error that stopped this log (a failed flush), or nil while it works. Sticky: a failed
    /// fsync is never retried as if it could succeed (the pages it did not write may be gone);
    /// reopening the data directory recovers from what is on disk.
    public var failure: StorageError? { self.state.withLock { $0.failure } }

    // MARK: Reading

    /// Whole batches starting with the one that holds `offset`, up to `maxBytes` (but at least that
    /// first batch, however large), from a single segment, excluding batches at or past
    /// `maxOffset` when given — and with `.readCommitted` at or past the last stable offset, the
    /// result then carrying the aborted transactions that overlap the returned batches.
    ///
    /// - Throws: `.offsetOutOfRange` when `offset` is below the log start offset or above the log
    ///   end offset (at the log end offset the result is empty); `.io` on a read failure.
    public func read(
        from offset: Int64,
        maxBytes: Int,
        upTo maxOffset: Int64? = nil,
        isolation: ReadIsolation = .readUncommitted
    ) throws(StorageError) -> LogReadResult {
        typealias Plan = (
            snapshot: SegmentSnapshot?, limit: SegmentSnapshot?, result: LogReadResult,
            transactionIndexes: [TransactionIndex]
        )
        let plan = try self.state.withLock { state throws(StorageError) -> Plan in
            // A failed log serves nothing, as Kafka's offline log directory: what it holds past
            // its last good fsync may not survive a restart.
            if let failure = state.failure { throw failure }
            let logEndOffset = state.logEndOffset
            let lastStableOffset = state.lastStableOffset
            let result = LogReadResult(
                records: ByteBuffer(),
                highWatermark: logEndOffset,
                logStartOffset: state.logStartOffset,
                logEndOffset: logEndOffset,
                lastStableOffset: lastStableOffset,
                abortedTransactions: isolation == .readCommitted ? [] : nil
            )
            var maxOffset = maxOffset
            if isolation == .readCommitted { maxOffset = min(maxOffset ?? .max, lastStableOffset) }
            guard offset >= state.logStartOffset, offset <= logEndOffset else {
                throw StorageError(
                    .offsetOutOfRange,
                    "offset \(offset) is outside [\(state.logStartOffset), \(logEndOffset)] of \(self.topicPartition)"
                )
            }
            if offset == logEndOffset { return (nil, nil, result, []) }
            if let maxOffset, maxOffset <= offset { return (nil, nil, result, []) }
            var index = state.segmentIndex(containing: offset)
            // An offset past its segment's last record but below the next segment's base (a gap,
            // as compaction leaves) reads from the next segment, as Kafka's LocalLog.read does.
            while offset >= state.segments[index].nextOffset, index + 1 < state.segments.count { index += 1 }
            let segment = state.segments[index]
            var limit: SegmentSnapshot?
            if let maxOffset, maxOffset < segment.nextOffset { limit = segment.snapshot(forOffset: maxOffset) }
            // The txnindexes of this segment and every later one (a marker follows its data).
            let transactionIndexes =
                isolation == .readCommitted
                ? state.segments[index...].map(\.transactionIndex).filter { !$0.isEmpty } : []
            return (segment.snapshot(forOffset: offset), limit, result, transactionIndexes)
        }
        var result = plan.result
        guard let snapshot = plan.snapshot, let (position, _) = try snapshot.findBatch(containing: offset) else {
            return result
        }
        var limitPosition = snapshot.endPosition
        let maxOffset = isolation == .readCommitted ? min(maxOffset ?? .max, result.lastStableOffset) : maxOffset
        if let limit = plan.limit, let maxOffset, let (position, _) = try limit.findBatch(containing: maxOffset) {
            limitPosition = position
        }
        result.records = try snapshot.readBatches(from: position, maxBytes: maxBytes, limitPosition: limitPosition)
        if isolation == .readCommitted, let upperBoundOffset = Self.nextOffset(after: result.records) {
            result.abortedTransactions = Self.collectAbortedTransactions(
                plan.transactionIndexes,
                fetchOffset: offset,
                upperBoundOffset: upperBoundOffset
            )
        }
        return result
    }

    /// The first offset at or after the log start offset whose record timestamp is ≥
    /// `timestampMs`, with that timestamp (Kafka's ListOffsets by time), found through the time
    /// indexes; nil when every record is older (or the search failed on an I/O error, which is
    /// logged).
    public func offset(forTimestamp timestampMs: Int64) -> (offset: Int64, timestamp: Int64)? {
        let (snapshots, logStartOffset) = self.state.withLock { state in
            let candidates = state.segments.filter {
                $0.maxTimestampMs >= timestampMs && $0.nextOffset > state.logStartOffset
            }
            return (candidates.map { $0.snapshot(forTimestamp: timestampMs) }, state.logStartOffset)
        }
        do {
            for snapshot in snapshots {
                if let found = try snapshot.findRecord(atOrAfterTimestamp: timestampMs, minimumOffset: logStartOffset) {
                    return (found.offset, found.timestampMs)
                }
            }
        } catch {
            self.environment.logger.error(
                "offset lookup by timestamp failed",
                metadata: ["partition": "\(self.topicPartition)", "error": "\(error)"]
            )
        }
        return nil
    }

    /// The first record with the largest timestamp in the log, and that timestamp (ListOffsets'
    /// MAX_TIMESTAMP, KIP-734); nil for an empty log.
    public func offsetOfMaxTimestamp() -> (offset: Int64, timestamp: Int64)? {
        let largest = self.state.withLock { state in
            state.segments.filter { $0.nextOffset > state.logStartOffset }.map(\.maxTimestampMs).max() ?? -1
        }
        guard largest >= 0 else { return nil }
        return self.offset(forTimestamp: largest)
    }

    /// Waits until the log end offset is beyond `offset` (data at `offset` can be read), the
    /// timeout passes, the task is cancelled or the log is closed. Returns whether data is there.
    /// Appends wake waiters directly, so a long-polling Fetch costs no polling.
    public func waitForData(beyond offset: Int64, timeout: Duration) async -> Bool {
        let id: Int? = self.state.withLock { state in
            guard state.logEndOffset <= offset, !state.isClosed else { return nil }
            state.nextDataWaiterID += 1
            return state.nextDataWaiterID
        }
        guard let id else { return self.logEndOffset > offset }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        self.state.withLock { state in
                            if state.logEndOffset > offset || state.isClosed || Task.isCancelled {
                                continuation.resume()
                            } else {
                                state.dataWaiters[id] = (offset, continuation)
                            }
                        }
                    }
                } onCancel: {
                    self.resumeDataWaiter(id: id)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.resumeDataWaiter(id: id)
            }
            await group.next()
            group.cancelAll()
        }
        return self.logEndOffset > offset
    }

    private func resumeDataWaiter(id: Int) {
        self.state.withLock { state in
            state.dataWaiters.removeValue(forKey: id)?.continuation.resume()
        }
    }

    // MARK: Deleting

    /// Makes `offset` the log start offset (Kafka's DeleteRecords): earlier offsets become
    /// unreadable and whole segments below it are deleted, except the active one. Persists the log
    /// start offsets before returning. Moving backwards is a no-op.
    ///
    /// - Throws: `.offsetOutOfRange` when `offset` is negative or above the high watermark.
    public func deleteRecords(before offset: Int64) throws(StorageError) {
        let changed = try self.state.withLock { state throws(StorageError) -> Bool in
            guard !state.isClosed else { throw StorageError(.closed, "\(self.topicPartition) is closed") }
            guard offset >= 0, offset <= state.logEndOffset else {
                throw StorageError(
                    .offsetOutOfRange,
                    "cannot delete before \(offset): the high watermark of \(self.topicPartition) is \(state.logEndOffset)"
                )
            }
            guard offset > state.logStartOffset else { return false }
            state.logStartOffset = offset
            try self.deleteSegments(&state, count: self.countSegmentsBelowLogStart(state))
            self.truncateLeaderEpochsToLogStart(&state)
            return true
        }
        guard changed else { return }
        try self.environment.persistLogStartOffsets()
        self.scheduleFlushIfNeeded()  // Makes the segment deletions durable.
    }

    /// Applies `retention.ms` and `retention.bytes` (when `cleanup.policy` has `delete`) and drops
    /// segments wholly below the log start offset, oldest first and never the active segment.
    /// Returns whether the log start offset moved.
    func applyRetention(nowMs: Int64) throws(StorageError) -> Bool {
        let moved = try self.state.withLock { state throws(StorageError) -> Bool in
            guard !state.isClosed else { return false }
            var count = self.countSegmentsBelowLogStart(state)
            let deletable = state.segments.count - 1
            let config = state.config
            if config.cleanupPolicy.contains(.delete) {
                if config.retentionMs >= 0 {
                    while count < deletable && nowMs - state.segments[count].maxTimestampMs > config.retentionMs {
                        count += 1
                    }
                }
                if config.retentionBytes >= 0 {
                    var remainingBytes = state.segments[count...].reduce(Int64(0)) { $0 + Int64($1.sizeBytes) }
                    while count < deletable
                        && remainingBytes - Int64(state.segments[count].sizeBytes) >= config.retentionBytes
                    {
                        remainingBytes -= Int64(state.segments[count].sizeBytes)
                        count += 1
                    }
                }
            }
            let oldLogStartOffset = state.logStartOffset
            try self.deleteSegments(&state, count: count)
            self.truncateLeaderEpochsToLogStart(&state)
            return state.logStartOffset != oldLogStartOffset
        }
        if moved { self.scheduleFlushIfNeeded() }
        return moved
    }

    /// Kafka's `truncateFromStart` after the log start moved; the flusher rewrites the checkpoint.
    private func truncateLeaderEpochsToLogStart(_ state: inout State) {
        if state.epochs.truncateFromStart(state.logStartOffset) { state.epochCheckpointNeedsWrite = true }
    }

    private func countSegmentsBelowLogStart(_ state: State) -> Int {
        var count = 0
        while count < state.segments.count - 1 && state.segments[count].nextOffset <= state.logStartOffset {
            count += 1
        }
        return count
    }

    /// Deletes the oldest `count` segments (never the active one) and moves the log start offset
    /// to the first remaining segment if it was below it.
    private func deleteSegments(_ state: inout State, count: Int) throws(StorageError) {
        precondition(count < state.segments.count, "the active segment is never deleted")
        guard count > 0 else { return }
        for segment in state.segments[..<count] {
            try segment.deleteFiles(fileSystem: self.environment.fileSystem)
            state.rolledSegmentsToSync.removeAll { $0.logFile === segment.logFile }
        }
        state.segments.removeFirst(count)
        state.logStartOffset = max(state.logStartOffset, state.segments[0].baseOffset)
        state.directoryNeedsSync = true
        self.environment.logger.info(
            "deleted segments",
            metadata: [
                "partition": "\(self.topicPartition)", "count": "\(count)",
                "logStartOffset": "\(state.logStartOffset)",
            ]
        )
    }

    // MARK: Closing

    /// Stops appends, fsyncs everything, writes the active segment's index files and closes the
    /// files. Pending `.fsync` appends complete first; long-polls return.
    func close() async throws(StorageError) {
        self.markClosed()
        await self.waitUntilFlushIdle(requestingOffset: true)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.environment.flushPool.submit {
                _ = self.runFlushRound(writingActiveIndexes: true)
                continuation.resume()
            }
        }
        let (failure, files) = self.state.withLock { state in (state.failure, state.segments.map(\.logFile)) }
        for file in files { try? file.close() }
        if let failure { throw failure }

    }

    /// Stops appends and wakes long-polls, as for a deleted topic; the files are left to the caller.
    func markClosed() {
        self.state.withLock { state in
            state.isClosed = true
            for (_, waiter) in state.dataWaiters { waiter.continuation.resume() }
            state.dataWaiters.removeAll()
        }
    }
}
