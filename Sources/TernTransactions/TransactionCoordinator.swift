import NIOCore
import TernWire

/// Settings of the transaction coordinator, with Kafka's defaults.
public struct TransactionCoordinatorConfiguration: Hashable, Sendable {
    /// `transaction.max.timeout.ms`: InitProducerId asking for more gets INVALID_TRANSACTION_TIMEOUT.
    public var transactionMaxTimeoutMs: Int32
    /// `transactional.id.expiration.ms`: a transactional id with no transaction open and no
    /// update for this long is removed (a tombstone) by `tick`.
    public var transactionalIdExpirationMs: Int64
    /// The leader epoch of the `__transaction_state` partition, carried by every marker so that
    /// partitions refuse markers of a deposed coordinator.
    public var coordinatorEpoch: Int32
    /// The TransactionLogValue version written: 1 (flexible) as Kafka with transaction.version ≥ 1,
    /// or 0 as older Kafka.
    public var logValueVersion: Int16

    public init(
        transactionMaxTimeoutMs: Int32 = 900_000,
        transactionalIdExpirationMs: Int64 = 604_800_000,
        coordinatorEpoch: Int32 = 0,
        logValueVersion: Int16 = 1
    ) {
        precondition((0...1).contains(logValueVersion), "TransactionLogValue has versions 0 and 1")
        self.transactionMaxTimeoutMs = transactionMaxTimeoutMs
        self.transactionalIdExpirationMs = transactionalIdExpirationMs
        self.coordinatorEpoch = coordinatorEpoch
        self.logValueVersion = logValueVersion
    }
}

/// Kafka's transaction coordinator as a pure state machine: each event method takes the request's
/// fields and the time and returns a `TransactionResult` — the response, the records to append to
/// `__transaction_state` and the markers to write. It performs no I/O and reads no clock.
///
/// Every rule follows Kafka's `TransactionCoordinator`, `TransactionMetadata` and
/// `TransactionStateManager` (Kafka 3.9/4.0, transaction version 1: no epoch bump per
/// transaction). Kafka guards a transition whose record is still being appended with a "pending
/// state" and answers CONCURRENT_TRANSACTIONS meanwhile; here a transition takes effect when its
/// result is returned, and the runtime handles one event at a time, so there is no such window.
///
/// State is rebuilt at startup by `replay(key:value:)` over the topic's records; then
/// `pendingCompletions()` lists the transactions whose markers must be (re)written.
public struct TransactionCoordinator: Sendable {
    public let configuration: TransactionCoordinatorConfiguration
    /// Every transactional id the coordinator knows.
    public private(set) var transactions: [String: TransactionMetadata] = [:]

    public init(configuration: TransactionCoordinatorConfiguration = TransactionCoordinatorConfiguration()) {
        self.configuration = configuration
    }

    /// The transactional id's metadata, or nil if unknown.
    public func metadata(forTransactionalId transactionalId: String) -> TransactionMetadata? {
        self.transactions[transactionalId]
    }

    // MARK: InitProducerId

    /// InitProducerId. `transactionalId == nil` is an idempotent producer: it gets
    /// `freshProducerId` with epoch 0 and nothing is stored. `expectedProducerId`/`expectedProducerEpoch`
    /// are the v3+ fields (KIP-360), -1/-1 when absent; only one of them -1 is INVALID_REQUEST.
    /// `freshProducerId` is a new id the runtime allocated for this call; it is used only for a
    /// new transactional id or when the epoch is exhausted.
    ///
    /// Kafka's `handleInitProducerId`/`prepareInitProducerIdTransit`: a new id starts Empty at
    /// epoch 0; Empty/Complete* bump the epoch (at an exhausted epoch: the new producer id, epoch
    /// 0); Prepare* answer CONCURRENT_TRANSACTIONS; an Ongoing transaction is first aborted with a
    /// bumped epoch (fencing the old producer) and the answer is CONCURRENT_TRANSACTIONS, so the
    /// client retries once the abort is done.
    public mutating func initProducerId(
        transactionalId: String?,
        transactionTimeoutMs: Int32,
        expectedProducerId: Int64 = noProducerId,
        expectedProducerEpoch: Int16 = noProducerEpoch,
        freshProducerId: Int64,
        nowMs: Int64
    ) -> TransactionResult {
        func failure(_ errorCode: KafkaErrorCode) -> TransactionResult {
            TransactionResult(response: .initProducerId(errorCode: errorCode, producerId: -1, producerEpoch: -1))
        }
        guard let transactionalId else {
            return TransactionResult(
                response: .initProducerId(errorCode: .none, producerId: freshProducerId, producerEpoch: 0)
            )
        }
        guard !transactionalId.isEmpty else { return failure(.invalidRequest) }
        // KafkaApis: both or neither of the expected id and epoch.
        let expected: (producerId: Int64, epoch: Int16)?
        switch (expectedProducerId == noProducerId, expectedProducerEpoch == noProducerEpoch) {
        case (true, true): expected = nil
        case (false, false): expected = (expectedProducerId, expectedProducerEpoch)
        default: return failure(.invalidRequest)
        }
        guard transactionTimeoutMs > 0, transactionTimeoutMs <= self.configuration.transactionMaxTimeoutMs else {
            return failure(.invalidTransactionTimeout)
        }
        var metadata =
            self.live(transactionalId)
            ?? TransactionMetadata(
                transactionalId: transactionalId,
                producerId: freshProducerId,
                producerEpoch: noProducerEpoch,
                timeoutMs: transactionTimeoutMs,
                state: .empty,
                txnLastUpdateTimestampMs: nowMs
            )
        if let expected {
            // Kafka's isValidProducerId: a just-created id, the current id, or the previous id
            // with an exhausted epoch (a retry after a rotation whose answer was lost).
            let valid =
                metadata.producerEpoch == noProducerEpoch || expected.producerId == metadata.producerId
                || (expected.producerId == metadata.previousProducerId
                    && TransactionMetadata.isEpochExhausted(expected.epoch))
            guard valid else { return failure(.producerFenced) }
        }
        switch metadata.state {
        case .prepareCommit, .prepareAbort:
            return failure(.concurrentTransactions)
        case .ongoing:
            // The epoch returned here is never the client's: it retries and bumps again.
            var result = self.fenceAndAbort(&metadata, nowMs: nowMs)
            result.response = .initProducerId(errorCode: .concurrentTransactions, producerId: -1, producerEpoch: -1)
            return result
        case .empty, .completeCommit, .completeAbort, .dead, .prepareEpochFence:
            break
        }
        if TransactionMetadata.isEpochExhausted(metadata.producerEpoch)
            && (expected == nil || expected!.epoch == metadata.producerEpoch)
        {
            // prepareProducerIdRotation.
            metadata.previousProducerId = metadata.producerId
            metadata.lastProducerEpoch = expected == nil ? noProducerEpoch : metadata.producerEpoch
            metadata.producerId = freshProducerId
            metadata.producerEpoch = 0
        } else {
            // prepareIncrementProducerEpoch.
            if let expected {
                if metadata.producerEpoch == noProducerEpoch || expected.epoch == metadata.producerEpoch {
                    // Recovering after an error, and no other producer took over: bump, remember the old epoch.
                    metadata.lastProducerEpoch = metadata.producerEpoch
                    metadata.producerEpoch += 1
                } else if expected.epoch == metadata.lastProducerEpoch {
                    // A retry of a bump that succeeded: the same epoch again.
                } else {
                    return failure(.producerFenced)
                }
            } else {
                metadata.lastProducerEpoch = noProducerEpoch
                metadata.producerEpoch += 1
            }
        }
        metadata.timeoutMs = transactionTimeoutMs
        metadata.state = .empty
        metadata.partitions = []
        metadata.txnStartTimestampMs = -1
        metadata.txnLastUpdateTimestampMs = nowMs
        return TransactionResult(
            response: .initProducerId(
                errorCode: .none,
                producerId: metadata.producerId,
                producerEpoch: metadata.producerEpoch
            ),
            records: [self.store(metadata)]
        )
    }

    // MARK: AddPartitionsToTxn, AddOffsetsToTxn

    /// AddPartitionsToTxn for one transaction (Kafka's `handleAddPartitionsToTransaction`): the
    /// partitions join the transaction, which becomes Ongoing (starting its timeout when it was
    /// Empty or Complete*). Partitions already in an Ongoing transaction answer NONE at once
    /// without a record. Errors, for every partition: INVALID_PRODUCER_ID_MAPPING for an unknown
    /// transactional id or another producer id, PRODUCER_FENCED for another epoch (see
    /// `transactionErrorCode(_:forApi:version:)` for older clients), CONCURRENT_TRANSACTIONS
    /// while the previous transaction's markers are being written.
    public mutating func addPartitions(
        transactionalId: String,
        producerId: Int64,
        producerEpoch: Int16,
        partitions: Set<TransactionPartition>,
        nowMs: Int64
    ) -> TransactionResult {
        let (errorCode, records) = self.add(
            partitions,
            transactionalId: transactionalId,
            producerId: producerId,
            producerEpoch: producerEpoch,
            nowMs: nowMs
        )
        return TransactionResult(
            response: .addPartitions(errors: Dictionary(uniqueKeysWithValues: partitions.map { ($0, errorCode) })),
            records: records
        )
    }

    /// AddOffsetsToTxn (Kafka's `handleAddOffsetsToTransaction`): adds the `__consumer_offsets`
    /// partition holding the group — `offsetsPartition`, chosen by the runtime — with the rules of
    /// `addPartitions`, so the transaction's markers reach the group coordinator.
    public mutating func addOffsets(
        transactionalId: String,
        producerId: Int64,
        producerEpoch: Int16,
        groupId: String,
        offsetsPartition: Int32,
        nowMs: Int64
    ) -> TransactionResult {
        let (errorCode, records) = self.add(
            [TransactionPartition(Self.consumerOffsetsTopic, offsetsPartition)],
            transactionalId: transactionalId,
            producerId: producerId,
            producerEpoch: producerEpoch,
            nowMs: nowMs
        )
        return TransactionResult(response: .addOffsets(errorCode: errorCode), records: records)
    }

    /// The topic AddOffsetsToTxn adds a partition of.
    public static let consumerOffsetsTopic = "__consumer_offsets"

    private mutating func add(
        _ partitions: Set<TransactionPartition>,
        transactionalId: String,
        producerId: Int64,
        producerEpoch: Int16,
        nowMs: Int64
    ) -> (KafkaErrorCode, [TransactionLogRecord]) {
        guard !transactionalId.isEmpty else { return (.invalidRequest, []) }
        guard var metadata = self.live(transactionalId), metadata.producerId == producerId else {
            return (.invalidProducerIdMapping, [])
        }
        guard metadata.producerEpoch == producerEpoch else { return (.producerFenced, []) }
        switch metadata.state {
        case .prepareCommit, .prepareAbort:
            return (.concurrentTransactions, [])
        case .ongoing:
            if partitions.isSubset(of: metadata.partitions) { return (.none, []) }
        case .empty, .completeCommit, .completeAbort:
            metadata.txnStartTimestampMs = nowMs
            metadata.partitions = []
        case .dead, .prepareEpochFence:
            preconditionFailure("unreachable: \(metadata.state) is never stored")
        }
        metadata.state = .ongoing
        metadata.partitions.formUnion(partitions)
        metadata.txnLastUpdateTimestampMs = nowMs
        return (.none, [self.store(metadata)])
    }

    /// AddPartitionsToTxn v4+ with `verify_only` (KIP-890 part 1; Kafka's
    /// `handleVerifyPartitionsInTransaction`), changing nothing: NONE for a partition in the
    /// transaction, TRANSACTION_ABORTABLE for one that is not; for all of them
    /// INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED or CONCURRENT_TRANSACTIONS as `addPartitions`.
    public func verifyPartitions(
        transactionalId: String,
        producerId: Int64,
        producerEpoch: Int16,
        partitions: Set<TransactionPartition>
    ) -> [TransactionPartition: KafkaErrorCode] {
        func all(_ errorCode: KafkaErrorCode) -> [TransactionPartition: KafkaErrorCode] {
            Dictionary(uniqueKeysWithValues: partitions.map { ($0, errorCode) })
        }
        guard !transactionalId.isEmpty else { return all(.invalidRequest) }
        guard let metadata = self.live(transactionalId), metadata.producerId == producerId else {
            return all(.invalidProducerIdMapping)
        }
        guard metadata.producerEpoch == producerEpoch else { return all(.producerFenced) }
        guard !metadata.state.isPrepare else { return all(.concurrentTransactions) }
        return Dictionary(
            uniqueKeysWithValues: partitions.map {
                ($0, metadata.partitions.contains($0) ? KafkaErrorCode.none : .transactionAbortable)
            }
        )
    }

    /// Whether a transactional produce by this producer to `partition` belongs to its open
    /// transaction: the producer is the transactional id's current one (id and epoch), the
    /// transaction is Ongoing and the partition was added. The produce path refuses a
    /// transactional batch otherwise (INVALID_TXN_STATE).
    public func isPartitionInTransaction(
        transactionalId: String,
        producerId: Int64,
        producerEpoch: Int16,
        partition: TransactionPartition
    ) -> Bool {
        guard let metadata = self.live(transactionalId) else { return false }
        return metadata.producerId == producerId && metadata.producerEpoch == producerEpoch
            && metadata.state == .ongoing && metadata.partitions.contains(partition)
    }

    // MARK: EndTxn

    /// EndTxn (Kafka's `endTransaction`, from a client, transaction version 1). An Ongoing
    /// transaction moves to PrepareCommit/PrepareAbort: the response (NONE) waits for that record,
    /// then the markers are written. A retry after completion with the same outcome answers NONE;
    /// while the markers are still being written, CONCURRENT_TRANSACTIONS (Kafka does not answer
    /// NONE from Prepare*); the other outcome, or EndTxn on an Empty transaction,
    /// INVALID_TXN_STATE. Fencing errors as `addPartitions`.
    ///
    /// KIP-890 part 2 (EndTxn v5, transaction version 2: every EndTxn bumps the epoch and returns
    /// it) is not implemented: the response carries the unchanged epoch, which is what a v5
    /// response carries for a transaction version 1 client.
    public mutating func endTransaction(
        transactionalId: String,
        producerId: Int64,
        producerEpoch: Int16,
        commit: Bool,
        nowMs: Int64
    ) -> TransactionResult {
        func answer(_ errorCode: KafkaErrorCode, _ metadata: TransactionMetadata? = nil) -> TransactionResult {
            TransactionResult(
                response: .endTransaction(
                    errorCode: errorCode,
                    producerId: metadata?.producerId ?? -1,
                    producerEpoch: metadata?.producerEpoch ?? -1
                )
            )
        }
        guard !transactionalId.isEmpty else { return answer(.invalidRequest) }
        guard var metadata = self.live(transactionalId), metadata.producerId == producerId else {
            return answer(.invalidProducerIdMapping)
        }
        guard metadata.producerEpoch == producerEpoch else { return answer(.producerFenced) }
        switch metadata.state {
        case .ongoing:
            var result = self.prepareEnd(&metadata, commit: commit, nowMs: nowMs)
            result.response = .endTransaction(
                errorCode: .none,
                producerId: metadata.producerId,
                producerEpoch: metadata.producerEpoch
            )
            return result
        case .completeCommit:
            return commit ? answer(.none, metadata) : answer(.invalidTxnState)
        case .completeAbort:
            return commit ? answer(.invalidTxnState) : answer(.none, metadata)
        case .prepareCommit:
            return answer(commit ? .concurrentTransactions : .invalidTxnState)
        case .prepareAbort:
            return answer(commit ? .invalidTxnState : .concurrentTransactions)
        case .empty:
            return answer(.invalidTxnState)
        case .dead, .prepareEpochFence:
            preconditionFailure("unreachable: \(metadata.state) is never stored")
        }
    }

    /// Every marker of the transaction is written: PrepareCommit → CompleteCommit, PrepareAbort →
    /// CompleteAbort, partitions cleared (Kafka's `prepareComplete`). A call that no longer
    /// matches the transaction (another producer id or epoch, not Prepare*) changes nothing.
    public mutating func markersWritten(
        transactionalId: String,
        producerId: Int64,
        producerEpoch: Int16,
        nowMs: Int64
    ) -> TransactionResult {
        guard var metadata = self.live(transactionalId), metadata.producerId == producerId,
            metadata.producerEpoch == producerEpoch, metadata.state.isPrepare
        else { return .none }
        metadata.state = metadata.state == .prepareCommit ? .completeCommit : .completeAbort
        metadata.partitions = []
        metadata.txnLastUpdateTimestampMs = nowMs
        return TransactionResult(records: [self.store(metadata)])
    }

    // MARK: Timeouts and expiration

    /// Aborts every Ongoing transaction older than its timeout (started before `nowMs - timeoutMs`),
    /// bumping the epoch so the timed-out producer is fenced (Kafka's `abortTimedOutTransactions`:
    /// `prepareFenceProducerEpoch`, then PrepareAbort and ABORT markers at the new epoch); and
    /// removes, with a tombstone, every transactional id with no open transaction that was not
    /// updated for `transactionalIdExpirationMs` (Kafka's `removeExpiredTransactionalIds`).
    /// The runtime calls it periodically (Kafka: every 10 s and every hour respectively).
    public mutating func tick(nowMs: Int64) -> TransactionResult {
        var result = TransactionResult()
        for transactionalId in self.transactions.keys.sorted() {
            var metadata = self.transactions[transactionalId]!
            // Compared so that no stored timestamp can overflow the arithmetic.
            if metadata.state == .ongoing, metadata.txnStartTimestampMs < nowMs - Int64(metadata.timeoutMs) {
                let abort = self.fenceAndAbort(&metadata, nowMs: nowMs)
                result.records += abort.records
                result.actions += abort.actions
            } else if metadata.state.isExpirationAllowed,
                metadata.txnLastUpdateTimestampMs <= nowMs - self.configuration.transactionalIdExpirationMs
            {
                self.transactions[transactionalId] = nil
                result.records.append(
                    TransactionLogRecord(key: TransactionLogKey(transactionalId: transactionalId), value: nil)
                )
            }
        }
        return result
    }

    // MARK: Replay

    /// Applies one `__transaction_state` record read back from the log (nil value = tombstone), in
    /// log order, before any request is handled. Kafka's loader skips records whose key version it
    /// does not know; a caller can do the same by catching `InternalRecordError.Code.unknownKeyVersion`.
    public mutating func replay(key: ByteBuffer, value: ByteBuffer?) throws(InternalRecordError) {
        try self.replay(try TransactionLogRecord.decode(key: key, value: value))
    }

    /// Applies one decoded record; see `replay(key:value:)`. A value in state Dead or
    /// PrepareEpochFence is refused (`.malformed`): Kafka never writes either, and no transition
    /// leads out of them.
    public mutating func replay(_ record: TransactionLogRecord) throws(InternalRecordError) {
        if let state = record.value?.state, state == .dead || state == .prepareEpochFence {
            throw InternalRecordError(.malformed, "\(record.transactionalId) stored in state \(state)")
        }
        self.transactions[record.transactionalId] = record.value?.metadata(transactionalId: record.transactionalId)
    }

    /// The transactions whose markers must still be written: those in PrepareCommit/PrepareAbort
    /// after a replay (the coordinator stopped between the Prepare and the Complete record; Kafka
    /// resends their markers when it loads the partition). Sorted by transactional id.
    public func pendingCompletions() -> [TransactionMarkers] {
        self.transactions.keys.sorted().compactMap { transactionalId in
            let metadata = self.transactions[transactionalId]!
            guard metadata.state.isPrepare else { return nil }
            return self.markers(for: metadata)
        }
    }

    // MARK: Transitions

    /// The id's metadata unless it is being removed.
    private func live(_ transactionalId: String) -> TransactionMetadata? {
        guard let metadata = self.transactions[transactionalId], metadata.state != .dead else { return nil }
        return metadata
    }

    /// Stores the metadata and returns its record.
    private mutating func store(_ metadata: TransactionMetadata) -> TransactionLogRecord {
        self.transactions[metadata.transactionalId] = metadata
        return TransactionLogRecord(
            key: TransactionLogKey(transactionalId: metadata.transactionalId),
            value: TransactionLogValue(metadata, version: self.configuration.logValueVersion)
        )
    }

    private func markers(for metadata: TransactionMetadata) -> TransactionMarkers {
        TransactionMarkers(
            transactionalId: metadata.transactionalId,
            producerId: metadata.producerId,
            producerEpoch: metadata.producerEpoch,
            coordinatorEpoch: self.configuration.coordinatorEpoch,
            commit: metadata.state == .prepareCommit,
            partitions: metadata.partitions.sorted()
        )
    }

    /// Ongoing → PrepareCommit/PrepareAbort, with its record and markers.
    private mutating func prepareEnd(_ metadata: inout TransactionMetadata, commit: Bool, nowMs: Int64)
        -> TransactionResult
    {
        metadata.state = commit ? .prepareCommit : .prepareAbort
        metadata.txnLastUpdateTimestampMs = nowMs
        let record = self.store(metadata)
        return TransactionResult(records: [record], actions: [.writeMarkers(self.markers(for: metadata))])
    }

    /// Kafka's PrepareEpochFence then PrepareAbort: the epoch is bumped (the old producer's
    /// requests and batches are refused from now on) and the transaction aborted at the new epoch.
    /// An epoch at `Int16.max` is not bumped (Kafka refuses to overflow; such an epoch is never
    /// handed to a client, so nothing can be Ongoing with it).
    private mutating func fenceAndAbort(_ metadata: inout TransactionMetadata, nowMs: Int64) -> TransactionResult {
        if metadata.producerEpoch < Int16.max { metadata.producerEpoch += 1 }
        metadata.lastProducerEpoch = noProducerEpoch
        return self.prepareEnd(&metadata, commit: false, nowMs: nowMs)
    }
}
