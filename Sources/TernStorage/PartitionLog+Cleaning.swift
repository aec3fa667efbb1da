import Logging
import NIOCore
import Synchronization
import TernRecords

/// A step of a cleaning pass, reported to the test hook after it is done (crash tests stop there).
enum CleanerStep: Hashable, Sendable, CustomStringConvertible {
    /// The group's `.cleaned` files are written and fsynced.
    case cleanedFilesWritten(baseOffset: Int64)
    /// They are renamed to `.swap` and the directory is fsynced: the swap is committed.
    case swapCommitted(baseOffset: Int64)
    /// The segment list holds the new segment and the old segments' files are unlinked.
    case oldSegmentsRemoved(baseOffset: Int64)
    /// The unlinks are durable.
    case removalsSynced(baseOffset: Int64)
    /// The `.swap` files carry their final names.
    case swapRenamed(baseOffset: Int64)
    /// The renames are durable: the group is done.
    case swapSynced(baseOffset: Int64)

    var description: String {
        switch self {
        case .cleanedFilesWritten(let base): "cleanedFilesWritten(\(base))"
        case .swapCommitted(let base): "swapCommitted(\(base))"
        case .oldSegmentsRemoved(let base): "oldSegmentsRemoved(\(base))"
        case .removalsSynced(let base): "removalsSynced(\(base))"
        case .swapRenamed(let base): "swapRenamed(\(base))"
        case .swapSynced(let base): "swapSynced(\(base))"
        }
    }
}

/// What one cleaning pass did.
struct CleaningPassResult: Sendable, Hashable {
    /// Bytes of the segments rewritten, before and after.
    var bytesRead: Int64 = 0
    var bytesWritten: Int64 = 0
    var recordsRead: Int64 = 0
    var recordsKept: Int64 = 0
    /// The clean/dirty boundary after the pass.
    var firstDirtyOffset: Int64 = 0
    var segmentGroupCount = 0
}

/// How dirty a compacted partition is, for picking which one to clean.
struct CleaningCandidate: Sendable {
    var log: PartitionLog
    /// Dirty bytes / cleanable bytes (0 when there is nothing to clean).
    var dirtyRatio: Double
    /// Clean now whatever the ratio: `max.compaction.lag.ms` passed for the oldest dirty segment,
    /// or a kept tombstone's delete horizon passed.
    var isOverdue: Bool
    var minimumDirtyRatio: Double

    var isCleanable: Bool { self.isOverdue || (self.dirtyRatio > 0 && self.dirtyRatio >= self.minimumDirtyRatio) }
}

/// A finished cleaned segment on its way into the partition's segment list (see `swapIn`).
private struct HandedOverSegment: @unchecked Sendable {
    let segment: LogSegment
}

/// A segment below the active one, as the cleaner sees it: immutable while the log is open.
private struct CleanableSegment: Sendable {
    var identity: ObjectIdentifier
    var file: any StorageFile
    var baseOffset: Int64
    var sizeBytes: Int
    var nextOffset: Int64
    /// Carried into the cleaned segment: the markers stay, so the entries stay true.
    var transactionIndex: TransactionIndex
}

/// The aborted transactions of a partition by producer, as the cleaner checks batches against them.
private struct AbortedRanges {
    private var ranges: [Int64: [ClosedRange<Int64>]] = [:]

    init(_ entries: some Sequence<AbortedTransaction>) {
        for entry in entries { self.ranges[entry.producerId, default: []].append(entry.firstOffset...entry.lastOffset) }
    }

    /// Whether `batch` holds records of an aborted transaction (a producer has one transaction at a
    /// time, so its batch inside one of its aborted ranges belongs to it).
    func contains(_ batch: RecordBatch) -> Bool {
        guard batch.attributes.isTransactional, !batch.attributes.isControl, batch.producerId >= 0,
            let ranges = self.ranges[batch.producerId]
        else { return false }
        return ranges.contains { $0.contains(batch.baseOffset) }
    }
}

extension PartitionLog {
    // MARK: Choosing

    /// The segments the cleaner may rewrite, oldest first: every segment before the active one,
    /// stopping at the first one the flusher still has to write (its index files would be written
    /// after the swap), at the first one younger than `min.compaction.lag.ms`, and at the first one
    /// reaching the last stable offset (Kafka never cleans undecided transactions).
    private static func cleanableSegments(_ state: State, nowMs: Int64) -> [CleanableSegment] {
        var cleanable: [CleanableSegment] = []
        let pending = state.filesBeingSynced.union(state.rolledSegmentsToSync.map { ObjectIdentifier($0.logFile) })
        let lastStableOffset = state.lastStableOffset
        for segment in state.segments.dropLast() {
            if pending.contains(ObjectIdentifier(segment.logFile)) { break }
            if segment.nextOffset > lastStableOffset { break }
            if state.config.minCompactionLagMs > 0 && nowMs - segment.maxTimestampMs < state.config.minCompactionLagMs {
                break
            }
            if segment.nextOffset <= state.logStartOffset { continue }
            cleanable.append(
                CleanableSegment(
                    identity: ObjectIdentifier(segment),
                    file: segment.logFile,
                    baseOffset: segment.baseOffset,
                    sizeBytes: segment.sizeBytes,
                    nextOffset: segment.nextOffset,
                    transactionIndex: segment.transactionIndex
                )
            )
        }
        return cleanable
    }

    /// How dirty this partition is; nil when it is not compacted, closed or failed.
    func cleaningCandidate(nowMs: Int64) -> CleaningCandidate? {
        self.state.withLock { state -> CleaningCandidate? in
            guard state.config.cleanupPolicy.contains(.compact), !state.isClosed, state.failure == nil else {
                return nil
            }
            let firstDirty = max(state.firstDirtyOffset, state.logStartOffset)
            var cleanBytes: Int64 = 0
            var dirtyBytes: Int64 = 0
            var oldestDirtyTimestampMs: Int64?
            let config = state.config
            let pending = state.filesBeingSynced.union(state.rolledSegmentsToSync.map { ObjectIdentifier($0.logFile) })
            let lastStableOffset = state.lastStableOffset
            for segment in state.segments.dropLast() {
                if pending.contains(ObjectIdentifier(segment.logFile)) { break }
                if segment.nextOffset > lastStableOffset { break }
                if config.minCompactionLagMs > 0 && nowMs - segment.maxTimestampMs < config.minCompactionLagMs { break }
                if segment.nextOffset <= firstDirty {
                    cleanBytes += Int64(segment.sizeBytes)
                } else {
                    dirtyBytes += Int64(segment.sizeBytes)
                    if oldestDirtyTimestampMs == nil { oldestDirtyTimestampMs = segment.rollBaseTimeMs }
                }
            }
            let total = cleanBytes + dirtyBytes
            var isOverdue = false
            if let oldest = oldestDirtyTimestampMs, config.maxCompactionLagMs < .max,
                nowMs - oldest > config.maxCompactionLagMs
            {
                isOverdue = true
            }
            if let horizon = state.earliestDeleteHorizonMs, nowMs >= horizon, cleanBytes > 0 { isOverdue = true }
            return CleaningCandidate(
                log: self,
                dirtyRatio: total > 0 ? Double(dirtyBytes) / Double(total) : 0,
                isOverdue: isOverdue,
                minimumDirtyRatio: config.minCleanableDirtyRatio
            )
        }
    }

    /// The clean/dirty boundary: offsets below it were compacted by an earlier pass.
    var firstDirtyOffset: Int64 { self.state.withLock { max($0.firstDirtyOffset, $0.logStartOffset) } }

    // MARK: Cleaning

    /// One cleaning pass (Kafka's `Cleaner.clean`): builds the key → last offset map over the dirty
    /// section (as far as `offsetMapBudgetBytes` allows), then rewrites the segments below the
    /// map's end in groups of at most `segment.bytes`, keeping per key only its last record,
    /// tombstones until their delete horizon, and each producer's last batch and each group's last
    /// batch (as an empty header when none of its records stay, as Kafka does for producers); each
    /// group is
    /// swapped in as `docs/storage.md` describes. The active segment is never touched. Runs on the
    /// calling thread, which it blocks for the file I/O; the partition's lock is taken only briefly.
    ///
    /// - Parameters:
    ///   - throttle: Charged with every byte read and written (`log.cleaner.io.max.bytes.per.second`).
    ///   - shouldStop: Polled every few hundred batches; true stops the pass (the cleaner shuts down).
    ///   - afterStep: Test hook called after each step of a swap; throwing stops the pass there.
    /// - Throws: `.closed` when the log was closed meanwhile; file-system errors. A pass stopped by
    ///   an error leaves the log consistent (recovery completes or discards its files).
    func clean(
        nowMs: Int64,
        offsetMapBudgetBytes: Int,
        throttle: CleanerThrottle? = nil,
        shouldStop: () -> Bool = { false },
        afterStep: ((CleanerStep) throws(StorageError) -> Void)? = nil
    ) throws(StorageError) -> CleaningPassResult {
        try self.cleanerLock.withLock { _ throws(StorageError) -> CleaningPassResult in
            try self.cleanLocked(
                nowMs: nowMs,
                offsetMapBudgetBytes: offsetMapBudgetBytes,
                throttle: throttle,
                shouldStop: shouldStop,
                afterStep: afterStep
            )
        }
    }

    private func cleanLocked(
        nowMs: Int64,
        offsetMapBudgetBytes: Int,
        throttle: CleanerThrottle?,
        shouldStop: () -> Bool,
        afterStep: ((CleanerStep) throws(StorageError) -> Void)?
    ) throws(StorageError) -> CleaningPassResult {
        let (segments, firstDirty, config, aborted) = try self.state.withLock {
            state throws(StorageError) -> ([CleanableSegment], Int64, LogConfig, AbortedRanges) in
            guard !state.isClosed else { throw StorageError(.closed, "\(self.topicPartition) is closed") }
            if let failure = state.failure { throw failure }
            return (
                Self.cleanableSegments(state, nowMs: nowMs), max(state.firstDirtyOffset, state.logStartOffset),
                state.config,
                // Every segment's: a marker may sit past the cleanable ones.
                AbortedRanges(state.segments.flatMap(\.transactionIndex.entries))
            )
        }
        var result = CleaningPassResult(firstDirtyOffset: firstDirty)
        guard !segments.isEmpty else { return result }

        // Each producer's last batch (by base offset) is kept, so its sequence state survives.
        var lastBatchOfProducer: [Int64: Int64] = [:]
        for segment in segments where segment.baseOffset < firstDirty {
            try Self.forEachBatch(in: segment, throttle: throttle) { batch throws(StorageError) in
                guard batch.baseOffset < firstDirty else { return false }
                if batch.producerId >= 0 { lastBatchOfProducer[batch.producerId] = batch.baseOffset }
                return true
            }
        }

        // The offset map over the dirty section, stopping at a batch boundary when it is full.
        var map = OffsetMap(budgetBytes: offsetMapBudgetBytes)
        var mapEndOffset = firstDirty
        var mapIsFull = false
        var mappedBatches = 0
        for segment in segments where segment.nextOffset > firstDirty && !mapIsFull {
            try Self.forEachBatch(in: segment, throttle: throttle) { batch throws(StorageError) in
                guard batch.lastOffset >= firstDirty else { return true }
                mappedBatches += 1
                if mappedBatches % 256 == 0, shouldStop() {
                    throw StorageError(.closed, "\(self.topicPartition): the cleaner stops")
                }
                guard map.canHold(additional: Int(batch.recordCount)) else {
                    if map.count == 0 {
                        throw StorageError(
                            .invalidConfig,
                            "log.cleaner.dedupe.buffer.size holds fewer keys than one batch of \(self.topicPartition) has (\(batch.recordCount))"
                        )
                    }
                    mapIsFull = true
                    return false
                }
                if batch.producerId >= 0 { lastBatchOfProducer[batch.producerId] = batch.baseOffset }
                mapEndOffset = batch.nextOffset
                // Aborted records never shadow a committed one, and control records have no key.
                if aborted.contains(batch) || batch.attributes.isControl { return true }
                do {
                    for record in try batch.records(decompressionLimit: SegmentSnapshot.decompressionLimitBytes)
                    where record.offset >= firstDirty {
                        if let key = record.key { map.put(key: key, offset: record.offset) }
                    }
                } catch {
                    throw StorageError(
                        .corruptBatch,
                        "\(self.topicPartition): unreadable batch at \(batch.baseOffset)",
                        cause: error
                    )
                }
                return true
            }
        }
        guard
            mapEndOffset > firstDirty
                || self.state.withLock({ state in
                    state.earliestDeleteHorizonMs.map { nowMs >= $0 } ?? false
                })
        else { return result }

        // Groups of consecutive segments below the map's end, each at most segment.bytes with
        // relative offsets that fit an Int32.
        var groups: [[CleanableSegment]] = []
        for segment in segments where segment.baseOffset < max(mapEndOffset, firstDirty) {
            if var last = groups.last, let first = last.first,
                last.reduce(0, { $0 + $1.sizeBytes }) + segment.sizeBytes <= config.segmentBytes,
                segment.nextOffset - 1 - first.baseOffset <= Int64(Int32.max)
            {
                last.append(segment)
                groups[groups.count - 1] = last
            } else {
                groups.append([segment])
            }
        }

        var earliestHorizon: Int64?
        var everyGroupSwapped = true
        for group in groups {
            let written = try self.rewrite(
                group,
                map: map,
                aborted: aborted,
                lastBatchOfProducer: lastBatchOfProducer,
                config: config,
                nowMs: nowMs,
                throttle: throttle,
                shouldStop: shouldStop,
                afterStep: afterStep
            )
            result.bytesRead += written.bytesRead
            result.bytesWritten += written.bytesWritten
            result.recordsRead += written.recordsRead
            result.recordsKept += written.recordsKept
            result.segmentGroupCount += 1
            everyGroupSwapped = everyGroupSwapped && written.swapped
            if let horizon = written.earliestHorizon { earliestHorizon = min(earliestHorizon ?? horizon, horizon) }
        }
        // An abandoned swap left its records uncleaned: the next pass starts from the same boundary.
        let newFirstDirty = everyGroupSwapped ? max(mapEndOffset, firstDirty) : firstDirty
        self.state.withLock { state in
            state.firstDirtyOffset = max(state.firstDirtyOffset, newFirstDirty)
            state.earliestDeleteHorizonMs = earliestHorizon
        }
        result.firstDirtyOffset = newFirstDirty
        return result
    }

    private struct GroupResult {
        var bytesRead: Int64 = 0
        var bytesWritten: Int64 = 0
        var recordsRead: Int64 = 0
        var recordsKept: Int64 = 0
        var earliestHorizon: Int64?
        var swapped = false
    }

    /// Rewrites one group into a `.cleaned` segment and swaps it in.
    private func rewrite(
        _ group: [CleanableSegment],
        map: OffsetMap,
        aborted: AbortedRanges,
        lastBatchOfProducer: [Int64: Int64],
        config: LogConfig,
        nowMs: Int64,
        throttle: CleanerThrottle?,
        shouldStop: () -> Bool,
        afterStep: ((CleanerStep) throws(StorageError) -> Void)?
    ) throws(StorageError) -> GroupResult {
        let fileSystem = self.environment.fileSystem
        let baseOffset = group[0].baseOffset
        let cleaned = try LogSegment.createCleaned(
            directory: self.directory,
            baseOffset: baseOffset,
            config: config,
            nowMs: nowMs,
            fileSystem: fileSystem
        )
        var result = GroupResult()
        let groupEndOffset = group[group.count - 1].nextOffset
        let horizonForNewTombstones =
            nowMs > Int64.max - config.deleteRetentionMs ? Int64.max : nowMs + config.deleteRetentionMs
        var batchesSinceCheck = 0
        do {
            for segment in group {
                result.bytesRead += Int64(segment.sizeBytes)
                try Self.forEachBatch(in: segment, throttle: throttle) { batch throws(StorageError) in
                    batchesSinceCheck += 1
                    if batchesSinceCheck >= 256 {
                        batchesSinceCheck = 0
                        if shouldStop() || self.state.withLock({ $0.isClosed }) {
                            throw StorageError(.closed, "\(self.topicPartition) is closed or the cleaner stops")
                        }
                    }
                    result.recordsRead += Int64(batch.recordCount)
                    let kept: ByteBuffer?
                    // The group's last batch stays too, so the new segment ends where the group
                    // ended: segments stay contiguous, which recovery relies on (a segment starting
                    // past its predecessor's end after a crash means lost records to it).
                    let keepsHeader =
                        batch.nextOffset == groupEndOffset
                        || (batch.producerId >= 0 && lastBatchOfProducer[batch.producerId] == batch.baseOffset)
                    if batch.attributes.isControl {
                        // Markers stay (their removal after delete.retention.ms is not done).
                        kept = batch.buffer
                    } else if aborted.contains(batch) {
                        // An aborted transaction's records go; a producer's last batch stays as a header.
                        kept = keepsHeader ? batch.emptyHeader() : nil
                    } else {
                        let horizon = batch.deleteHorizonMs
                        let retained: RecordBatch.Retained
                        do {
                            retained = try batch.retainingRecords(
                                decompressionLimit: SegmentSnapshot.decompressionLimitBytes,
                                deleteHorizonMs: horizonForNewTombstones
                            ) { record in
                                // Kafka drops keyless records of compacted topics when cleaning.
                                guard let key = record.key else { return false }
                                if let last = map.get(key: key), record.offset < last { return false }
                                if record.value == nil, let horizon, nowMs >= horizon { return false }
                                return true
                            }
                        } catch {
                            throw StorageError(
                                .corruptBatch,
                                "\(self.topicPartition): cannot rewrite the batch at \(batch.baseOffset)",
                                cause: error
                            )
                        }
                        switch retained {
                        case .unchanged: kept = batch.buffer
                        case .rewritten(let bytes): kept = bytes
                        // A producer's last batch stays, if need be as an empty header (Kafka's rule).
                        case .empty: kept = keepsHeader ? batch.emptyHeader() : nil
                        }
                    }
                    guard let kept else { return true }
                    let keptBatch: RecordBatch
                    do { keptBatch = try RecordBatch(kept) } catch {
                        throw StorageError(.corruptBatch, "rewritten batch is not a batch", cause: error)
                    }
                    result.recordsKept += Int64(keptBatch.recordCount)
                    // A horizon still ahead: the partition is due for cleaning when it passes.
                    if let horizon = keptBatch.deleteHorizonMs, horizon > nowMs {
                        result.earliestHorizon = min(result.earliestHorizon ?? horizon, horizon)
                    }
                    try cleaned.append(kept, summary: BatchSummary(keptBatch), nowMs: nowMs)
                    throttle?.charge(bytes: kept.readableBytes)
                    return true
                }
            }
        } catch {
            try? cleaned.logFile.close()
            try? fileSystem.remove(atPath: cleaned.logFile.path)
            throw error
        }
        for segment in group {
            for entry in segment.transactionIndex.entries { cleaned.transactionIndex.append(entry) }
        }
        result.bytesWritten = Int64(cleaned.sizeBytes)
        result.swapped = try self.swapIn(cleaned, replacing: group, afterStep: afterStep)
        return result
    }

    /// The swap (see docs/storage.md, "Log cleaner"): `.cleaned` written and fsynced, renamed to
    /// `.swap` and the directory fsynced (the commit point: recovery completes it from here), the
    /// segment list updated and the old files unlinked under the lock, the unlinks made durable,
    /// then the `.swap` files renamed to their final names and that made durable. Old handles stay
    /// open for readers holding snapshots (unlinked files stay readable until closed).
    private func swapIn(
        _ cleaned: LogSegment,
        replacing group: [CleanableSegment],
        afterStep: ((CleanerStep) throws(StorageError) -> Void)?
    ) throws(StorageError) -> Bool {
        let fileSystem = self.environment.fileSystem
        let baseOffset = cleaned.baseOffset
        let hasTxnIndex = !cleaned.transactionIndex.isEmpty
        let finalPaths =
            [cleaned.offsetIndexPath, cleaned.timeIndexPath] + (hasTxnIndex ? [cleaned.txnIndexPath] : [])
            + [cleaned.logPath]
        let isEmpty = cleaned.isEmpty
        let cleanedIdentity = ObjectIdentifier(cleaned)
        let cleanedFile = cleaned.logFile
        let identities = group.map(\.identity)
        // The segment is complete and this thread never touches it again once the log holds it;
        // from then on the partition's lock guards it like every other segment.
        let handedOver = HandedOverSegment(segment: cleaned)
        if isEmpty {
            try? cleaned.logFile.close()
            try fileSystem.remove(atPath: cleaned.logFile.path)
        } else {
            let (offsetIndexBytes, timeIndexBytes) = cleaned.indexFileContents()
            var indexFiles = [(cleaned.offsetIndexPath, offsetIndexBytes), (cleaned.timeIndexPath, timeIndexBytes)]
            if hasTxnIndex { indexFiles.append((cleaned.txnIndexPath, cleaned.transactionIndex.serialized())) }
            for (path, bytes) in indexFiles {
                let file = try fileSystem.openFile(atPath: path + LogCleaner.cleanedSuffix, create: true)
                defer { try? file.close() }
                try file.truncate(toSize: 0)
                try file.write(bytes, at: 0)
                try file.fsync()
            }
            try cleaned.logFile.fsync()
            try afterStep?(.cleanedFilesWritten(baseOffset: baseOffset))
            // The log last: its `.swap` is what recovery looks for.
            for path in finalPaths {
                try fileSystem.rename(atPath: path + LogCleaner.cleanedSuffix, toPath: path + LogCleaner.swapSuffix)
            }
            try fileSystem.fsyncDirectory(atPath: self.directory)
            try afterStep?(.swapCommitted(baseOffset: baseOffset))
        }

        let swapped = try self.state.withLock { state throws(StorageError) -> Bool in
            guard let first = state.segments.firstIndex(where: { ObjectIdentifier($0) == identities[0] }),
                first + identities.count < state.segments.count,
                zip(state.segments[first...], identities).allSatisfy({ ObjectIdentifier($0.0) == $0.1 })
            else { return false }  // Retention or DeleteRecords removed some meanwhile.
            let old = Array(state.segments[first..<first + identities.count])
            state.segments.replaceSubrange(first..<first + identities.count, with: isEmpty ? [] : [handedOver.segment])
            for segment in old {
                state.rolledSegmentsToSync.removeAll { $0.logFile === segment.logFile }
                for path in [segment.logPath, segment.offsetIndexPath, segment.timeIndexPath]
                where !(segment.baseOffset == baseOffset && !isEmpty) && fileSystem.fileExists(atPath: path) {
                    try fileSystem.remove(atPath: path)
                }
                // The same-base txnindex is replaced by the rename, or must go when the cleaned
                // segment has none.
                if !(segment.baseOffset == baseOffset && hasTxnIndex)
                    && fileSystem.fileExists(atPath: segment.txnIndexPath)
                {
                    try fileSystem.remove(atPath: segment.txnIndexPath)
                }
            }
            return true
        }
        if !swapped {
            self.environment.logger.info(
                "cleaned segment no longer matches the log; discarding it",
                metadata: ["partition": "\(self.topicPartition)", "baseOffset": "\(baseOffset)"]
            )
            try? cleanedFile.close()
            for path in finalPaths where fileSystem.fileExists(atPath: path + LogCleaner.swapSuffix) {
                try fileSystem.remove(atPath: path + LogCleaner.swapSuffix)
            }
            try fileSystem.fsyncDirectory(atPath: self.directory)
            return false
        }
        try afterStep?(.oldSegmentsRemoved(baseOffset: baseOffset))
        try fileSystem.fsyncDirectory(atPath: self.directory)
        try afterStep?(.removalsSynced(baseOffset: baseOffset))
        guard !isEmpty else { return true }
        // Under the lock, so retention cannot delete the new segment between check and rename.
        try self.state.withLock { state throws(StorageError) in
            let present = state.segments.contains { ObjectIdentifier($0) == cleanedIdentity }
            for path in finalPaths {
                if present {
                    try fileSystem.rename(atPath: path + LogCleaner.swapSuffix, toPath: path)
                } else if fileSystem.fileExists(atPath: path + LogCleaner.swapSuffix) {
                    try fileSystem.remove(atPath: path + LogCleaner.swapSuffix)
                }
            }
        }
        try afterStep?(.swapRenamed(baseOffset: baseOffset))
        try fileSystem.fsyncDirectory(atPath: self.directory)
        try afterStep?(.swapSynced(baseOffset: baseOffset))
        return true
    }

    /// Calls `body` with every batch of the segment in order until it returns false. Reads in
    /// chunks, charging the throttle.
    private static func forEachBatch(
        in segment: CleanableSegment,
        throttle: CleanerThrottle?,
        _ body: (RecordBatch) throws(StorageError) -> Bool
    ) throws(StorageError) {
        var position = 0
        while position < segment.sizeBytes {
            var chunk = try segment.file.read(
                at: Int64(position),
                count: min(LogSegment.scanChunkByteCount, segment.sizeBytes - position)
            )
            guard let length = chunk.getInteger(at: chunk.readerIndex + 8, as: Int32.self) else {
                throw StorageError(.corruptBatch, "\(segment.file.path) ends inside a batch at \(position)")
            }
            let firstByteCount = Int(length) + RecordBatch.logOverheadByteCount
            if firstByteCount > chunk.readableBytes {
                chunk = try segment.file.read(at: Int64(position), count: firstByteCount)
            }
            throttle?.charge(bytes: chunk.readableBytes)
            var reader = RecordBatchReader(chunk)
            var consumed = 0
            while true {
                let next: RecordBatch?
                do { next = try reader.next() } catch {
                    throw StorageError(
                        .corruptBatch,
                        "\(segment.file.path): bad batch at \(position + consumed)",
                        cause: error
                    )
                }
                guard let batch = next else { break }
                consumed += batch.byteCount
                guard try body(batch) else { return }
            }
            guard consumed > 0 else {
                throw StorageError(.corruptBatch, "\(segment.file.path): truncated batch at \(position)")
            }
            position += consumed
        }
    }

    // MARK: Recovery

    /// Completes every committed cleaner swap in a partition directory (a `<base>.log.swap` file
    /// exists only once all of its group's `.swap` files were written, fsynced and renamed, and
    /// the rename made durable): removes the segments whose base offset lies in the swap's offsets,
    /// makes that durable, renames the `.swap` files to their final names and makes that durable.
    /// `.cleaned` files and index `.swap` files without their log are removed later by `open`.
    static func completeCleanerSwaps(directory: String, fileSystem: any FileSystem, logger: Logger) throws(StorageError)
    {
        let names = try fileSystem.listDirectory(atPath: directory)
        let logSuffix = "." + SegmentFileName.Kind.log.rawValue + LogCleaner.swapSuffix
        var swapBases: [Int64] = []
        var logBases: [Int64] = []
        for name in names {
            if name.hasSuffix(logSuffix),
                let parsed = SegmentFileName(parsing: String(name.dropLast(LogCleaner.swapSuffix.count)))
            {
                swapBases.append(parsed.baseOffset)
            } else if let parsed = SegmentFileName(parsing: name), parsed.kind == .log {
                logBases.append(parsed.baseOffset)
            }
        }
        for base in swapBases.sorted() {
            let swapPath = LogSegment.path(directory, base, .log) + LogCleaner.swapSuffix
            let file = try fileSystem.openFile(atPath: swapPath, create: false)
            let sizeBytes = Int(try file.size())
            var cursor = BatchHeaderCursor(file: file, startPosition: 0, endPosition: sizeBytes)
            var nextOffset = base
            while let header = try cursor.header() {
                nextOffset = header.lastOffset + 1
                cursor.advance(past: header)
            }
            try file.close()
            logger.warning(
                "completing an interrupted log cleaner swap",
                metadata: ["directory": "\(directory)", "baseOffset": "\(base)", "nextOffset": "\(nextOffset)"]
            )
            for old in logBases where old >= base && old < max(nextOffset, base + 1) {
                for kind in SegmentFileName.Kind.allCases {
                    let path = LogSegment.path(directory, old, kind)
                    if fileSystem.fileExists(atPath: path) { try fileSystem.remove(atPath: path) }
                }
            }
            try fileSystem.fsyncDirectory(atPath: directory)
            for kind in [SegmentFileName.Kind.offsetIndex, .timeIndex, .txnIndex, .log] {
                let path = LogSegment.path(directory, base, kind)
                if fileSystem.fileExists(atPath: path + LogCleaner.swapSuffix) {
                    try fileSystem.rename(atPath: path + LogCleaner.swapSuffix, toPath: path)
                }
            }
            try fileSystem.fsyncDirectory(atPath: directory)
        }
    }
}
