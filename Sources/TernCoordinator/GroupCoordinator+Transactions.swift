import NIOCore
import TernWire

/// One offset of a TxnOffsetCommit request.
public struct TransactionalOffset: Hashable, Sendable {
    public var partition: TopicPartition
    public var offset: Int64
    /// -1 when unknown (TxnOffsetCommit before v2).
    public var leaderEpoch: Int32
    public var metadata: String?

    public init(_ partition: TopicPartition, offset: Int64, leaderEpoch: Int32 = -1, metadata: String? = nil) {
        self.partition = partition
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
    }
}

/// A TxnOffsetCommit offset waiting for its transaction's marker.
struct PendingTransactionalOffset: Hashable, Sendable {
    var value: OffsetCommitValue
    /// When its record was written, relative to the partition's other pending offsets.
    var sequence: UInt64
    /// A later offset record (an ordinary commit, or another transaction's that committed first)
    /// replaced it: committing this transaction must not bring it back. Kafka compares the records'
    /// log offsets to the same effect (`replayEndTransactionMarker`).
    var superseded = false
}

// Transactional offset commits (KIP-98): TxnOffsetCommit's offsets are written to
// `__consumer_offsets` in a transactional batch and stay pending — invisible to OffsetFetch —
// until the transaction's COMMIT marker reaches the offsets partition; an ABORT drops them.
// Follows Kafka's `OffsetMetadataManager` (commitTransactionalOffset, replay,
// replayEndTransactionMarker, fetchOffsets with require_stable).
extension GroupCoordinator {
    // MARK: TxnOffsetCommit

    /// TxnOffsetCommit. The group check is Kafka's `validateTransactionalOffsetCommit`: an unknown
    /// group is created (simple group) for generation -1 and ILLEGAL_GENERATION otherwise; a Dead
    /// group answers COORDINATOR_NOT_AVAILABLE; generation -1 on an Empty group, or a request
    /// without member id, generation and instance id (before v3), is accepted whatever the group;
    /// otherwise the member must exist (UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID) at the group's
    /// generation (ILLEGAL_GENERATION) — in any state: unlike OffsetCommit there is no
    /// REBALANCE_IN_PROGRESS. Per partition, UNKNOWN_TOPIC_OR_PARTITION and
    /// OFFSET_METADATA_TOO_LARGE as OffsetCommit.
    ///
    /// The accepted offsets become the producer's pending offsets at once; the response waits for
    /// their records, which the runtime appends as a transactional batch of the producer
    /// (`CoordinatorAppend.transactionalProducer`). The producer id and epoch are checked against the
    /// transaction by that append (the offsets partition's producer state), not here.
    public mutating func txnOffsetCommit(
        groupId: String,
        producerId: Int64,
        producerEpoch: Int16,
        generationId: Int32 = -1,
        memberId: String = "",
        groupInstanceId: String? = nil,
        offsets: [TransactionalOffset],
        ticket: RequestTicket,
        nowMs: Int64,
        partitionExists: (_ topic: String, _ partition: Int32) -> Bool
    ) -> CoordinatorResult {
        var group = self.groups[groupId]
        let groupError = Self.validateTransactionalCommit(
            groupId: groupId,
            generationId: generationId,
            memberId: memberId,
            groupInstanceId: groupInstanceId,
            group: group
        )
        var errors: [TopicPartition: KafkaErrorCode] = [:]
        var records: [CoordinatorRecord] = []
        for offset in offsets {
            let metadata = offset.metadata ?? ""
            if !partitionExists(offset.partition.topic, offset.partition.partition) {
                errors[offset.partition] = .unknownTopicOrPartition
            } else if groupError != .none {
                errors[offset.partition] = groupError
            } else if metadata.utf16.count > self.configuration.offsetMetadataMaxLength {
                errors[offset.partition] = .offsetMetadataTooLarge
            } else {
                errors[offset.partition] = KafkaErrorCode.none
                let value = OffsetCommitValue(
                    offset: offset.offset,
                    leaderEpoch: offset.leaderEpoch,
                    metadata: metadata,
                    commitTimestampMs: nowMs
                )
                self.addPendingOffset(value, groupId: groupId, partition: offset.partition, producerId: producerId)
                records.append(
                    .offsetCommit(
                        OffsetCommitKey(
                            group: groupId,
                            topic: offset.partition.topic,
                            partition: offset.partition.partition
                        ),
                        value
                    )
                )
            }
        }
        let response = TicketedResponse(ticket, .txnOffsetCommit(partitions: errors))
        guard !records.isEmpty else { return CoordinatorResult(responses: [response]) }
        if group == nil {
            group = ClassicGroup(groupId: groupId, nowMs: nowMs)
            self.store(group!)
        }
        return CoordinatorResult(appends: [
            CoordinatorAppend(
                records: records,
                responsesAfterAppend: [response],
                transactionalProducer: TransactionalProducer(producerId: producerId, producerEpoch: producerEpoch)
            )
        ])
    }

    private static func validateTransactionalCommit(
        groupId: String,
        generationId: Int32,
        memberId: String,
        groupInstanceId: String?,
        group: ClassicGroup?
    ) -> KafkaErrorCode {
        guard !groupId.isEmpty else { return .invalidGroupId }
        guard let group else { return generationId < 0 ? .none : .illegalGeneration }
        if group.state == .dead { return .coordinatorNotAvailable }
        if generationId < 0 && group.state == .empty { return .none }
        // ClassicGroup.validateOffsetCommit(isTransactional: true): the member check applies only
        // when the request names a member or a generation.
        guard generationId >= 0 || !memberId.isEmpty || groupInstanceId != nil else { return .none }
        if let error = group.memberError(memberId: memberId, instanceId: groupInstanceId) { return error }
        return generationId == group.generationId ? .none : .illegalGeneration
    }

    // MARK: Transaction markers

    /// The transaction of `producerId` ended: the runtime wrote (or, replaying, read) its COMMIT or
    /// ABORT marker on the offsets partition. A commit makes the producer's pending offsets the
    /// groups' committed offsets — except where a later offset record of the partition replaced
    /// them — and an abort drops them (Kafka's `replayEndTransactionMarker`). A producer without
    /// pending offsets changes nothing.
    public mutating func completeTransaction(producerId: Int64, commit: Bool) {
        guard let byGroup = self.pendingTransactionalOffsets.removeValue(forKey: producerId) else { return }
        for (groupId, partitions) in byGroup {
            self.openTransactionsByGroup[groupId]?.remove(producerId)
            if self.openTransactionsByGroup[groupId]?.isEmpty == true { self.openTransactionsByGroup[groupId] = nil }
            guard commit else { continue }
            var group = self.groups[groupId] ?? ClassicGroup(groupId: groupId, nowMs: -1)
            for (partition, pending) in partitions where !pending.superseded {
                group.offsets[partition] = pending.value
                self.supersedePendingOffsets(groupId: groupId, partition: partition, before: pending.sequence)
            }
            self.store(group)
        }
    }

    // MARK: Replay

    /// Applies one `__consumer_offsets` record of a transactional batch of `producerId` read back
    /// from the log: an offset becomes pending for the producer, as TxnOffsetCommit left it, until
    /// the runtime meets the batch's marker and calls `completeTransaction`. Tombstones and group
    /// records are applied as by `replay(key:value:)` (Kafka ignores the producer for them too).
    public mutating func replayTransactional(key: ByteBuffer, value: ByteBuffer?, producerId: Int64)
        throws(InternalRecordError)
    {
        self.replayTransactional(try CoordinatorRecord.decode(key: key, value: value), producerId: producerId)
    }

    /// Applies one decoded record of a transactional batch; see `replayTransactional(key:value:producerId:)`.
    public mutating func replayTransactional(_ record: CoordinatorRecord, producerId: Int64) {
        guard case .offsetCommit(let key, let value?) = record else {
            self.replay(record)
            return
        }
        // Kafka creates the simple group an offset belongs to when it replays the offset.
        if self.groups[key.group] == nil {
            self.groups[key.group] = ClassicGroup(groupId: key.group, nowMs: -1)
        }
        self.addPendingOffset(
            value,
            groupId: key.group,
            partition: TopicPartition(key.topic, key.partition),
            producerId: producerId
        )
    }

    // MARK: Inspection

    /// The offsets `producerId`'s open transaction holds, by group.
    public func pendingTransactionalOffsets(producerId: Int64) -> [String: [TopicPartition: OffsetCommitValue]] {
        (self.pendingTransactionalOffsets[producerId] ?? [:]).mapValues { $0.mapValues(\.value) }
    }

    /// Whether an open transaction holds an offset of the group's partition (Kafka's
    /// `hasPendingTransactionalOffsets`).
    public func hasPendingTransactionalOffset(groupId: String, partition: TopicPartition) -> Bool {
        guard let producers = self.openTransactionsByGroup[groupId] else { return false }
        return producers.contains { self.pendingTransactionalOffsets[$0]?[groupId]?[partition] != nil }
    }

    // MARK: Bookkeeping

    private mutating func addPendingOffset(
        _ value: OffsetCommitValue,
        groupId: String,
        partition: TopicPartition,
        producerId: Int64
    ) {
        self.transactionalOffsetSequence += 1
        self.pendingTransactionalOffsets[producerId, default: [:]][groupId, default: [:]][partition] =
            PendingTransactionalOffset(value: value, sequence: self.transactionalOffsetSequence)
        self.openTransactionsByGroup[groupId, default: []].insert(producerId)
    }

    /// An ordinary offset record (or tombstone) of the group's partition was applied after every
    /// pending one: a commit no longer brings those back, and a tombstone deletes them (Kafka's
    /// `replay` of an offset tombstone removes the partition's pending offsets).
    mutating func regularOffsetRecordApplied(groupId: String, partition: TopicPartition, deleted: Bool) {
        if deleted {
            for producerId in self.openTransactionsByGroup[groupId] ?? [] {
                self.pendingTransactionalOffsets[producerId]?[groupId]?[partition] = nil
                self.forgetIfEmpty(producerId: producerId, groupId: groupId)
            }
        } else {
            self.supersedePendingOffsets(groupId: groupId, partition: partition, before: .max)
        }
    }

    /// Drops every pending offset of the group; returns their partitions.
    mutating func dropPendingTransactionalOffsets(groupId: String) -> Set<TopicPartition> {
        var partitions: Set<TopicPartition> = []
        for producerId in self.openTransactionsByGroup.removeValue(forKey: groupId) ?? [] {
            if let removed = self.pendingTransactionalOffsets[producerId]?.removeValue(forKey: groupId) {
                partitions.formUnion(removed.keys)
            }
            if self.pendingTransactionalOffsets[producerId]?.isEmpty == true {
                self.pendingTransactionalOffsets[producerId] = nil
            }
        }
        return partitions
    }

    private mutating func supersedePendingOffsets(groupId: String, partition: TopicPartition, before sequence: UInt64) {
        for producerId in self.openTransactionsByGroup[groupId] ?? [] {
            if let pending = self.pendingTransactionalOffsets[producerId]?[groupId]?[partition],
                pending.sequence < sequence
            {
                self.pendingTransactionalOffsets[producerId]![groupId]![partition]!.superseded = true
            }
        }
    }

    private mutating func forgetIfEmpty(producerId: Int64, groupId: String) {
        guard self.pendingTransactionalOffsets[producerId]?[groupId]?.isEmpty == true else { return }
        self.pendingTransactionalOffsets[producerId]![groupId] = nil
        if self.pendingTransactionalOffsets[producerId]!.isEmpty { self.pendingTransactionalOffsets[producerId] = nil }
        self.openTransactionsByGroup[groupId]?.remove(producerId)
        if self.openTransactionsByGroup[groupId]?.isEmpty == true { self.openTransactionsByGroup[groupId] = nil }
    }
}
