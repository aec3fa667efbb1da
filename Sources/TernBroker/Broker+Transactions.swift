import Logging
import TernCoordinator
import TernStorage
import TernTransactions
import TernWire

/// The transaction APIs (docs/transactions.md): InitProducerId with a transactional id,
/// AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit, DescribeTransactions and
/// ListTransactions, answered through the `TransactionCoordinatorRuntime`; and the markers its
/// transactions write to their partitions.
extension Broker {
    /// The partition of `__consumer_offsets` that holds every group (Tern has one).
    static let offsetsPartition: Int32 = 0

    func initProducerId(_ request: InitProducerIdRequest, origin: RequestOrigin) async -> InitProducerIdResponse {
        let version = origin.apiVersion
        guard let transactionalId = request.transactionalId else {
            return InitProducerIdResponse(producerId: self.allocateProducerId(), producerEpoch: 0)
        }
        let response = await self.transactions.perform { coordinator, nowMs in
            coordinator.initProducerId(
                transactionalId: transactionalId,
                transactionTimeoutMs: request.transactionTimeoutMs,
                expectedProducerId: version >= 3 ? request.producerId : noProducerId,
                expectedProducerEpoch: version >= 3 ? request.producerEpoch : noProducerEpoch,
                freshProducerId: self.allocateProducerId(),
                nowMs: nowMs
            )
        }
        guard case .initProducerId(let errorCode, let producerId, let producerEpoch)? = response else {
            return InitProducerIdResponse(errorCode: .coordinatorNotAvailable, producerId: -1, producerEpoch: -1)
        }
        return InitProducerIdResponse(
            errorCode: transactionErrorCode(errorCode, forApi: .initProducerId, version: version),
            producerId: producerId,
            producerEpoch: producerEpoch
        )
    }

    func addPartitionsToTxn(_ request: AddPartitionsToTxnRequest, origin: RequestOrigin) async
        -> AddPartitionsToTxnResponse
    {
        let version = origin.apiVersion
        guard version >= 4 else {
            let results = await self.addPartitions(
                transactionalId: request.v3AndBelowTransactionalId,
                producerId: request.v3AndBelowProducerId,
                producerEpoch: request.v3AndBelowProducerEpoch,
                topics: request.v3AndBelowTopics,
                verifyOnly: false,
                origin: origin
            )
            return AddPartitionsToTxnResponse(resultsByTopicV3AndBelow: results)
        }
        // v4+ is what brokers send each other (KIP-890), several transactions at once; it needs
        // CLUSTER_ACTION.
        guard self.isAllowedOnCluster(origin, .clusterAction) else {
            return AddPartitionsToTxnResponse(errorCode: .clusterAuthorizationFailed)
        }
        var answered: [AddPartitionsToTxnResponse.AddPartitionsToTxnResult] = []
        for transaction in request.transactions {
            let results = await self.addPartitions(
                transactionalId: transaction.transactionalId,
                producerId: transaction.producerId,
                producerEpoch: transaction.producerEpoch,
                topics: transaction.topics,
                verifyOnly: transaction.verifyOnly,
                origin: origin
            )
            answered.append(.init(transactionalId: transaction.transactionalId, topicResults: results))
        }
        return AddPartitionsToTxnResponse(resultsByTransaction: answered)
    }

    /// One transaction's AddPartitionsToTxn, answered per partition as Kafka: an authorization
    /// failure or unknown partition fails those partitions and leaves the others
    /// OPERATION_NOT_ATTEMPTED.
    private func addPartitions(
        transactionalId: String,
        producerId: Int64,
        producerEpoch: Int16,
        topics: [AddPartitionsToTxnRequest.AddPartitionsToTxnTopic],
        verifyOnly: Bool,
        origin: RequestOrigin
    ) async -> [AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult] {
        let version = origin.apiVersion
        let requested = topics.flatMap { topic in topic.partitions.map { TransactionPartition(topic.name, $0) } }
        var errors: [TransactionPartition: KafkaErrorCode] = [:]
        if !self.isAllowed(origin, .write, .transactionalId, transactionalId) {
            for partition in requested { errors[partition] = .transactionalIdAuthorizationFailed }
        } else {
            for partition in requested {
                if partition.topic.hasPrefix("__") || !self.isAllowed(origin, .write, .topic, partition.topic) {
                    errors[partition] =
                        partition.topic.hasPrefix("__") ? .invalidTopicException : .topicAuthorizationFailed
                } else if self.logs.partition(topic: partition.topic, index: partition.partition) == nil {
                    errors[partition] = .unknownTopicOrPartition
                }
            }
            if !errors.isEmpty {
                for partition in requested where errors[partition] == nil { errors[partition] = .operationNotAttempted }
            } else if verifyOnly {
                errors = self.transactions.read {
                    $0.verifyPartitions(
                        transactionalId: transactionalId,
                        producerId: producerId,
                        producerEpoch: producerEpoch,
                        partitions: Set(requested)
                    )
                }
            } else {
                let response = await self.transactions.perform { coordinator, nowMs in
                    coordinator.addPartitions(
                        transactionalId: transactionalId,
                        producerId: producerId,
                        producerEpoch: producerEpoch,
                        partitions: Set(requested),
                        nowMs: nowMs
                    )
                }
                if case .addPartitions(let answered)? = response {
                    errors = answered.mapValues {
                        transactionErrorCode($0, forApi: .addPartitionsToTxn, version: version)
                    }
                } else {
                    for partition in requested { errors[partition] = .coordinatorNotAvailable }
                }
            }
        }
        return topics.map { topic in
            .init(
                name: topic.name,
                resultsByPartition: topic.partitions.map {
                    .init(partitionIndex: $0, partitionErrorCode: errors[TransactionPartition(topic.name, $0)] ?? .none)
                }
            )
        }
    }

    func addOffsetsToTxn(_ request: AddOffsetsToTxnRequest, origin: RequestOrigin) async -> AddOffsetsToTxnResponse {
        guard self.isAllowed(origin, .write, .transactionalId, request.transactionalId) else {
            return AddOffsetsToTxnResponse(errorCode: .transactionalIdAuthorizationFailed)
        }
        guard self.isAllowed(origin, .read, .group, request.groupId) else {
            return AddOffsetsToTxnResponse(errorCode: .groupAuthorizationFailed)
        }
        let response = await self.transactions.perform { coordinator, nowMs in
            coordinator.addOffsets(
                transactionalId: request.transactionalId,
                producerId: request.producerId,
                producerEpoch: request.producerEpoch,
                groupId: request.groupId,
                offsetsPartition: Self.offsetsPartition,
                nowMs: nowMs
            )
        }
        guard case .addOffsets(let errorCode)? = response else {
            return AddOffsetsToTxnResponse(errorCode: .coordinatorNotAvailable)
        }
        return AddOffsetsToTxnResponse(
            errorCode: transactionErrorCode(errorCode, forApi: .addOffsetsToTxn, version: origin.apiVersion)
        )
    }

    func endTxn(_ request: EndTxnRequest, origin: RequestOrigin) async -> EndTxnResponse {
        guard self.isAllowed(origin, .write, .transactionalId, request.transactionalId) else {
            return EndTxnResponse(errorCode: .transactionalIdAuthorizationFailed, producerId: -1, producerEpoch: -1)
        }
        let response = await self.transactions.perform { coordinator, nowMs in
            coordinator.endTransaction(
                transactionalId: request.transactionalId,
                producerId: request.producerId,
                producerEpoch: request.producerEpoch,
                commit: request.committed,
                nowMs: nowMs
            )
        }
        guard case .endTransaction(let errorCode, let producerId, let producerEpoch)? = response else {
            return EndTxnResponse(errorCode: .coordinatorNotAvailable, producerId: -1, producerEpoch: -1)
        }
        return EndTxnResponse(
            errorCode: transactionErrorCode(errorCode, forApi: .endTxn, version: origin.apiVersion),
            producerId: producerId,
            producerEpoch: producerEpoch
        )
    }

    /// TxnOffsetCommit: the offsets wait in the group coordinator, pending, until the
    /// transaction's marker reaches `__consumer_offsets` (Kafka's rules: WRITE on the
    /// transactional id, READ on the group and on each topic; the group's generation checked from
    /// v3; the offsets partition must be in the producer's open transaction, which
    /// AddOffsetsToTxn put there).
    func txnOffsetCommit(_ request: TxnOffsetCommitRequest, origin: RequestOrigin) async -> TxnOffsetCommitResponse {
        func answer(_ code: (String, Int32) -> KafkaErrorCode) -> TxnOffsetCommitResponse {
            TxnOffsetCommitResponse(
                topics: request.topics.map { topic in
                    .init(
                        name: topic.name,
                        partitions: topic.partitions.map {
                            .init(partitionIndex: $0.partitionIndex, errorCode: code(topic.name, $0.partitionIndex))
                        }
                    )
                }
            )
        }
        guard self.isAllowed(origin, .write, .transactionalId, request.transactionalId) else {
            return answer { _, _ in .transactionalIdAuthorizationFailed }
        }
        guard self.isAllowed(origin, .read, .group, request.groupId) else {
            return answer { _, _ in .groupAuthorizationFailed }
        }
        if let refusal = self.transactionalRefusal(
            transactionalId: request.transactionalId,
            producerId: request.producerId,
            producerEpoch: request.producerEpoch,
            topic: GroupCoordinatorRuntime.offsetsTopic,
            partition: Self.offsetsPartition
        ) {
            return answer { _, _ in refusal.kafkaErrorCode }
        }
        let refusedTopics = Set(
            request.topics.map(\.name).filter { !self.isAllowed(origin, .read, .topic, $0) }
        )
        let offsets = request.topics.filter { !refusedTopics.contains($0.name) }.flatMap { topic in
            topic.partitions.map {
                TransactionalOffset(
                    TernCoordinator.TopicPartition(topic.name, $0.partitionIndex),
                    offset: $0.committedOffset,
                    leaderEpoch: origin.apiVersion >= 2 ? $0.committedLeaderEpoch : -1,
                    metadata: $0.committedMetadata
                )
            }
        }
        let version = origin.apiVersion
        let logs = self.logs
        let pending = self.groups.submit { coordinator, ticket, nowMs in
            coordinator.txnOffsetCommit(
                groupId: request.groupId,
                producerId: request.producerId,
                producerEpoch: request.producerEpoch,
                generationId: version >= 3 ? request.generationId : -1,
                memberId: version >= 3 ? request.memberId : "",
                groupInstanceId: version >= 3 ? request.groupInstanceId : nil,
                offsets: offsets,
                ticket: ticket,
                nowMs: nowMs
            ) { topic, partition in
                topic != GroupCoordinatorRuntime.offsetsTopic && logs.partition(topic: topic, index: partition) != nil
            }
        }
        guard case .txnOffsetCommit(let errors)? = await pending.value else {
            return answer { _, _ in .coordinatorNotAvailable }
        }
        return answer { topic, partition -> KafkaErrorCode in
            if refusedTopics.contains(topic) { return KafkaErrorCode.topicAuthorizationFailed }
            let key = TernCoordinator.TopicPartition(topic, partition)
            return errors[key] ?? KafkaErrorCode.unknownServerError
        }
    }

    func describeTransactions(_ request: DescribeTransactionsRequest, origin: RequestOrigin)
        -> DescribeTransactionsResponse
    {
        let allowed = request.transactionalIds.filter { self.isAllowed(origin, .describe, .transactionalId, $0) }
        let described = Dictionary(
            self.transactions.read { $0.describe(transactionalIds: allowed) }.map { ($0.transactionalId, $0) },
            uniquingKeysWith: { first, _ in first }
        )
        return DescribeTransactionsResponse(
            transactionStates: request.transactionalIds.map { transactionalId in
                guard let state = described[transactionalId] else {
                    return .init(
                        errorCode: .transactionalIdAuthorizationFailed,
                        transactionalId: transactionalId,
                        transactionState: "",
                        transactionTimeoutMs: 0,
                        transactionStartTimeMs: -1,
                        producerId: -1,
                        producerEpoch: -1,
                        topics: []
                    )
                }
                return .init(
                    errorCode: state.errorCode,
                    transactionalId: transactionalId,
                    transactionState: state.state,
                    transactionTimeoutMs: state.timeoutMs,
                    transactionStartTimeMs: state.startTimeMs,
                    producerId: state.producerId,
                    producerEpoch: state.producerEpoch,
                    topics: state.topics.map { .init(topic: $0.topic, partitions: $0.partitions) }
                )
            }
        )
    }

    func listTransactions(_ request: ListTransactionsRequest, origin: RequestOrigin) -> ListTransactionsResponse {
        let nowMs = self.sessionClock.nowMs
        let listed = self.transactions.read {
            $0.list(
                stateFilters: request.stateFilters,
                producerIdFilters: request.producerIdFilters,
                durationFilterMs: origin.apiVersion >= 1 ? request.durationFilter : -1,
                nowMs: nowMs
            )
        }
        // Only the transactional ids the principal may DESCRIBE, as Kafka.
        return ListTransactionsResponse(
            unknownStateFilters: listed.unknownStateFilters,
            transactionStates: listed.transactions.filter {
                self.isAllowed(origin, .describe, .transactionalId, $0.transactionalId)
            }.map { .init(transactionalId: $0.transactionalId, producerId: $0.producerId, transactionState: $0.state) }
        )
    }

    /// Why a transactional batch may not be appended, or nil: it needs the request's
    /// transactional id (Kafka: INVALID_RECORD without one) and, as Kafka's KIP-890 verification,
    /// a partition added to that producer's open transaction (INVALID_TXN_STATE otherwise, so a
    /// zombie or a confused client cannot write outside a transaction's bounds; a stale epoch is
    /// INVALID_PRODUCER_EPOCH: the producer is fenced).
    func transactionalRefusal(
        transactionalId: String?,
        producerId: Int64,
        producerEpoch: Int16,
        topic: String,
        partition: Int32
    ) -> StorageError? {
        guard let transactionalId else {
            return StorageError(.invalidRecord, "a transactional batch needs the request's transactional id")
        }
        let inTransaction: Bool = self.transactions.read { coordinator -> Bool in
            coordinator.isPartitionInTransaction(
                transactionalId: transactionalId,
                producerId: producerId,
                producerEpoch: producerEpoch,
                partition: TransactionPartition(topic, partition)
            )
        }
        let current: TransactionMetadata? = self.transactions.read { coordinator -> TransactionMetadata? in
            coordinator.metadata(forTransactionalId: transactionalId)
        }
        guard !inTransaction else { return nil }
        if let current, current.producerId == producerId, current.producerEpoch > producerEpoch {
            return StorageError(.invalidProducerEpoch, "producer \(producerId) epoch \(producerEpoch) is fenced")
        }
        return StorageError(
            .invalidTxnState,
            "\(topic)-\(partition) is not in an open transaction of \(transactionalId) (producer \(producerId))"
        )
    }

    /// Writes a transaction's COMMIT or ABORT markers to each of its partitions (durably), as
    /// Kafka's WriteTxnMarkers does on every partition leader; the `__consumer_offsets` partition's
    /// marker goes through the group coordinator, which then commits or drops the transaction's
    /// offsets. A partition deleted meanwhile is skipped; a failed write is retried a few times,
    /// and otherwise left to the next start (the transaction stays in Prepare until then).
    func writeTransactionMarkers(_ markers: TransactionMarkers) async -> Bool {
        for partition in markers.partitions {
            var attempt = 0
            while true {
                let written: Bool
                if partition.topic == GroupCoordinatorRuntime.offsetsTopic {
                    written = await self.groups.completeTransaction(
                        producerId: markers.producerId,
                        producerEpoch: markers.producerEpoch,
                        coordinatorEpoch: markers.coordinatorEpoch,
                        commit: markers.commit
                    )
                } else {
                    do throws(StorageError) {
                        _ = try await self.appendTransactionMarker(
                            topicPartition: TopicPartition(topic: partition.topic, partition: partition.partition),
                            producerId: markers.producerId,
                            producerEpoch: markers.producerEpoch,
                            coordinatorEpoch: markers.coordinatorEpoch,
                            commit: markers.commit,
                            durability: .fsync
                        )
                        written = true
                    } catch {
                        // A partition deleted meanwhile has nothing left to mark.
                        written = error.code == StorageError.Code.unknownTopicOrPartition
                        if !written {
                            self.logger.warning(
                                "cannot write a transaction marker",
                                metadata: ["partition": "\(partition)", "error": "\(error)"]
                            )
                        }
                    }
                }
                if written { break }
                attempt += 1
                guard attempt < 5, !Task.isCancelled else {
                    self.logger.error(
                        "cannot write transaction marker; the transaction completes at the next start",
                        metadata: ["transactionalId": "\(markers.transactionalId)", "partition": "\(partition)"]
                    )
                    return false
                }
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        return true
    }
}
