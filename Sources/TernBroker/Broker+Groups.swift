import NIOCore
import TernCoordinator
import TernStorage
import TernWire

extension Broker {
    /// The group APIs, applied to the coordinator in arrival order. JoinGroup and SyncGroup often
    /// wait for other members; OffsetCommit waits for its records' fsync. Their replies are pending
    /// until then, while later requests on the connection go on being read.
    func handleGroupRequest(_ request: KafkaRequest, origin: RequestOrigin, clientHost: String) -> BrokerReply? {
        let version = origin.apiVersion
        let groups = self.groups
        func answerLater(_ pending: GroupCoordinatorRuntime.PendingResponse) -> BrokerReply {
            .pending {
                // nil: dropped while parked, because the connection closed or the broker stops.
                guard let response = await pending.value else {
                    return .closeConnection(reason: "parked group request dropped")
                }
                return self.encode(response, origin)
            }
        }
        switch request {
        case .joinGroup(let join):
            let clientId = origin.clientId ?? ""
            return answerLater(
                groups.submit { coordinator, ticket, nowMs in
                    coordinator.joinGroup(
                        join,
                        version: version,
                        clientId: clientId,
                        clientHost: clientHost,
                        ticket: ticket,
                        nowMs: nowMs
                    )
                }
            )
        case .syncGroup(let sync):
            let pending = groups.submit { $0.syncGroup(sync, ticket: $1, nowMs: $2) }
            return .pending {
                guard let answer = await pending.value else {
                    return .closeConnection(reason: "parked group request dropped")
                }
                guard case .syncGroup(var response) = answer else {
                    return self.encode(answer, origin)
                }
                // v5+ answers with the group's protocol type and name, which a member checks
                // against its own; the coordinator has accepted the request's.
                if response.errorCode == .none {
                    response.protocolType = sync.protocolType
                    response.protocolName = sync.protocolName
                }
                return self.reply(response, origin)
            }
        case .heartbeat(let heartbeat):
            return answerLater(groups.submit { $0.heartbeat(heartbeat, ticket: $1, nowMs: $2) })
        case .leaveGroup(let leave) where version >= 3:
            // v3+ removes a batch of members, each answered on its own; a static member may be named
            // by its group instance id alone.
            let pending = leave.members.map { member in
                let single = LeaveGroupRequest(groupId: leave.groupId, memberId: member.memberId)
                let instanceId = member.groupInstanceId
                return (
                    member,
                    groups.submit { $0.leaveGroup(single, groupInstanceId: instanceId, ticket: $1, nowMs: $2) }
                )
            }
            return .pending {
                var members: [LeaveGroupResponse.MemberResponse] = []
                for (member, response) in pending {
                    guard case .leaveGroup(let single)? = await response.value else { continue }
                    if single.errorCode == .invalidGroupId || single.errorCode == .coordinatorNotAvailable {
                        return self.reply(LeaveGroupResponse(errorCode: single.errorCode), origin)
                    }
                    members.append(
                        .init(
                            memberId: member.memberId,
                            groupInstanceId: member.groupInstanceId,
                            errorCode: single.errorCode
                        )
                    )
                }
                return self.reply(LeaveGroupResponse(members: members), origin)
            }
        case .leaveGroup(let leave):
            return answerLater(groups.submit { $0.leaveGroup(leave, ticket: $1, nowMs: $2) })
        case .offsetCommit(var commit):
            let logs = self.logs
            // Topics the principal may not READ are answered TOPIC_AUTHORIZATION_FAILED, as Kafka;
            // the others go to the coordinator.
            // One check per topic (each scans the ACLs); none without an authorizer.
            let allowed =
                self.configuration.authorizer == nil
                ? [] : commit.topics.map { self.isAllowed(origin, .read, .topic, $0.name) }
            let refused = zip(commit.topics, allowed).filter { !$1 }.map(\.0)
            if !refused.isEmpty { commit.topics = zip(commit.topics, allowed).filter(\.1).map(\.0) }
            let pending = groups.submit { coordinator, ticket, nowMs in
                coordinator.commitOffsets(commit, ticket: ticket, nowMs: nowMs) { topic, partition in
                    topic != GroupCoordinatorRuntime.offsetsTopic
                        && logs.partition(topic: topic, index: partition) != nil
                }
            }
            guard !refused.isEmpty else { return answerLater(pending) }
            return .pending {
                guard case .offsetCommit(var response)? = await pending.value else {
                    return .closeConnection(reason: "parked group request dropped")
                }
                response.topics += refused.map { topic in
                    .init(
                        name: topic.name,
                        partitions: topic.partitions.map {
                            .init(partitionIndex: $0.partitionIndex, errorCode: .topicAuthorizationFailed)
                        }
                    )
                }
                return self.reply(response, origin)
            }
        case .offsetFetch(let fetch) where version >= 8:
            // v8+ asks for several groups at once; each is answered as a v7 request would be.
            let answered = fetch.groups.map { group in
                guard self.isAllowed(origin, .describe, .group, group.groupId) else {
                    return OffsetFetchResponse.OffsetFetchResponseGroup(
                        groupId: group.groupId,
                        topics: [],
                        errorCode: .groupAuthorizationFailed
                    )
                }
                let single = OffsetFetchRequest(
                    groupId: group.groupId,
                    topics: group.topics.map { topics in
                        topics.map { .init(name: $0.name, partitionIndexes: $0.partitionIndexes) }
                    }
                )
                let response = self.withoutUndescribableTopics(
                    groups.read { $0.fetchOffsets(single) },
                    named: single.topics != nil,
                    origin
                )
                return OffsetFetchResponse.OffsetFetchResponseGroup(
                    groupId: group.groupId,
                    topics: response.topics.map { topic in
                        .init(
                            name: topic.name,
                            partitions: topic.partitions.map {
                                .init(
                                    partitionIndex: $0.partitionIndex,
                                    committedOffset: $0.committedOffset,
                                    committedLeaderEpoch: $0.committedLeaderEpoch,
                                    metadata: $0.metadata,
                                    errorCode: $0.errorCode
                                )
                            }
                        )
                    },
                    errorCode: response.errorCode
                )
            }
            return self.reply(OffsetFetchResponse(groups: answered), origin)
        case .offsetFetch(let fetch):
            let response = groups.read { $0.fetchOffsets(fetch) }
            return self.reply(self.withoutUndescribableTopics(response, named: fetch.topics != nil, origin), origin)
        case .describeGroups(var describe):
            // Groups the principal may not DESCRIBE are answered GROUP_AUTHORIZATION_FAILED, in place.
            let requested = describe.groups
            describe.groups = requested.filter { self.isAllowed(origin, .describe, .group, $0) }
            var described = groups.read { $0.describeGroups(describe) }
            if described.groups.count != requested.count {
                var byId = Dictionary(
                    described.groups.map { ($0.groupId, $0) },
                    uniquingKeysWith: { first, _ in first }
                )
                described.groups = requested.map { id in
                    byId.removeValue(forKey: id) ?? .init(errorCode: .groupAuthorizationFailed, groupId: id)
                }
            }
            return self.reply(described, origin)
        case .listGroups(let list):
            var listed = groups.read { $0.listGroups(list) }
            // Without DESCRIBE on the cluster, only the groups the principal may DESCRIBE.
            if !self.isAllowedOnCluster(origin, .describe) {
                listed.groups = listed.groups.filter { self.isAllowed(origin, .describe, .group, $0.groupId) }
            }
            return self.reply(listed, origin)
        case .deleteGroups(let delete):
            let pending = delete.groupsNames.map { name in
                (
                    name,
                    self.isAllowed(origin, .delete, .group, name)
                        ? groups.submit { $0.deleteGroup(name, ticket: $1, nowMs: $2) } : nil
                )
            }
            return .pending {
                var results: [DeleteGroupsResponse.DeletableGroupResult] = []
                for (name, response) in pending {
                    guard let response else {
                        results.append(.init(groupId: name, errorCode: .groupAuthorizationFailed))
                        continue
                    }
                    guard case .deleteGroup(let groupId, let errorCode) = await response.value else {
                        results.append(.init(groupId: name, errorCode: .unknownServerError))
                        continue
                    }
                    results.append(.init(groupId: groupId, errorCode: errorCode))
                }
                return self.reply(DeleteGroupsResponse(results: results), origin)
            }
        case .offsetDelete(let delete):
            let partitions = delete.topics.flatMap { topic in
                topic.partitions.map { TernCoordinator.TopicPartition(topic.name, $0.partitionIndex) }
            }
            let pending = groups.submit {
                $0.deleteOffsets(groupId: delete.groupId, partitions: partitions, ticket: $1, nowMs: $2)
            }
            return .pending {
                guard case .deleteOffsets(let errorCode, let byPartition) = await pending.value else {
                    return self.reply(
                        OffsetDeleteResponse(errorCode: .unknownServerError, topics: []),
                        origin
                    )
                }
                let topics = delete.topics.map { topic in
                    OffsetDeleteResponse.OffsetDeleteResponseTopic(
                        name: topic.name,
                        partitions: topic.partitions.map { partition in
                            .init(
                                partitionIndex: partition.partitionIndex,
                                errorCode: byPartition[
                                    TernCoordinator.TopicPartition(topic.name, partition.partitionIndex)
                                ]
                                    ?? .none
                            )
                        }
                    )
                }
                return self.reply(
                    OffsetDeleteResponse(errorCode: errorCode, topics: errorCode == .none ? topics : []),
                    origin
                )
            }
        default:
            return nil
        }
    }

    /// Kafka's OffsetFetch rule: a topic the principal may not DESCRIBE is left out of an
    /// all-topics answer and answered TOPIC_AUTHORIZATION_FAILED when named.
    private func withoutUndescribableTopics(
        _ response: OffsetFetchResponse,
        named: Bool,
        _ origin: RequestOrigin
    ) -> OffsetFetchResponse {
        guard self.configuration.authorizer != nil else { return response }
        var answered = response
        if !named {
            answered.topics.removeAll { !self.isAllowed(origin, .describe, .topic, $0.name) }
            return answered
        }
        answered.topics = response.topics.map { topic in
            guard !self.isAllowed(origin, .describe, .topic, topic.name) else { return topic }
            var refused = topic
            refused.partitions = topic.partitions.map {
                .init(partitionIndex: $0.partitionIndex, committedOffset: -1, errorCode: .topicAuthorizationFailed)
            }
            return refused
        }
        return answered
    }

    private func encode(_ response: CoordinatorResponse, _ origin: RequestOrigin) -> BrokerReply {
        switch response {
        case .joinGroup(let response):
            // Each completed rebalance answers exactly one member as its leader.
            if response.errorCode == .none && !response.leader.isEmpty && response.leader == response.memberId {
                self.metrics.rebalanceCompleted()
            }
            return self.reply(response, origin)
        case .syncGroup(let response): return self.reply(response, origin)
        case .heartbeat(let response): return self.reply(response, origin)
        case .leaveGroup(let response): return self.reply(response, origin)
        case .offsetCommit(let response): return self.reply(response, origin)
        case .deleteGroup, .deleteOffsets, .txnOffsetCommit:
            // DeleteGroups, OffsetDelete and TxnOffsetCommit have no wire types yet, so no request
            // produces these.
            return .closeConnection(reason: "unexpected coordinator response \(response)")
        }
    }
}
