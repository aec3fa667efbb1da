import Logging
import Synchronization
import TernWire

/// Transactions (KIP-98) for a producer with a `transactionalId`: records sent between
/// `beginTransaction` and `commitTransaction` become visible to read_committed consumers together,
/// with the consumer offsets added by `sendOffsetsToTransaction`, or not at all.
///
///     try await producer.initTransactions()
///     try producer.beginTransaction()
///     try await producer.send(ProducerRecord(topic: "out", value: "…"))
///     try await producer.sendOffsetsToTransaction(positions, group: consumer.groupMetadata())
///     try await producer.commitTransaction()  // on failure: abortTransaction(), then go on
///
/// A failed send or offset commit leaves the transaction to be aborted; a producer fenced by a
/// newer one with the same transactional id (`PRODUCER_FENCED`) can only be closed.
extension Producer {
    /// Registers the transactional id with its coordinator: completes or aborts what a previous
    /// producer with the id left open, and fences that producer. Once, before the first transaction.
    public func initTransactions() async throws {
        let transaction = try self.core.transactionState()
        try transaction.withLock { state throws(TernClientError) in try state.check(.initialize) }
        try await self.core.initProducerId()
        transaction.withLock { $0.initialized() }
    }

    /// Opens a transaction: records sent from now on belong to it.
    public func beginTransaction() throws {
        let transaction = try self.core.transactionState()
        try transaction.withLock { state throws(TernClientError) in try state.begin() }
    }

    /// Adds consumer offsets to the open transaction: they are committed for the group with it (the
    /// input of a consume-transform-produce step), or dropped with an abort.
    /// - Parameter offsets: the next offset to read of each input partition (the position).
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartition: Int64],
        group: ConsumerGroupMetadata
    ) async throws {
        let transaction = try self.core.transactionState()
        try transaction.withLock { state throws(TernClientError) in try state.check(.sendOffsets) }
        do {
            try await self.core.addOffsets(offsets, group: group)
        } catch {
            transaction.withLock { $0.failed(error, sequenceGap: false) }
            throw error
        }
    }

    /// Sends what is buffered, then commits. When a record of the transaction failed, throws its
    /// error and the transaction must be aborted; after a timeout the commit may be repeated.
    public func commitTransaction() async throws {
        try await self.core.endTransaction(commit: true)
    }

    /// Aborts the open transaction: its records are never visible to read_committed consumers and
    /// its offsets are not committed. Records still buffered are sent first (and aborted with it).
    public func abortTransaction() async throws {
        try await self.core.endTransaction(commit: false)
    }
}

extension ProducerCore {
    func transactionState() throws(TernClientError) -> ProducerTransaction {
        guard let transaction = self.transaction else {
            throw TernClientError(.illegalState, "the producer has no transactionalId")
        }
        return transaction
    }

    private var transactionalId: String { self.configuration.transactionalId ?? "" }

    /// InitProducerId with the transactional id at its coordinator. After a failed transaction the
    /// current id and epoch go along (v3+, KIP-360) so the coordinator bumps that epoch.
    func initProducerId() async throws(TernClientError) {
        let current = self.producerIdentity.withLock { $0 }
        let request = InitProducerIdRequest(
            transactionalId: self.transactionalId,
            transactionTimeoutMs: Int32(clamping: self.configuration.transactionTimeout.wholeMilliseconds),
            producerId: current.id,
            producerEpoch: current.epoch
        )
        let response = try await self.cluster.sendToCoordinator(.transaction(self.transactionalId), request) {
            $0.errorCode
        }
        self.producerIdentity.withLock { $0 = (response.producerId, response.producerEpoch) }
        self.accumulator.withLock { $0.resetSequences() }
        self.logger.debug(
            "transactional producer id",
            metadata: [
                "transactionalId": "\(self.transactionalId)", "id": "\(response.producerId)",
                "epoch": "\(response.producerEpoch)",
            ]
        )
    }

    /// Before the sender sends drained batches of a transaction: adds their partitions the
    /// coordinator does not have yet (AddPartitionsToTxn), and fails them all when the transaction
    /// has failed. Returns the batches to send.
    func addToTransaction(_ batches: [ProducerBatch]) async -> [ProducerBatch] {
        guard let transaction = self.transaction else { return batches }
        let (phase, failure, needsEpochBump, missing) = transaction.withLock { state in
            (state.phase, state.failure, state.needsEpochBump, state.missing(batches.map(\.partition)))
        }
        switch phase {
        case .inTransaction, .committing:
            break
        case .aborting where !needsEpochBump:
            // Sent and aborted with the rest: the partition's sequence stays whole.
            break
        default:
            // Failed (or aborting after a failure, when the epoch changes anyway): not sent.
            self.failTransactionBatches(
                batches,
                error: failure ?? TernClientError(.illegalState, "no transaction is open")
            )
            return []
        }
        if missing.isEmpty { return batches }
        do {
            try await self.addPartitions(missing)
            transaction.withLock { $0.added(missing) }
            return batches
        } catch {
            transaction.withLock { $0.failed(error, sequenceGap: false) }
            self.failTransactionBatches(batches, error: error)
            return []
        }
    }

    /// Fails drained batches without sending them. Their sequence numbers were taken, so the
    /// epoch must change before the next transaction.
    private func failTransactionBatches(_ batches: [ProducerBatch], error: TernClientError) {
        self.transaction?.withLock { $0.failed(error, sequenceGap: true) }
        for batch in batches { self.complete(batch, with: .failure(error)) }
    }

    /// AddPartitionsToTxn (v0–3, the client versions), retried while the coordinator still ends
    /// the previous transaction (CONCURRENT_TRANSACTIONS, briefly after each commit: a short
    /// backoff, as the Java client's) or a partition is not known yet.
    private func addPartitions(_ partitions: Set<TopicPartition>) async throws(TernClientError) {
        let identity = self.producerIdentity.withLock { $0 }
        let request = AddPartitionsToTxnRequest(
            v3AndBelowTransactionalId: self.transactionalId,
            v3AndBelowProducerId: identity.id,
            v3AndBelowProducerEpoch: identity.epoch,
            v3AndBelowTopics: Dictionary(grouping: partitions, by: \.topic).map { topic, partitions in
                .init(name: topic, partitions: partitions.map(\.partition).sorted())
            }.sorted { $0.name < $1.name }
        )
        let deadline = ContinuousClock.now + self.configuration.deliveryTimeout
        var backoff = Duration.milliseconds(2)
        while true {
            let response = try await self.cluster.sendToCoordinator(.transaction(self.transactionalId), request) {
                response in
                // Coordinator moves are retried there; every other code is read here.
                Cluster.coordinatorMove(
                    in: response.resultsByTopicV3AndBelow.flatMap { $0.resultsByPartition.map(\.partitionErrorCode) }
                )
            }
            var retry: (KafkaErrorCode, TopicPartition)?
            for topic in response.resultsByTopicV3AndBelow {
                for result in topic.resultsByPartition where result.partitionErrorCode != .none {
                    let partition = TopicPartition(topic: topic.name, partition: result.partitionIndex)
                    let code = result.partitionErrorCode
                    if code == .concurrentTransactions || code.isRetriable {
                        retry = (code, partition)
                    } else if code != .operationNotAttempted {
                        throw TernClientError.kafka(code, "AddPartitionsToTxn for \(partition)")
                    }
                }
            }
            guard let (code, partition) = retry else { return }
            guard ContinuousClock.now < deadline else {
                throw TernClientError.kafka(code, "AddPartitionsToTxn for \(partition)")
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .milliseconds(100))
        }
    }

    /// AddOffsetsToTxn at the transaction coordinator, then TxnOffsetCommit at the group's.
    func addOffsets(_ offsets: [TopicPartition: Int64], group: ConsumerGroupMetadata) async throws(TernClientError) {
        let identity = self.producerIdentity.withLock { $0 }
        _ = try await self.cluster.sendToCoordinator(
            .transaction(self.transactionalId),
            AddOffsetsToTxnRequest(
                transactionalId: self.transactionalId,
                producerId: identity.id,
                producerEpoch: identity.epoch,
                groupId: group.groupId
            )
        ) { $0.errorCode }
        self.transaction?.withLock { $0.addedOffsets() }
        let request = TxnOffsetCommitRequest(
            transactionalId: self.transactionalId,
            groupId: group.groupId,
            producerId: identity.id,
            producerEpoch: identity.epoch,
            generationId: group.generationId,
            memberId: group.memberId,
            groupInstanceId: group.groupInstanceId,
            topics: Dictionary(grouping: offsets, by: \.key.topic).map { topic, entries in
                .init(
                    name: topic,
                    partitions: entries.map {
                        .init(partitionIndex: $0.key.partition, committedOffset: $0.value, committedMetadata: "")
                    }.sorted { $0.partitionIndex < $1.partitionIndex }
                )
            }.sorted { $0.name < $1.name }
        )
        let response = try await self.cluster.sendToCoordinator(.group(group.groupId), request) { response in
            // The group's offsets may still wait for the previous transaction: retried too.
            let codes = response.topics.flatMap { $0.partitions.map(\.errorCode) }
            let move = Cluster.coordinatorMove(in: codes)
            return move != .none ? move : codes.first { $0 == .concurrentTransactions } ?? .none
        }
        for topic in response.topics {
            for partition in topic.partitions where partition.errorCode != .none {
                throw TernClientError.kafka(
                    partition.errorCode,
                    "TxnOffsetCommit for \(TopicPartition(topic: topic.name, partition: partition.partitionIndex)) in group \"\(group.groupId)\""
                )
            }
        }
    }

    /// Commit or abort: no more records are taken, what is buffered is sent, then EndTxn (when the
    /// coordinator knows of the transaction). After an abort that followed a failed batch, a new
    /// epoch is taken so the next transaction's sequences start clean.
    func endTransaction(commit: Bool) async throws(TernClientError) {
        let transaction = try self.transactionState()
        try transaction.withLock { state throws(TernClientError) in try state.beginEnding(commit: commit) }
        await self.flush()
        let (phase, failure, coordinatorKnows) = transaction.withLock {
            ($0.phase, $0.failure, $0.coordinatorKnows)
        }
        if commit && phase != .committing {
            // A record failed while flushing: the transaction can only be aborted.
            throw failure ?? TernClientError(.illegalState, "the transaction failed: abort it")
        }
        if phase == .fatal, let failure { throw failure }
        if coordinatorKnows {
            let identity = self.producerIdentity.withLock { $0 }
            do {
                _ = try await self.cluster.sendToCoordinator(
                    .transaction(self.transactionalId),
                    EndTxnRequest(
                        transactionalId: self.transactionalId,
                        producerId: identity.id,
                        producerEpoch: identity.epoch,
                        committed: commit
                    )
                ) { $0.errorCode }
            } catch {
                // A timeout leaves the transaction ending: the same call may be repeated.
                if !error.isRetriable { transaction.withLock { $0.failed(error, sequenceGap: false) } }
                throw error
            }
        }
        transaction.withLock { $0.ended() }
        if !commit && transaction.withLock({ $0.needsEpochBump }) {
            try await self.initProducerId()
            transaction.withLock { $0.epochBumped() }
        }
    }
}
