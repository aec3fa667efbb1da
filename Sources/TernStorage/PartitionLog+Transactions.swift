import Logging
import NIOCore
import Synchronization
import TernRecords

/// Transaction markers, the last stable offset, producer-state snapshots and the rebuild of
/// producer state on open. See docs/storage.md, "Producer state and transactions".
extension PartitionLog {
    // MARK: Producer state

    /// Every producer this partition knows, by producer id (DescribeProducers).
    public var producerStates: [Int64: ProducerStateManager.Entry] { self.state.withLock { $0.producers.entries } }

    /// The last stable offset (LSO): the smallest first offset of any ongoing transaction, else the
    /// high watermark. Read committed consumers read below it only.
    public var lastStableOffset: Int64 { self.state.withLock { $0.lastStableOffset } }

    /// ListOffsets' LATEST: the high watermark, or with `.readCommitted` the last stable offset.
    public func latestOffset(isolation: ReadIsolation) -> Int64 {
        self.state.withLock { isolation == .readCommitted ? $0.lastStableOffset : $0.logEndOffset }
    }

    /// `offset(forTimestamp:)` for a ListOffsets isolation level: with `.readCommitted` an offset at
    /// or past the last stable offset is not found (Kafka's `fetchOffsetForTimestamp`).
    public func offset(
        forTimestamp timestampMs: Int64,
        isolation: ReadIsolation
    ) -> (offset: Int64, timestamp: Int64)? {
        guard let found = self.offset(forTimestamp: timestampMs) else { return nil }
        if isolation == .readCommitted && found.offset >= self.lastStableOffset { return nil }
        return found
    }

    /// The answer to a batch that repeats one of its producer's last five: the original offsets,
    /// nothing written; an `.fsync` waiter waits for those offsets to be durable.
    func answerDuplicate(
        _ state: inout State,
        firstOffset: Int64,
        lastOffset: Int64,
        waiter: CheckedContinuation<Result<AppendResult, StorageError>, Never>?
    ) -> AppendResult {
        let result = AppendResult(
            baseOffset: firstOffset,
            lastOffset: lastOffset,
            logAppendTimeMs: -1,
            logStartOffset: state.logStartOffset,
            isDuplicate: true
        )
        if let waiter {
            if lastOffset < state.flushedOffset {
                waiter.resume(returning: .success(result))
            } else {
                state.fsyncWaiters.append(FsyncWaiter(lastOffset: lastOffset, result: result, continuation: waiter))
                state.flushRequestedOffset = max(state.flushRequestedOffset, lastOffset + 1)
            }
        }
        return result
    }

    // MARK: Markers

    /// Writes a transaction marker for `producerId` as Kafka does (a control batch holding one
    /// `ControlRecord`) and ends the producer's ongoing transaction here. An ABORT of an
    /// ongoing transaction adds an entry to the txnindex of the segment holding the marker. A
    /// producer with no ongoing transaction here still gets the marker written (as Kafka writes
    /// it), and nothing is recorded. Long-polls waiting on the log wake as for any append; the
    /// caller notifies fetches waiting for the last stable offset to move.
    ///
    /// - Throws: `.invalidProducerEpoch` when `producerEpoch` is older than the producer's;
    ///   `.transactionCoordinatorFenced` when `coordinatorEpoch` is older than its last marker's;
    ///   `.closed`, `.diskFull`, `.io` as `append`.
    public func appendTransactionMarker(
        producerId: Int64,
        producerEpoch: Int16,
        coordinatorEpoch: Int32,
        commit: Bool,
        durability: Durability
    ) async throws(StorageError) -> AppendResult {
        precondition(producerId >= 0, "a marker needs a producer id")
        let config = self.config
        var batch: RecordBatch
        do {
            batch = try RecordBatch(
                try ControlRecord(commit ? .commit : .abort, coordinatorEpoch: coordinatorEpoch)
                    .batch(
                        producerId: producerId,
                        producerEpoch: producerEpoch,
                        timestampMs: self.environment.clock.nowMs
                    )
            )
        } catch {
            throw StorageError(refusedBatch: error)
        }
        switch durability {
        case .none:
            let result = try self.state.withLock { state throws(StorageError) in
                try self.appendMarkerLocked(
                    &state,
                    &batch,
                    config: config,
                    coordinatorEpoch: coordinatorEpoch,
                    isCommit: commit,
                    waiter: nil
                )
            }
            self.scheduleFlushIfNeeded()
            return result
        case .fsync:
            let outcome = await withCheckedContinuation {
                (continuation: CheckedContinuation<Result<AppendResult, StorageError>, Never>) in
                do throws(StorageError) {
                    _ = try self.state.withLock { state throws(StorageError) in
                        try self.appendMarkerLocked(
                            &state,
                            &batch,
                            config: config,
                            coordinatorEpoch: coordinatorEpoch,
                            isCommit: commit,
                            waiter: continuation
                        )
                    }
                    self.scheduleFlushIfNeeded()
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            return try outcome.get()
        }
    }

    private func appendMarkerLocked(
        _ state: inout State,
        _ batch: inout RecordBatch,
        config: LogConfig,
        coordinatorEpoch: Int32,
        isCommit: Bool,
        waiter: CheckedContinuation<Result<AppendResult, StorageError>, Never>?
    ) throws(StorageError) -> AppendResult {
        guard !state.isClosed else { throw StorageError(.closed, "\(self.topicPartition) is closed") }
        let producerId = batch.producerId
        let epoch = batch.producerEpoch
        if let code = state.producers.checkMarker(
            producerId: producerId,
            epoch: epoch,
            coordinatorEpoch: coordinatorEpoch
        ) {
            throw StorageError(
                code,
                "\(self.topicPartition): marker for producer \(producerId) epoch \(epoch) coordinator epoch \(coordinatorEpoch)"
            )
        }
        let result = try self.appendLocked(&state, &batch, config: config, waiter: waiter, isMarker: true)
        let completed = state.producers.recordMarker(
            producerId: producerId,
            epoch: epoch,
            coordinatorEpoch: coordinatorEpoch,
            offset: result.baseOffset,
            timestampMs: result.logAppendTimeMs >= 0 ? result.logAppendTimeMs : batch.maxTimestampMs,
            isCommit: isCommit
        )
        if let completed, completed.isAborted {
            // The marker went to the active segment (a roll happens before the write).
            state.activeSegment.transactionIndex.append(
                AbortedTransaction(
                    producerId: completed.producerId,
                    firstOffset: completed.firstOffset,
                    lastOffset: completed.lastOffset,
                    lastStableOffset: state.producers.firstUnstableOffset ?? completed.lastOffset + 1
                )
            )
        }
        return result
    }

    // MARK: Reading aborted transactions

    /// The offset after the last batch in `records`; nil when there is none.
    static func nextOffset(after records: ByteBuffer) -> Int64? {
        var position = records.readerIndex
        var next: Int64?
        while let header = StoredBatchHeader(records, at: position), position + header.byteCount <= records.writerIndex
        {
            next = header.lastOffset + 1
            position += header.byteCount
        }
        return next
    }

    /// Kafka's `collectAbortedTransactions` over the txnindexes of the fetch's segment and the later
    /// ones, in order, stopping once a search is complete.
    static func collectAbortedTransactions(
        _ indexes: [TransactionIndex],
        fetchOffset: Int64,
        upperBoundOffset: Int64
    ) -> [AbortedTransaction] {
        var found: [AbortedTransaction] = []
        for index in indexes {
            let (entries, isComplete) = index.collect(fetchOffset: fetchOffset, upperBoundOffset: upperBoundOffset)
            found += entries
            if isComplete { break }
        }
        return found
    }

    // MARK: Files

    /// Writes (or, without entries, removes) a segment's `.txnindex` and fsyncs it. Runs on a
    /// flush thread.
    func writeTransactionIndex(_ files: RolledSegmentFiles) throws(StorageError) {
        let fileSystem = self.environment.fileSystem
        guard files.txnIndexBytes.readableBytes > 0 else {
            if fileSystem.fileExists(atPath: files.txnIndexPath) { try fileSystem.remove(atPath: files.txnIndexPath) }
            return
        }
        let file = try fileSystem.openFile(atPath: files.txnIndexPath, create: true)
        defer { try? file.close() }
        try file.truncate(toSize: 0)
        try file.write(files.txnIndexBytes, at: 0)
        try file.fsync()
    }

    /// Writes a producer snapshot atomically and removes all but the two newest. Runs on a flush
    /// thread.
    func writeProducerSnapshot(_ snapshot: (offset: Int64, bytes: ByteBuffer)) throws(StorageError) {
        let fileSystem = self.environment.fileSystem
        try fileSystem.writeFileAtomically(
            atPath: self.directory + "/" + ProducerStateSnapshot.fileName(offset: snapshot.offset),
            bytes: snapshot.bytes
        )
        let offsets = try fileSystem.listDirectory(atPath: self.directory)
            .compactMap(ProducerStateSnapshot.offset(fromFileName:)).sorted()
        for offset in offsets.dropLast(2) {
            try fileSystem.remove(atPath: self.directory + "/" + ProducerStateSnapshot.fileName(offset: offset))
        }
    }

    /// The offsets of the partition's producer snapshots, oldest first.
    public var producerSnapshotOffsets: [Int64] {
        let names = (try? self.environment.fileSystem.listDirectory(atPath: self.directory)) ?? []
        return names.compactMap(ProducerStateSnapshot.offset(fromFileName:)).sorted()
    }

    // MARK: Loading

    /// Rebuilds the producer state on open, as Kafka's `LogLoader`: the newest snapshot at or below
    /// both the recovery point and the first segment recovery rescanned (so the replay covers every
    /// rebuilt segment), then the log replayed from its offset to the end. Snapshots past the log
    /// end are deleted (their records are gone). Without a usable snapshot (none, or corrupt) the
    /// whole log is replayed, with a log line. The replay also refills the txnindex of every
    /// rescanned segment.
    static func loadProducerState(
        topicPartition: TopicPartition,
        directory: String,
        segments: [LogSegment],
        recoveredSegments: [LogSegment],
        recoveryPoint: Int64,
        logStartOffset: Int64,
        environment: LogEnvironment
    ) throws(StorageError) -> ProducerStateManager {
        let fileSystem = environment.fileSystem
        let logEndOffset = segments[segments.count - 1].nextOffset
        var offsets = try fileSystem.listDirectory(atPath: directory)
            .compactMap(ProducerStateSnapshot.offset(fromFileName:)).sorted()
        for offset in offsets where offset > logEndOffset {
            try fileSystem.remove(atPath: directory + "/" + ProducerStateSnapshot.fileName(offset: offset))
        }
        offsets.removeAll { $0 > logEndOffset }
        let limit = min(recoveryPoint, recoveredSegments.map(\.baseOffset).min() ?? .max, logEndOffset)
        var producers = ProducerStateManager()
        var replayFrom = segments[0].baseOffset
        let isEmptyLog = segments.count == 1 && segments[0].isEmpty
        if let offset = offsets.last(where: { $0 <= limit }) {
            let path = directory + "/" + ProducerStateSnapshot.fileName(offset: offset)
            do {
                guard let bytes = try fileSystem.readWholeFile(atPath: path) else {
                    throw StorageError(.corruptFile, "\(path) vanished")
                }
                producers = try ProducerStateSnapshot.parse(bytes)
                replayFrom = offset
            } catch {
                environment.logger.warning(
                    "unreadable producer state snapshot; rebuilding producer state from the start of the log",
                    metadata: ["partition": "\(topicPartition)", "snapshot": "\(path)", "error": "\(error)"]
                )
            }
        } else if !isEmptyLog {
            environment.logger.info(
                "no usable producer state snapshot; rebuilding producer state from the start of the log",
                metadata: ["partition": "\(topicPartition)", "logEndOffset": "\(logEndOffset)"]
            )
        }
        let recovered = Set(recoveredSegments.map { ObjectIdentifier($0) })
        for segment in segments where segment.nextOffset > replayFrom && !segment.isEmpty {
            let rebuildsTxnIndex = recovered.contains(ObjectIdentifier(segment))
            try Self.forEachBatch(
                in: segment,
                from: segment.offsetIndex.lookup(offset: max(replayFrom, segment.baseOffset)).position
            ) { batch in
                guard batch.lastOffset >= replayFrom else { return }
                guard let completed = Self.replay(batch, into: &producers), completed.isAborted, rebuildsTxnIndex
                else { return }
                segment.transactionIndex.append(
                    AbortedTransaction(
                        producerId: completed.producerId,
                        firstOffset: completed.firstOffset,
                        lastOffset: completed.lastOffset,
                        lastStableOffset: producers.firstUnstableOffset ?? completed.lastOffset + 1
                    )
                )
            }
        }
        return producers
    }

    /// Applies one stored batch to the producer state without checking it (Kafka's replay of the
    /// log on load); returns the transaction a marker ended.
    static func replay(
        _ batch: RecordBatch,
        into producers: inout ProducerStateManager
    ) -> ProducerStateManager.CompletedTransaction? {
        let producerId = batch.producerId
        guard producerId >= 0 else { return nil }
        if batch.attributes.isControl {
            guard let marker = ControlRecord(of: batch) else { return nil }
            return producers.recordMarker(
                producerId: producerId,
                epoch: batch.producerEpoch,
                coordinatorEpoch: marker.coordinatorEpoch,
                offset: batch.baseOffset,
                timestampMs: batch.maxTimestampMs,
                isCommit: marker.kind == .commit
            )
        }
        producers.record(
            producerId: producerId,
            epoch: batch.producerEpoch,
            batch: .init(
                firstSequence: batch.baseSequence,
                lastSequence: ProducerStateManager.lastSequence(
                    first: batch.baseSequence,
                    lastOffsetDelta: batch.lastOffsetDelta
                ),
                firstOffset: batch.baseOffset,
                lastOffset: batch.lastOffset
            ),
            maxTimestampMs: batch.maxTimestampMs,
            isTransactional: batch.attributes.isTransactional
        )
        return nil
    }

    /// Calls `body` with every batch of a loaded segment from `startPosition` (a batch boundary)
    /// to its end, reading in chunks. The batches were validated when the segment was loaded.
    private static func forEachBatch(
        in segment: LogSegment,
        from startPosition: Int,
        _ body: (RecordBatch) -> Void
    ) throws(StorageError) {
        var position = startPosition
        let endPosition = segment.sizeBytes
        while position < endPosition {
            var chunk = try segment.logFile.read(
                at: Int64(position),
                count: min(LogSegment.scanChunkByteCount, endPosition - position)
            )
            guard let length = chunk.getInteger(at: chunk.readerIndex + 8, as: Int32.self) else {
                throw StorageError(.corruptBatch, "\(segment.logFile.path) ends inside a batch at \(position)")
            }
            let firstByteCount = Int(length) + RecordBatch.logOverheadByteCount
            if firstByteCount > chunk.readableBytes {
                chunk = try segment.logFile.read(at: Int64(position), count: firstByteCount)
            }
            var reader = RecordBatchReader(chunk)
            var consumed = 0
            while true {
                let next: RecordBatch?
                do { next = try reader.next() } catch {
                    throw StorageError(
                        .corruptBatch,
                        "\(segment.logFile.path): bad batch at \(position + consumed)",
                        cause: error
                    )
                }
                guard let batch = next else { break }
                consumed += batch.byteCount
                body(batch)
            }
            guard consumed > 0 else {
                throw StorageError(.corruptBatch, "\(segment.logFile.path): truncated batch at \(position)")
            }
            position += consumed
        }
    }
}
