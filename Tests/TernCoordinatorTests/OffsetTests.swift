import NIOCore
import TernCoordinator
import TernWire
import Testing

/// Topic "t" has partitions 0–2; nothing else exists.
func knownPartition(_ topic: String, _ partition: Int32) -> Bool {
    topic == "t" && (0..<3).contains(partition)
}

extension GroupCoordinator {
    mutating func commit(
        groupId: String = group,
        generation: Int32 = -1,
        member: String = "",
        instanceId: String? = nil,
        _ partitions: [(topic: String, partition: Int32, offset: Int64, metadata: String?)],
        retentionMs: Int64 = -1,
        ticket: UInt64 = 1,
        at nowMs: Int64
    ) -> CoordinatorResult {
        var topics: [OffsetCommitRequest.OffsetCommitRequestTopic] = []
        for entry in partitions {
            let partition = OffsetCommitRequest.OffsetCommitRequestPartition(
                partitionIndex: entry.partition,
                committedOffset: entry.offset,
                committedMetadata: entry.metadata
            )
            if let index = topics.firstIndex(where: { $0.name == entry.topic }) {
                topics[index].partitions.append(partition)
            } else {
                topics.append(OffsetCommitRequest.OffsetCommitRequestTopic(name: entry.topic, partitions: [partition]))
            }
        }
        return self.commitOffsets(
            OffsetCommitRequest(
                groupId: groupId,
                generationIdOrMemberEpoch: generation,
                memberId: member,
                groupInstanceId: instanceId,
                retentionTimeMs: retentionMs,
                topics: topics
            ),
            ticket: RequestTicket(ticket),
            nowMs: nowMs,
            partitionExists: knownPartition
        )
    }
}

func commitAnswer(_ ticket: UInt64, _ topics: [(String, [(Int32, KafkaErrorCode)])]) -> TicketedResponse {
    TicketedResponse(
        RequestTicket(ticket),
        .offsetCommit(
            OffsetCommitResponse(
                topics: topics.map { name, partitions in
                    OffsetCommitResponse.OffsetCommitResponseTopic(
                        name: name,
                        partitions: partitions.map {
                            OffsetCommitResponse.OffsetCommitResponsePartition(partitionIndex: $0.0, errorCode: $0.1)
                        }
                    )
                }
            )
        )
    )
}

func offsetRecord(_ topic: String, _ partition: Int32, _ value: OffsetCommitValue?) -> CoordinatorRecord {
    .offsetCommit(OffsetCommitKey(group: group, topic: topic, partition: partition), value)
}

/// Group `group` Stable with one member, "a-1", whose consumer subscription is topic "t" only.
func stableGroupSubscribedToT(_ c: inout GroupCoordinator) {
    let subscription = ConsumerProtocolSubscription(topics: ["t"]).encode(version: 0)
    _ = c.joinGroup(
        JoinGroupRequest(
            groupId: group,
            sessionTimeoutMs: sessionMs,
            rebalanceTimeoutMs: rebalanceMs,
            protocolType: "consumer",
            protocols: [.init(name: "range", metadata: subscription)]
        ),
        version: 2,
        clientId: "a",
        clientHost: "/127.0.0.1",
        ticket: RequestTicket(1),
        nowMs: 0
    )
    _ = c.fire(initialDelay, at: delayMs)
    _ = c.sync("a-1", generation: 1, assignments: ["a-1": "x"], ticket: 2, at: 200)
}

/// a-1 commits t-0 at 5, and old-0 at 5: a topic the group committed to before, no longer
/// subscribed (and since deleted).
func commitToTAndToAnUnsubscribedTopic(_ c: inout GroupCoordinator, at nowMs: Int64) {
    _ = c.commit(generation: 1, member: "a-1", [("t", 0, 5, nil)], at: nowMs)
    _ = c.commitOffsets(
        OffsetCommitRequest(
            groupId: group,
            generationIdOrMemberEpoch: 1,
            memberId: "a-1",
            topics: [.init(name: "old", partitions: [.init(partitionIndex: 0, committedOffset: 5)])]
        ),
        ticket: RequestTicket(9),
        nowMs: nowMs,
        partitionExists: { _, _ in true }
    )
}

/// The error code per committed partition in a result, and whether anything is to be appended.
func commitErrors(_ result: CoordinatorResult) -> (errors: [KafkaErrorCode], appends: Bool) {
    let errors = result.allResponses.flatMap { response -> [KafkaErrorCode] in
        guard case .offsetCommit(let commit) = response.response else { return [] }
        return commit.topics.flatMap { $0.partitions.map(\.errorCode) }
    }
    return (errors, !result.appends.isEmpty)
}

@Suite struct OffsetTests {
    @Test func aSimpleCommitCreatesAnEmptyGroupAndIsAnsweredAfterItsRecords() {
        var c = makeCoordinator()
        #expect(
            c.commit([("t", 0, 42, "m"), ("t", 1, 7, nil), ("u", 0, 1, nil)], at: 1_000)
                == CoordinatorResult(appends: [
                    CoordinatorAppend(
                        records: [
                            offsetRecord(
                                "t",
                                0,
                                OffsetCommitValue(offset: 42, metadata: "m", commitTimestampMs: 1_000)
                            ),
                            offsetRecord("t", 1, OffsetCommitValue(offset: 7, metadata: "", commitTimestampMs: 1_000)),
                        ],
                        responsesAfterAppend: [
                            commitAnswer(1, [("t", [(0, .none), (1, .none)]), ("u", [(0, .unknownTopicOrPartition)])])
                        ]
                    )
                ])
        )
        #expect(c.state(ofGroup: group) == .empty)
        #expect(
            c.listGroups().groups == [
                ListGroupsResponse.ListedGroup(
                    groupId: group,
                    protocolType: "",
                    groupState: "Empty",
                    groupType: "classic"
                )
            ]
        )
    }

    @Test func anExplicitRetentionTimeIsStoredAsAnExpiryTimestamp() {
        var c = makeCoordinator()
        let result = c.commit([("t", 0, 42, "m")], retentionMs: 5_000, at: 1_000)
        let expected = OffsetCommitValue(offset: 42, metadata: "m", commitTimestampMs: 1_000, expireTimestampMs: 6_000)
        #expect(result.appends.map(\.records) == [[offsetRecord("t", 0, expected)]])
        #expect(expected.recordVersion == 1)
    }

    @Test func commitsThatFindNothingToWriteAreAnsweredAtOnce() {
        var c = makeCoordinator()
        #expect(
            c.commit([("u", 0, 1, nil), ("t", 9, 1, nil)], at: 0)
                == CoordinatorResult(responses: [
                    commitAnswer(1, [("u", [(0, .unknownTopicOrPartition)]), ("t", [(9, .unknownTopicOrPartition)])])
                ])
        )
        #expect(c.state(ofGroup: group) == nil)
        #expect(c.commit([], at: 0) == CoordinatorResult(responses: [commitAnswer(1, [])]))
    }

    @Test func metadataIsLimitedTo4096Characters() {
        var c = makeCoordinator()
        let fits = String(repeating: "x", count: 4_096)
        let tooLong = String(repeating: "x", count: 4_097)
        let result = c.commit([("t", 0, 1, fits), ("t", 1, 1, tooLong)], at: 0)
        #expect(commitErrors(result).errors == [.none, .offsetMetadataTooLarge])
        #expect(result.appends.map(\.records.count) == [1])
        #expect(c.committedOffsets(ofGroup: group).keys.sorted() == [TopicPartition("t", 0)])
    }

    @Test func commitRulesByGroupState() {
        // (description, set-up, generation, member id, expected error)
        typealias Setup = (inout GroupCoordinator) -> Void
        let none: Setup = { _ in }
        let emptyGroup: Setup = { c in
            stableGroup(&c, clients: ["a"])
            _ = c.leave("a-1", ticket: 99, at: 500)
        }
        let stable: Setup = { c in stableGroup(&c, clients: ["a", "b"]) }
        let preparing: Setup = { c in
            stableGroup(&c, clients: ["a", "b"])
            _ = c.join("c", ticket: 99, at: 500)
        }
        let completing: Setup = { c in
            _ = c.join("a", ticket: 98, at: 0)
            _ = c.fire(initialDelay, at: delayMs)
        }
        let cases: [(String, Setup, Int32, String, KafkaErrorCode)] = [
            ("simple commit, no group", none, -1, "", .none),
            ("member commit, no group", none, 1, "a-1", .illegalGeneration),
            ("simple commit, Empty group", emptyGroup, -1, "", .none),
            ("member commit, Empty group", emptyGroup, 2, "a-1", .unknownMemberId),
            ("member commit, Stable, current generation", stable, 1, "b-2", .none),
            ("member commit, Stable, old generation", stable, 0, "b-2", .illegalGeneration),
            ("member commit, Stable, unknown member", stable, 1, "z-9", .unknownMemberId),
            ("simple commit, Stable group", stable, -1, "", .unknownMemberId),
            ("member commit, PreparingRebalance, current generation", preparing, 1, "b-2", .none),
            ("member commit, CompletingRebalance", completing, 1, "a-1", .rebalanceInProgress),
            ("member commit, CompletingRebalance, old generation", completing, 0, "a-1", .illegalGeneration),
        ]
        for (description, setup, generation, member, expected) in cases {
            var c = makeCoordinator()
            setup(&c)
            let result = c.commit(
                generation: generation,
                member: member,
                [("t", 0, 5, nil), ("u", 0, 5, nil)],
                at: 1_000
            )
            #expect(commitErrors(result).errors == [expected, .unknownTopicOrPartition], "\(description)")
            #expect(commitErrors(result).appends == (expected == .none), "\(description)")
            #expect(
                (c.committedOffsets(ofGroup: group)[TopicPartition("t", 0)] != nil) == (expected == .none),
                "\(description)"
            )
        }
        var c = makeCoordinator()
        #expect(commitErrors(c.commit(groupId: "", [("t", 0, 5, nil)], at: 0)).errors == [.invalidGroupId])
    }

    @Test func aMembersCommitRefreshesItsSession() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a"])
        #expect(
            c.commit(generation: 1, member: "a-1", [("t", 0, 5, nil)], at: 2_000).timers == [
                .schedule(session("a-1"), atMs: 12_000)
            ]
        )
    }

    @Test func offsetFetchReturnsCommittedOffsetsAndMinusOneForTheRest() {
        var c = makeCoordinator()
        _ = c.commit([("t", 2, 20, "two"), ("t", 0, 10, "zero")], at: 0)
        _ = c.commit(groupId: "other", [("t", 1, 99, nil)], at: 0)
        #expect(
            c.fetchOffsets(
                OffsetFetchRequest(
                    groupId: group,
                    topics: [.init(name: "t", partitionIndexes: [0, 1]), .init(name: "u", partitionIndexes: [0])]
                )
            )
                == OffsetFetchResponse(topics: [
                    .init(
                        name: "t",
                        partitions: [
                            .init(partitionIndex: 0, committedOffset: 10, metadata: "zero"),
                            .init(partitionIndex: 1, committedOffset: -1, metadata: ""),
                        ]
                    ),
                    .init(name: "u", partitions: [.init(partitionIndex: 0, committedOffset: -1, metadata: "")]),
                ])
        )
        // All partitions, sorted.
        #expect(
            c.fetchOffsets(OffsetFetchRequest(groupId: group, topics: nil))
                == OffsetFetchResponse(topics: [
                    .init(
                        name: "t",
                        partitions: [
                            .init(partitionIndex: 0, committedOffset: 10, metadata: "zero"),
                            .init(partitionIndex: 2, committedOffset: 20, metadata: "two"),
                        ]
                    )
                ])
        )
        #expect(c.fetchOffsets(OffsetFetchRequest(groupId: "nobody", topics: nil)) == OffsetFetchResponse())
        #expect(
            c.fetchOffsets(OffsetFetchRequest(groupId: "", topics: [.init(name: "t", partitionIndexes: [0])]))
                == OffsetFetchResponse(
                    topics: [
                        .init(
                            name: "t",
                            partitions: [
                                .init(partitionIndex: 0, committedOffset: -1, metadata: "", errorCode: .invalidGroupId)
                            ]
                        )
                    ],
                    errorCode: .invalidGroupId
                )
        )
    }

    @Test func theCommittedLeaderEpochIsStoredAndReturned() throws {
        var c = makeCoordinator()
        let request = OffsetCommitRequest(
            groupId: group,
            generationIdOrMemberEpoch: -1,
            memberId: "",
            topics: [
                .init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 5)])
            ]
        )
        let result = c.commitOffsets(request, ticket: RequestTicket(1), nowMs: 1_000, partitionExists: knownPartition)
        let stored = OffsetCommitValue(offset: 42, leaderEpoch: 5, metadata: "", commitTimestampMs: 1_000)
        #expect(result.appends.map(\.records) == [[offsetRecord("t", 0, stored)]])
        let fetch = OffsetFetchRequest(groupId: group, topics: [.init(name: "t", partitionIndexes: [0])])
        #expect(c.fetchOffsets(fetch).topics.first?.partitions.first?.committedLeaderEpoch == 5)
        // After a restart the epoch comes back from the record (written as v3, which has it).
        var replayed = makeCoordinator()
        let record = offsetRecord("t", 0, stored)
        try replayed.replay(key: record.encodeKey(), value: record.encodeValue())
        #expect(replayed.fetchOffsets(fetch).topics.first?.partitions.first?.committedLeaderEpoch == 5)
    }

    @Test func describeGroupsShowsMembersWithAssignmentsOnlyWhenStable() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a"])
        _ = c.commit(groupId: "simple", [("t", 0, 1, nil)], at: 0)
        let described = c.describeGroups(DescribeGroupsRequest(groups: [group, "simple", "nobody", ""]))
        #expect(
            described.groups == [
                DescribeGroupsResponse.DescribedGroup(
                    groupId: group,
                    groupState: "Stable",
                    protocolType: "consumer",
                    protocolData: "range",
                    members: [
                        DescribeGroupsResponse.DescribedGroupMember(
                            memberId: "a-1",
                            clientId: "a",
                            clientHost: "/127.0.0.1",
                            memberMetadata: bytes("range:a"),
                            memberAssignment: bytes("assigned:a-1")
                        )
                    ]
                ),
                DescribeGroupsResponse.DescribedGroup(
                    groupId: "simple",
                    groupState: "Empty",
                    protocolType: "",
                    protocolData: ""
                ),
                DescribeGroupsResponse.DescribedGroup(
                    groupId: "nobody",
                    groupState: "Dead",
                    protocolType: "",
                    protocolData: ""
                ),
                DescribeGroupsResponse.DescribedGroup(
                    errorCode: .invalidGroupId,
                    groupId: "",
                    groupState: "",
                    protocolType: "",
                    protocolData: ""
                ),
            ]
        )
        _ = c.join("b", ticket: 1, at: 500)
        #expect(
            c.describeGroups(DescribeGroupsRequest(groups: [group])).groups[0]
                == DescribeGroupsResponse.DescribedGroup(
                    groupId: group,
                    groupState: "PreparingRebalance",
                    protocolType: "consumer",
                    protocolData: "",
                    members: [
                        DescribeGroupsResponse.DescribedGroupMember(
                            memberId: "a-1",
                            clientId: "a",
                            clientHost: "/127.0.0.1"
                        ),
                        DescribeGroupsResponse.DescribedGroupMember(
                            memberId: "b-2",
                            clientId: "b",
                            clientHost: "/127.0.0.1"
                        ),
                    ]
                )
        )
        #expect(
            c.listGroups().groups == [
                ListGroupsResponse.ListedGroup(
                    groupId: group,
                    protocolType: "consumer",
                    groupState: "PreparingRebalance",
                    groupType: "classic"
                ),
                ListGroupsResponse.ListedGroup(
                    groupId: "simple",
                    protocolType: "",
                    groupState: "Empty",
                    groupType: "classic"
                ),
            ]
        )
    }

    @Test func deleteGroupRemovesAnEmptyGroupWithTombstones() {
        var c = makeCoordinator()
        func delete(_ groupId: String) -> CoordinatorResult {
            c.deleteGroup(groupId, ticket: RequestTicket(1), nowMs: 900)
        }
        func answer(_ groupId: String, _ errorCode: KafkaErrorCode) -> TicketedResponse {
            TicketedResponse(RequestTicket(1), .deleteGroup(groupId: groupId, errorCode: errorCode))
        }
        #expect(delete("") == CoordinatorResult(responses: [answer("", .invalidGroupId)]))
        #expect(delete("nobody") == CoordinatorResult(responses: [answer("nobody", .groupIdNotFound)]))
        stableGroup(&c, clients: ["a"])
        #expect(delete(group) == CoordinatorResult(responses: [answer(group, .nonEmptyGroup)]))
        _ = c.commit(generation: 1, member: "a-1", [("t", 1, 5, nil), ("t", 0, 4, nil)], at: 500)
        _ = c.leave("a-1", ticket: 2, at: 600)
        #expect(
            delete(group)
                == CoordinatorResult(appends: [
                    CoordinatorAppend(
                        records: [
                            offsetRecord("t", 0, nil), offsetRecord("t", 1, nil), .groupMetadata(groupId: group, nil),
                        ],
                        responsesAfterAppend: [answer(group, .none)]
                    )
                ])
        )
        #expect(c.state(ofGroup: group) == nil)
        #expect(c.fetchOffsets(OffsetFetchRequest(groupId: group, topics: nil)) == OffsetFetchResponse())
        #expect(delete(group) == CoordinatorResult(responses: [answer(group, .groupIdNotFound)]))
    }

    /// `offsets.retention.minutes` (KIP-211), one case per rule of Kafka's
    /// `GroupMetadata.removeExpiredOffsets`: what is still there one millisecond before the
    /// retention runs out, and the tombstones written when it has.
    @Test(arguments: [
        // An Empty consumer group: every offset, counted from when it emptied (600), not from
        // the commits (500, 550); then the group itself.
        ("empty group", 600 as Int64, ["t-0", "t-1"], true),
        // Offsets committed outside a group: each by its own commit time (500 and 700).
        ("standalone, first commit", 500, ["t-0"], false),
        ("standalone, both commits", 700, ["t-1"], true),
        // A Stable group subscribed to "t": only the topic it no longer reads, by commit time.
        ("stable group", 500, ["old-0"], false),
    ])
    func offsetsExpireAfterTheRetention(rule: String, expiresAtMs: Int64, expired: [String], groupGone: Bool) {
        let retentionMs: Int64 = 10_000
        var c = GroupCoordinator(
            configuration: GroupCoordinatorConfiguration(
                initialRebalanceDelayMs: delayMs,
                offsetsRetentionMs: retentionMs
            ),
            memberIdSuffixes: SequentialSuffixes()
        )
        switch rule {
        case "empty group":
            stableGroup(&c, clients: ["a"])
            _ = c.commit(generation: 1, member: "a-1", [("t", 0, 5, nil)], at: 500)
            _ = c.commit(generation: 1, member: "a-1", [("t", 1, 6, nil)], at: 550)
            _ = c.leave("a-1", ticket: 2, at: 600)
        case let standalone where standalone.hasPrefix("standalone"):
            _ = c.commit([("t", 0, 5, nil)], at: 500)
            _ = c.commit([("t", 1, 6, nil)], at: 700)
        default:
            stableGroupSubscribedToT(&c)
            commitToTAndToAnUnsubscribedTopic(&c, at: 500)
        }
        func tombstones(_ names: [String]) -> [CoordinatorRecord] {
            names.sorted().map { name in
                let parts = name.split(separator: "-")
                return offsetRecord(String(parts[0]), Int32(parts[1])!, nil)
            }
        }
        // One millisecond early none of them goes (the first standalone commit, older, does).
        let early = c.expireOffsets(nowMs: expiresAtMs + retentionMs - 1)
        let earlyRecords = early.appends.flatMap(\.records)
        #expect(earlyRecords == (rule.hasSuffix("both commits") ? tombstones(["t-0"]) : []), "\(rule)")
        let before = c.committedOffsets(ofGroup: group)
        let result = c.expireOffsets(nowMs: expiresAtMs + retentionMs)
        let records = tombstones(expired) + (groupGone ? [.groupMetadata(groupId: group, nil)] : [])
        #expect(result == CoordinatorResult(appends: [CoordinatorAppend(records: records)]), "\(rule)")
        #expect(groupGone == (c.state(ofGroup: group) == nil), "\(rule)")
        let left = Set(c.committedOffsets(ofGroup: group).keys.map { "\($0.topic)-\($0.partition)" })
        let expected = Set(before.keys.map { "\($0.topic)-\($0.partition)" }).subtracting(expired)
        #expect(left == expected, "\(rule)")
        #expect(c.expireOffsets(nowMs: expiresAtMs + retentionMs) == .none, "a second check finds nothing")
    }

    /// An offset committed with a retention time (OffsetCommit v1's expire timestamp) goes at that
    /// time, long before `offsets.retention.minutes`; an Empty group that never committed goes at
    /// the first check.
    @Test func anExplicitExpiryAndAnEmptyGroupWithoutOffsets() {
        var c = GroupCoordinator(
            configuration: GroupCoordinatorConfiguration(
                initialRebalanceDelayMs: delayMs,
                offsetsRetentionMs: 1_000_000
            ),
            memberIdSuffixes: SequentialSuffixes()
        )
        _ = c.commit([("t", 0, 5, nil)], retentionMs: 50, at: 500)
        _ = c.commit([("t", 1, 6, nil)], at: 500)
        #expect(c.expireOffsets(nowMs: 549) == .none)
        #expect(
            c.expireOffsets(nowMs: 550)
                == CoordinatorResult(appends: [CoordinatorAppend(records: [offsetRecord("t", 0, nil)])])
        )
        #expect(c.committedOffsets(ofGroup: group).count == 1)
        // A group whose only member left without committing.
        var d = makeCoordinator()
        stableGroup(&d, clients: ["a"])
        _ = d.leave("a-1", ticket: 2, at: 600)
        #expect(d.state(ofGroup: group) == .empty)
        #expect(
            d.expireOffsets(nowMs: 601)
                == CoordinatorResult(appends: [CoordinatorAppend(records: [.groupMetadata(groupId: group, nil)])])
        )
        #expect(d.state(ofGroup: group) == nil)
    }

    @Test func deleteOffsetsRefusesTopicsTheMembersSubscribeTo() {
        var c = makeCoordinator()
        stableGroupSubscribedToT(&c)
        commitToTAndToAnUnsubscribedTopic(&c, at: 300)
        #expect(c.committedOffsets(ofGroup: group).count == 2)
        let result = c.deleteOffsets(
            groupId: group,
            partitions: [TopicPartition("t", 0), TopicPartition("old", 0), TopicPartition("old", 1)],
            ticket: RequestTicket(3),
            nowMs: 400
        )
        #expect(
            result
                == CoordinatorResult(appends: [
                    CoordinatorAppend(
                        records: [offsetRecord("old", 0, nil)],
                        responsesAfterAppend: [
                            TicketedResponse(
                                RequestTicket(3),
                                .deleteOffsets(
                                    errorCode: .none,
                                    partitions: [
                                        TopicPartition("t", 0): .groupSubscribedToTopic,
                                        TopicPartition("old", 0): .none,
                                        TopicPartition("old", 1): .none,
                                    ]
                                )
                            )
                        ]
                    )
                ])
        )
        #expect(c.committedOffsets(ofGroup: group).keys.sorted() == [TopicPartition("t", 0)])
        #expect(
            c.deleteOffsets(groupId: "nobody", partitions: [], ticket: RequestTicket(4), nowMs: 0).responses
                == [TicketedResponse(RequestTicket(4), .deleteOffsets(errorCode: .groupIdNotFound, partitions: [:]))]
        )
    }
}
