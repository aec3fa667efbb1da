import NIOCore
import TernWire

// OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, and the DeleteGroups / OffsetDelete
// operations (no wire types yet).
extension GroupCoordinator {
    // MARK: OffsetCommit

    /// OffsetCommit v2–v3. `partitionExists` is the broker's metadata check: partitions it rejects
    /// get UNKNOWN_TOPIC_OR_PARTITION whatever the group says. A member's commit needs the current
    /// generation (Stable or PreparingRebalance) and, with a group instance id (v7+), must come from
    /// the member id holding that instance (else FENCED_INSTANCE_ID); a "simple" commit (generation < 0) is accepted
    /// only while the group is Empty, and creates the group if needed. The response waits for the
    /// offsets' records; with nothing to write it is immediate.
    public mutating func commitOffsets(
        _ request: OffsetCommitRequest,
        ticket: RequestTicket,
        nowMs: Int64,
        partitionExists: (_ topic: String, _ partition: Int32) -> Bool
    ) -> CoordinatorResult {
        var result = CoordinatorResult()
        var group = self.groups[request.groupId]
        let groupError = self.validateCommit(request, group: group)
        if groupError == .none, group == nil {
            group = ClassicGroup(groupId: request.groupId, nowMs: nowMs)
        }

        var records: [CoordinatorRecord] = []
        let topics = request.topics.map { topic in
            OffsetCommitResponse.OffsetCommitResponseTopic(
                name: topic.name,
                partitions: topic.partitions.map { partition in
                    let errorCode: KafkaErrorCode
                    let metadata = partition.committedMetadata ?? ""
                    if !partitionExists(topic.name, partition.partitionIndex) {
                        errorCode = .unknownTopicOrPartition
                    } else if groupError != .none {
                        errorCode = groupError
                    } else if metadata.utf16.count > self.configuration.offsetMetadataMaxLength {
                        errorCode = .offsetMetadataTooLarge
                    } else {
                        let value = OffsetCommitValue(
                            offset: partition.committedOffset,
                            leaderEpoch: partition.committedLeaderEpoch,
                            metadata: metadata,
                            commitTimestampMs: nowMs,
                            // -1 asks for the broker's retention; anything else is the commit's own.
                            expireTimestampMs: request.retentionTimeMs == -1 ? nil : nowMs + request.retentionTimeMs
                        )
                        let key = TopicPartition(topic.name, partition.partitionIndex)
                        group!.offsets[key] = value
                        if self.openTransactionsByGroup[request.groupId] != nil {
                            self.regularOffsetRecordApplied(groupId: request.groupId, partition: key, deleted: false)
                        }
                        records.append(
                            .offsetCommit(
                                OffsetCommitKey(
                                    group: request.groupId,
                                    topic: topic.name,
                                    partition: partition.partitionIndex
                                ),
                                value
                            )
                        )
                        errorCode = .none
                    }
                    return OffsetCommitResponse.OffsetCommitResponsePartition(
                        partitionIndex: partition.partitionIndex,
                        errorCode: errorCode
                    )
                }
            )
        }
        let response = TicketedResponse(ticket, .offsetCommit(OffsetCommitResponse(topics: topics)))

        if groupError == .none, let group, !records.isEmpty {
            // A commit is a sign of life from a member.
            if let member = group.members[request.memberId] {
                self.refreshSession(member, group: group, nowMs: nowMs, result: &result)
            }
            self.store(group)
            result.appends.append(CoordinatorAppend(records: records, responsesAfterAppend: [response]))
        } else {
            result.responses.append(response)
        }
        return result
    }

    /// The group-level verdict on a commit (Kafka's `validateOffsetCommit`), `.none` if accepted.
    private func validateCommit(_ request: OffsetCommitRequest, group: ClassicGroup?) -> KafkaErrorCode {
        guard !request.groupId.isEmpty else { return .invalidGroupId }
        let generationId = request.generationIdOrMemberEpoch
        guard let group else {
            // No group: a simple commit creates one; a member's commit belongs to a generation that
            // no longer exists.
            return generationId < 0 ? .none : .illegalGeneration
        }
        switch group.state {
        case .dead:
            return .coordinatorNotAvailable
        case .empty:
            if generationId < 0 { return .none }
        case .preparingRebalance, .completingRebalance, .stable:
            break
        }
        // A group with members only takes commits from its members, at its generation.
        if let error = group.memberError(memberId: request.memberId, instanceId: request.groupInstanceId) {
            return error
        }
        guard generationId == group.generationId else { return .illegalGeneration }
        switch group.state {
        case .completingRebalance:
            // The member is about to get a new assignment; its offsets may be for partitions it loses.
            return .rebalanceInProgress
        case .stable, .preparingRebalance:
            // Kafka accepts commits during PreparingRebalance: the member learns of the rebalance
            // from its next heartbeat and commits before rejoining.
            return .none
        case .empty, .dead:
            preconditionFailure("unreachable: an Empty or Dead group has no members")
        }
    }

    // MARK: OffsetFetch

    /// OffsetFetch v1–v7: the requested partitions (never committed → offset -1, metadata "", error
    /// 0), or with `topics == nil` every committed partition, sorted. Reads need no append. With
    /// `requireStable` (v7+), a partition with a transactional offset still pending answers
    /// UNSTABLE_OFFSET_COMMIT with offset -1, as Kafka's `OffsetMetadataManager.fetchOffsets`.
    public func fetchOffsets(_ request: OffsetFetchRequest) -> OffsetFetchResponse {
        guard !request.groupId.isEmpty else {
            // v1 has no top-level error, so the error is repeated on each requested partition.
            return OffsetFetchResponse(
                topics: (request.topics ?? []).map { topic in
                    OffsetFetchResponse.OffsetFetchResponseTopic(
                        name: topic.name,
                        partitions: topic.partitionIndexes.map {
                            OffsetFetchResponse.OffsetFetchResponsePartition(
                                partitionIndex: $0,
                                committedOffset: -1,
                                metadata: "",
                                errorCode: .invalidGroupId
                            )
                        }
                    )
                },
                errorCode: .invalidGroupId
            )
        }
        let offsets = self.groups[request.groupId]?.offsets ?? [:]
        let checkStable = request.requireStable && self.openTransactionsByGroup[request.groupId] != nil
        func partition(_ topic: String, _ index: Int32) -> OffsetFetchResponse.OffsetFetchResponsePartition {
            if checkStable,
                self.hasPendingTransactionalOffset(groupId: request.groupId, partition: TopicPartition(topic, index))
            {
                return OffsetFetchResponse.OffsetFetchResponsePartition(
                    partitionIndex: index,
                    committedOffset: -1,
                    metadata: "",
                    errorCode: .unstableOffsetCommit
                )
            }
            guard let value = offsets[TopicPartition(topic, index)] else {
                return OffsetFetchResponse.OffsetFetchResponsePartition(
                    partitionIndex: index,
                    committedOffset: -1,
                    metadata: ""
                )
            }
            return OffsetFetchResponse.OffsetFetchResponsePartition(
                partitionIndex: index,
                committedOffset: value.offset,
                committedLeaderEpoch: value.leaderEpoch,
                metadata: value.metadata
            )
        }
        guard let requested = request.topics else {
            var byTopic: [String: [Int32]] = [:]
            for key in offsets.keys { byTopic[key.topic, default: []].append(key.partition) }
            return OffsetFetchResponse(
                topics: byTopic.keys.sorted().map { topic in
                    OffsetFetchResponse.OffsetFetchResponseTopic(
                        name: topic,
                        partitions: byTopic[topic]!.sorted().map { partition(topic, $0) }
                    )
                }
            )
        }
        return OffsetFetchResponse(
            topics: requested.map { topic in
                OffsetFetchResponse.OffsetFetchResponseTopic(
                    name: topic.name,
                    partitions: topic.partitionIndexes.map { partition(topic.name, $0) }
                )
            }
        )
    }

    // MARK: DescribeGroups, ListGroups

    /// DescribeGroups v0–v4. An unknown group is described as Dead with no error, as Kafka does;
    /// members' metadata and assignments are shown only while the group is Stable.
    public func describeGroups(_ request: DescribeGroupsRequest) -> DescribeGroupsResponse {
        DescribeGroupsResponse(
            groups: request.groups.map { groupId in
                guard !groupId.isEmpty else {
                    return DescribeGroupsResponse.DescribedGroup(
                        errorCode: .invalidGroupId,
                        groupId: groupId,
                        groupState: "",
                        protocolType: "",
                        protocolData: ""
                    )
                }
                guard let group = self.groups[groupId] else {
                    return DescribeGroupsResponse.DescribedGroup(
                        groupId: groupId,
                        groupState: GroupState.dead.rawValue,
                        protocolType: "",
                        protocolData: ""
                    )
                }
                let stableProtocol: String?
                switch group.state {
                case .stable:
                    stableProtocol = group.protocolName
                case .empty, .preparingRebalance, .completingRebalance, .dead:
                    stableProtocol = nil
                }
                return DescribeGroupsResponse.DescribedGroup(
                    groupId: groupId,
                    groupState: group.state.rawValue,
                    protocolType: group.protocolType ?? "",
                    protocolData: stableProtocol ?? "",
                    members: group.orderedMembers.map { member in
                        DescribeGroupsResponse.DescribedGroupMember(
                            memberId: member.memberId,
                            // v4+ only; older versions drop it.
                            groupInstanceId: member.groupInstanceId,
                            clientId: member.clientId,
                            clientHost: member.clientHost,
                            memberMetadata: stableProtocol.flatMap { member.metadata(for: $0) } ?? ByteBuffer(),
                            memberAssignment: stableProtocol == nil ? ByteBuffer() : member.assignment
                        )
                    }
                )
            }
        )
    }

    /// ListGroups: every group, sorted by id, with its state (v4+) and type (v5+, always
    /// "classic"); groups that only commit offsets have protocol type "". v4+ filters by state and
    /// v5+ by type, case-insensitively, when the filters are not empty.
    public func listGroups(_ request: ListGroupsRequest = ListGroupsRequest()) -> ListGroupsResponse {
        let states = Set(request.statesFilter.map { $0.lowercased() })
        let types = Set(request.typesFilter.map { $0.lowercased() })
        return ListGroupsResponse(
            groups: self.groups.keys.sorted().compactMap { groupId in
                let group = self.groups[groupId]!
                guard states.isEmpty || states.contains(group.state.rawValue.lowercased()) else { return nil }
                guard types.isEmpty || types.contains("classic") else { return nil }
                return ListGroupsResponse.ListedGroup(
                    groupId: groupId,
                    protocolType: group.protocolType ?? "",
                    groupState: group.state.rawValue,
                    groupType: "classic"
                )
            }
        )
    }

    // MARK: Offset expiry

    /// Expires committed offsets older than `offsets.retention.minutes` (the periodic check of
    /// Kafka's `GroupMetadataManager.cleanupGroupMetadata`, KIP-211) and writes their tombstones:
    /// - an Empty group with a protocol: every offset, once the group has been Empty for the
    ///   retention (measured from its state change; from the commit when that time is unknown);
    /// - a Stable consumer group: the offsets of topics no member subscribes to, by commit time;
    /// - a group without a protocol (offsets committed outside a group, `assign` mode): each
    ///   offset by its commit time;
    /// - an offset committed with a retention time (OffsetCommit v1's expire timestamp): at that
    ///   time, whatever the group's state.
    /// An Empty group left with no offsets (and no pending transactional ones) is deleted with
    /// its metadata tombstone. Returns one append of all tombstones, nothing when none expired.
    public mutating func expireOffsets(nowMs: Int64) -> CoordinatorResult {
        let retentionMs = self.configuration.offsetsRetentionMs
        var records: [CoordinatorRecord] = []
        for groupId in self.groups.keys.sorted() {
            guard var group = self.groups[groupId] else { continue }
            let baseTimestamp: (OffsetCommitValue) -> Int64
            var keptTopics: Set<String> = []
            switch (group.state, group.protocolType) {
            case (.empty, .some):
                let stateChangedMs = group.currentStateTimestampMs
                baseTimestamp = { stateChangedMs >= 0 ? stateChangedMs : $0.commitTimestampMs }
            case (.stable, "consumer"):
                baseTimestamp = { $0.commitTimestampMs }
                keptTopics = Self.subscribedTopics(of: group)
            case (_, nil):
                baseTimestamp = { $0.commitTimestampMs }
            default:
                continue
            }
            let expired = group.offsets.filter { partition, value in
                guard !keptTopics.contains(partition.topic) else { return false }
                if let expireTimestampMs = value.expireTimestampMs { return nowMs >= expireTimestampMs }
                return nowMs - baseTimestamp(value) >= retentionMs
            }.keys.sorted()
            for partition in expired {
                group.offsets[partition] = nil
                records.append(
                    .offsetCommit(
                        OffsetCommitKey(group: groupId, topic: partition.topic, partition: partition.partition),
                        nil
                    )
                )
            }
            if group.state == .empty && group.offsets.isEmpty && self.openTransactionsByGroup[groupId] == nil {
                records.append(.groupMetadata(groupId: groupId, nil))
                group.transition(to: .dead, nowMs: nowMs)
            }
            self.store(group)
        }
        guard !records.isEmpty else { return .none }
        return CoordinatorResult(appends: [CoordinatorAppend(records: records)])
    }

    // MARK: DeleteGroups, OffsetDelete

    /// Deletes an Empty group and its offsets (DeleteGroups, one group): NON_EMPTY_GROUP while it has
    /// members, GROUP_ID_NOT_FOUND if unknown. The group is gone at once; the response waits for the
    /// tombstones.
    public mutating func deleteGroup(_ groupId: String, ticket: RequestTicket, nowMs: Int64) -> CoordinatorResult {
        func answer(_ errorCode: KafkaErrorCode) -> TicketedResponse {
            TicketedResponse(ticket, .deleteGroup(groupId: groupId, errorCode: errorCode))
        }
        guard !groupId.isEmpty else { return CoordinatorResult(responses: [answer(.invalidGroupId)]) }
        guard var group = self.groups[groupId] else { return CoordinatorResult(responses: [answer(.groupIdNotFound)]) }
        switch group.state {
        case .dead:
            return CoordinatorResult(responses: [answer(.groupIdNotFound)])
        case .preparingRebalance, .completingRebalance, .stable:
            return CoordinatorResult(responses: [answer(.nonEmptyGroup)])
        case .empty:
            break
        }
        // Partitions with only a pending transactional offset get a tombstone too (Kafka's
        // `deleteAllOffsets`); the tombstones drop every pending offset of the group, as on replay.
        let pendingPartitions = self.dropPendingTransactionalOffsets(groupId: groupId)
        var records: [CoordinatorRecord] = Set(group.offsets.keys).union(pendingPartitions).sorted().map {
            .offsetCommit(OffsetCommitKey(group: groupId, topic: $0.topic, partition: $0.partition), nil)
        }
        records.append(.groupMetadata(groupId: groupId, nil))
        group.offsets = [:]
        group.transition(to: .dead, nowMs: nowMs)
        self.store(group)
        return CoordinatorResult(appends: [CoordinatorAppend(records: records, responsesAfterAppend: [answer(.none)])])
    }

    /// Deletes committed offsets of a group (OffsetDelete). Refused for partitions of topics a
    /// "consumer" group's members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC), and for the whole
    /// request (NON_EMPTY_GROUP) when a non-consumer group has members. Partitions without an
    /// offset succeed without a record.
    public mutating func deleteOffsets(
        groupId: String,
        partitions: [TopicPartition],
        ticket: RequestTicket,
        nowMs: Int64
    ) -> CoordinatorResult {
        func failure(_ errorCode: KafkaErrorCode) -> CoordinatorResult {
            CoordinatorResult(responses: [
                TicketedResponse(ticket, .deleteOffsets(errorCode: errorCode, partitions: [:]))
            ])
        }
        guard !groupId.isEmpty else { return failure(.invalidGroupId) }
        guard var group = self.groups[groupId] else { return failure(.groupIdNotFound) }
        let subscribedTopics: Set<String>
        switch group.state {
        case .dead:
            return failure(.groupIdNotFound)
        case .empty:
            subscribedTopics = []
        case .preparingRebalance, .completingRebalance, .stable:
            guard group.protocolType == "consumer" else { return failure(.nonEmptyGroup) }
            subscribedTopics = Self.subscribedTopics(of: group)
        }
        var errors: [TopicPartition: KafkaErrorCode] = [:]
        var records: [CoordinatorRecord] = []
        for partition in partitions {
            if subscribedTopics.contains(partition.topic) {
                errors[partition] = .groupSubscribedToTopic
                continue
            }
            errors[partition] = KafkaErrorCode.none
            if group.offsets.removeValue(forKey: partition) != nil {
                if self.openTransactionsByGroup[groupId] != nil {
                    self.regularOffsetRecordApplied(groupId: groupId, partition: partition, deleted: true)
                }
                records.append(
                    .offsetCommit(
                        OffsetCommitKey(group: groupId, topic: partition.topic, partition: partition.partition),
                        nil
                    )
                )
            }
        }
        let response = TicketedResponse(ticket, .deleteOffsets(errorCode: .none, partitions: errors))
        guard !records.isEmpty else { return CoordinatorResult(responses: [response]) }
        self.store(group)
        return CoordinatorResult(appends: [CoordinatorAppend(records: records, responsesAfterAppend: [response])])
    }

    /// The topics in the members' "consumer" subscriptions for the chosen protocol (or, before a
    /// protocol is chosen, their first protocol). A subscription that does not parse counts as
    /// none, as in Kafka.
    private static func subscribedTopics(of group: ClassicGroup) -> Set<String> {
        var topics: Set<String> = []
        for member in group.orderedMembers {
            let metadata = group.protocolName.flatMap { member.metadata(for: $0) } ?? member.protocols.first?.metadata
            guard let metadata, let subscription = try? ConsumerProtocolSubscription.decode(from: metadata) else {
                continue
            }
            topics.formUnion(subscription.topics)
        }
        return topics
    }
}
