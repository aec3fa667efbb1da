import NIOCore
import TernCoordinator
import TernWire
import Testing

/// KIP-394 (MEMBER_ID_REQUIRED, JoinGroup v4+) and KIP-345 static membership (JoinGroup v5+
/// `group.instance.id`), as event → expected result lines.
@Suite struct StaticMembershipTests {
    // MARK: KIP-394

    @Test func joinGroupV4HandsOutAPendingIdThatTheNextJoinUses() {
        var c = makeCoordinator()
        // The id is generated and remembered for the session timeout; nothing else happens.
        #expect(
            c.join("a", version: 4, ticket: 1, at: 0)
                == CoordinatorResult(
                    responses: [joinFailed(1, .memberIdRequired, member: "a-1")],
                    timers: [.schedule(session("a-1"), atMs: 10_000)]
                )
        )
        #expect(c.state(ofGroup: group) == .empty)
        #expect(c.members(ofGroup: group) == [])
        // The join with that id is a first join: parked, the initial delay starts.
        #expect(
            c.join("a", memberId: "a-1", version: 4, ticket: 2, at: 50)
                == CoordinatorResult(timers: [
                    .schedule(session("a-1"), atMs: 50 + newMemberJoinTimeoutMs),
                    .schedule(initialDelay, atMs: 150),
                ])
        )
        #expect(c.members(ofGroup: group) == ["a-1"])
        #expect(
            c.fire(initialDelay, at: 150)
                == CoordinatorResult(
                    responses: [joined(2, generation: 1, leader: "a-1", member: "a-1", members: ["a-1"])],
                    timers: [.schedule(session("a-1"), atMs: 10_150), .schedule(syncTimeout, atMs: 30_150)]
                )
        )
    }

    @Test func joinGroupV3AndOlderStillAssignTheIdInTheSameRound() {
        for version: Int16 in 0...3 {
            var c = makeCoordinator()
            #expect(
                c.join("a", version: version, ticket: 1, at: 0)
                    == CoordinatorResult(timers: [
                        .schedule(session("a-1"), atMs: newMemberJoinTimeoutMs),
                        .schedule(initialDelay, atMs: 100),
                    ]),
                "v\(version)"
            )
            #expect(c.members(ofGroup: group) == ["a-1"], "v\(version)")
        }
    }

    @Test func anUnusedPendingIdExpiresAfterTheSessionTimeout() {
        var c = makeCoordinator()
        _ = c.join("a", version: 4, ticket: 1, at: 0)
        #expect(c.fire(session("a-1"), at: 10_000) == .none)
        #expect(
            c.join("a", memberId: "a-1", version: 4, ticket: 2, at: 10_001)
                == CoordinatorResult(responses: [joinFailed(2, .unknownMemberId, member: "a-1")])
        )
    }

    @Test func aJoinPhaseWaitsForAPendingMemberUntilItsIdExpires() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"])  // Stable at t=200, sessions until 10_200
        #expect(
            c.join("c", version: 4, ticket: 10, at: 300)
                == CoordinatorResult(
                    responses: [joinFailed(10, .memberIdRequired, member: "c-3")],
                    timers: [.schedule(session("c-3"), atMs: 10_300)]
                )
        )
        #expect(c.state(ofGroup: group) == .stable, "a pending member does not start a rebalance")
        // The leader forces a rebalance; both known members rejoin, but c-3 is still to come.
        #expect(
            c.join("a", memberId: "a-1", ticket: 11, at: 400)
                == CoordinatorResult(timers: [
                    .schedule(session("a-1"), atMs: 10_400), .schedule(rebalanceTimeout, atMs: 30_400),
                ])
        )
        #expect(
            c.join("b", memberId: "b-2", ticket: 12, at: 500)
                == CoordinatorResult(timers: [.schedule(session("b-2"), atMs: 10_500)])
        )
        #expect(c.state(ofGroup: group) == .preparingRebalance)
        // The pending id expires: the join phase completes without it.
        #expect(
            c.fire(session("c-3"), at: 10_300)
                == CoordinatorResult(
                    responses: [
                        joined(11, generation: 2, leader: "a-1", member: "a-1", members: ["a-1", "b-2"]),
                        joined(12, generation: 2, leader: "a-1", member: "b-2"),
                    ],
                    timers: [
                        .cancel(rebalanceTimeout),
                        .schedule(session("a-1"), atMs: 20_300),
                        .schedule(session("b-2"), atMs: 20_300),
                        .schedule(syncTimeout, atMs: 40_300),
                    ]
                )
        )
    }

    @Test func aPendingMemberCanLeave() {
        var c = makeCoordinator()
        _ = c.join("a", version: 4, ticket: 1, at: 0)
        #expect(
            c.leave("a-1", ticket: 2, at: 10)
                == CoordinatorResult(responses: [leaveAnswer(2, .none)], timers: [.cancel(session("a-1"))])
        )
        #expect(
            c.join("a", memberId: "a-1", version: 4, ticket: 3, at: 20)
                == CoordinatorResult(responses: [joinFailed(3, .unknownMemberId, member: "a-1")])
        )
    }

    // MARK: KIP-345

    @Test func aStaticMemberJoinsWithoutMemberIdRequiredAndItsIdStartsWithTheInstanceId() {
        var c = makeCoordinator()
        #expect(
            c.join("x", instanceId: "a", version: 5, ticket: 1, at: 0)
                == CoordinatorResult(timers: [
                    .schedule(session("a-1"), atMs: newMemberJoinTimeoutMs),
                    .schedule(initialDelay, atMs: 100),
                ])
        )
        #expect(c.members(ofGroup: group) == ["a-1"])
    }

    @Test func aRestartedFollowerTakesItsPlaceWithoutARebalance() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"], staticMembers: true)  // Stable at t=200
        // b restarts: a new id, the old assignment, the current generation; stored before answered.
        #expect(
            c.join("b", instanceId: "b", version: 5, ticket: 20, at: 300)
                == CoordinatorResult(
                    appends: [
                        CoordinatorAppend(
                            records: [
                                groupRecord(
                                    generation: 1,
                                    leader: "a-1",
                                    members: [("a-1", "assigned:a-1"), ("b-3", "assigned:b-2")],
                                    at: 200,
                                    staticMembers: true
                                )
                            ],
                            responsesAfterAppend: [joined(20, generation: 1, leader: "a-1", member: "b-3")]
                        )
                    ],
                    timers: [.cancel(session("b-2")), .schedule(session("b-3"), atMs: 10_300)]
                )
        )
        #expect(c.state(ofGroup: group) == .stable)
        #expect(c.generation(ofGroup: group) == 1)
        #expect(c.members(ofGroup: group) == ["a-1", "b-3"])
        // The new id gets the old assignment from a Stable group's SyncGroup.
        #expect(
            c.sync("b-3", generation: 1, instanceId: "b", ticket: 21, at: 310)
                == CoordinatorResult(
                    responses: [synced(21, "assigned:b-2")],
                    timers: [.schedule(session("b-3"), atMs: 10_310)]
                )
        )
        // The old id is fenced wherever it shows up with the instance id, and unknown without it.
        #expect(
            c.beat("b-2", generation: 1, instanceId: "b", ticket: 22, at: 320)
                == CoordinatorResult(responses: [heartbeatAnswer(22, .fencedInstanceId)])
        )
        #expect(
            c.beat("b-2", generation: 1, ticket: 23, at: 320)
                == CoordinatorResult(responses: [heartbeatAnswer(23, .unknownMemberId)])
        )
        #expect(
            c.sync("b-2", generation: 1, instanceId: "b", ticket: 24, at: 320)
                == CoordinatorResult(responses: [syncFailed(24, .fencedInstanceId)])
        )
        #expect(
            c.commit(generation: 1, member: "b-2", instanceId: "b", [("t", 0, 5, nil)], ticket: 25, at: 320)
                == CoordinatorResult(responses: [commitAnswer(25, [("t", [(0, .fencedInstanceId)])])])
        )
        #expect(
            c.join("b", memberId: "b-2", instanceId: "b", version: 5, ticket: 26, at: 320)
                == CoordinatorResult(responses: [joinFailed(26, .fencedInstanceId, member: "b-2")])
        )
        #expect(
            c.leave("b-2", instanceId: "b", ticket: 27, at: 320)
                == CoordinatorResult(responses: [leaveAnswer(27, .fencedInstanceId)])
        )
        // The new id is checked against the mapping too.
        #expect(
            c.beat("b-3", generation: 1, instanceId: "b", ticket: 28, at: 330)
                == CoordinatorResult(
                    responses: [heartbeatAnswer(28, .none)],
                    timers: [.schedule(session("b-3"), atMs: 10_330)]
                )
        )
        #expect(
            c.beat("b-3", generation: 1, instanceId: "a", ticket: 29, at: 330)
                == CoordinatorResult(responses: [heartbeatAnswer(29, .fencedInstanceId)])
        )
        #expect(
            c.beat("b-3", generation: 1, instanceId: "nobody", ticket: 30, at: 330)
                == CoordinatorResult(responses: [heartbeatAnswer(30, .unknownMemberId)])
        )
        #expect(c.state(ofGroup: group) == .stable)
        #expect(c.generation(ofGroup: group) == 1)
    }

    @Test func aRestartedLeaderIsAnsweredWithTheOldLeaderIdSoItDoesNotAssign() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"], staticMembers: true)
        // Kafka names the old leader id, so the client (whose id is new) acts as a follower; the
        // member list and skip_assignment (v9+) tell a newer client it leads but must not assign.
        #expect(
            c.join("a", instanceId: "a", version: 5, ticket: 20, at: 300)
                == CoordinatorResult(
                    appends: [
                        CoordinatorAppend(
                            records: [
                                groupRecord(
                                    generation: 1,
                                    leader: "a-3",
                                    members: [("a-3", "assigned:a-1"), ("b-2", "assigned:b-2")],
                                    at: 200,
                                    staticMembers: true
                                )
                            ],
                            responsesAfterAppend: [
                                joined(
                                    20,
                                    generation: 1,
                                    leader: "a-1",
                                    member: "a-3",
                                    members: ["a-3", "b-2"],
                                    staticMembers: true,
                                    skipAssignment: true
                                )
                            ]
                        )
                    ],
                    timers: [.cancel(session("a-1")), .schedule(session("a-3"), atMs: 10_300)]
                )
        )
        #expect(c.leader(ofGroup: group) == "a-3")
        #expect(c.state(ofGroup: group) == .stable)
        #expect(
            c.sync("a-3", generation: 1, instanceId: "a", ticket: 21, at: 310)
                == CoordinatorResult(
                    responses: [synced(21, "assigned:a-1")],
                    timers: [.schedule(session("a-3"), atMs: 10_310)]
                )
        )
    }

    @Test func aRestartWithAnotherProtocolChoiceRebalances() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a"], staticMembers: true)
        // Alone in the group, a now only speaks roundrobin: the group's protocol must change.
        #expect(
            c.join("a", protocolNames: ["roundrobin"], instanceId: "a", version: 5, ticket: 20, at: 300)
                == CoordinatorResult(
                    responses: [
                        joined(
                            20,
                            generation: 2,
                            protocolName: "roundrobin",
                            leader: "a-2",
                            member: "a-2",
                            members: ["a-2"],
                            staticMembers: true
                        )
                    ],
                    timers: [
                        .cancel(session("a-1")),
                        .schedule(session("a-2"), atMs: 10_300),
                        .schedule(syncTimeout, atMs: 30_300),
                    ]
                )
        )
        #expect(c.state(ofGroup: group) == .completingRebalance)
    }

    @Test func aDuplicateInstanceFencesTheParkedJoinOfTheOldId() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"], staticMembers: true)
        _ = c.join("a", memberId: "a-1", instanceId: "a", version: 5, ticket: 20, at: 300)
        #expect(c.state(ofGroup: group) == .preparingRebalance)
        #expect(
            c.join("a", instanceId: "a", version: 5, ticket: 21, at: 400)
                == CoordinatorResult(
                    responses: [joinFailed(20, .fencedInstanceId, member: "a-1")],
                    timers: [.cancel(session("a-1")), .schedule(session("a-3"), atMs: 10_400)]
                )
        )
        #expect(c.leader(ofGroup: group) == "a-3")
        // b's rejoin completes the round with the new id leading.
        let result = c.join("b", memberId: "b-2", instanceId: "b", version: 5, ticket: 22, at: 500)
        #expect(
            result.responses == [
                joined(21, generation: 2, leader: "a-3", member: "a-3", members: ["a-3", "b-2"], staticMembers: true),
                joined(22, generation: 2, leader: "a-3", member: "b-2"),
            ]
        )
    }

    @Test func aStaticMembersSessionExpiryRemovesItAndFreesTheInstanceId() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"], staticMembers: true)  // sessions until 10_200
        #expect(
            c.fire(session("b-2"), at: 10_200)
                == CoordinatorResult(timers: [.schedule(rebalanceTimeout, atMs: 40_200)])
        )
        #expect(c.members(ofGroup: group) == ["a-1"])
        #expect(c.state(ofGroup: group) == .preparingRebalance)
        // The instance comes back as a new member, not as a replacement.
        #expect(
            c.join("b", instanceId: "b", version: 5, ticket: 20, at: 10_300)
                == CoordinatorResult(timers: [.schedule(session("b-3"), atMs: 10_300 + newMemberJoinTimeoutMs)])
        )
        #expect(c.members(ofGroup: group) == ["a-1", "b-3"])
    }

    @Test(
        arguments: [
            // (member id, instance id, error, members left)
            ("", "b", KafkaErrorCode.none, ["a-1"]),
            ("b-2", "b", KafkaErrorCode.none, ["a-1"]),
            ("a-1", "b", KafkaErrorCode.fencedInstanceId, ["a-1", "b-2"]),
            ("", "nobody", KafkaErrorCode.unknownMemberId, ["a-1", "b-2"]),
            ("b-2", nil, KafkaErrorCode.none, ["a-1"]),
        ] as [(String, String?, KafkaErrorCode, [String])]
    )
    func leaveGroupByInstanceId(memberId: String, instanceId: String?, error: KafkaErrorCode, left: [String]) {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"], staticMembers: true)
        let result = c.leave(memberId, instanceId: instanceId, ticket: 20, at: 300)
        if error == .none {
            #expect(
                result
                    == CoordinatorResult(
                        responses: [leaveAnswer(20, .none)],
                        timers: [.cancel(session("b-2")), .schedule(rebalanceTimeout, atMs: 30_300)]
                    )
            )
            #expect(c.state(ofGroup: group) == .preparingRebalance)
        } else {
            #expect(result == CoordinatorResult(responses: [leaveAnswer(20, error)]))
            #expect(c.state(ofGroup: group) == .stable)
        }
        #expect(c.members(ofGroup: group) == left)
    }

    @Test func describeGroupsShowsInstanceIds() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"], staticMembers: true)
        let described = c.describeGroups(DescribeGroupsRequest(groups: [group]))
        #expect(described.groups.first?.members.map(\.groupInstanceId) == ["a", "b"])
        #expect(described.groups.first?.members.map(\.memberId) == ["a-1", "b-2"])
    }

    @Test func theInstanceIdsAreStoredInTheGroupRecordAndReplayed() throws {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"], staticMembers: true)
        let stored = c.join("b", instanceId: "b", version: 5, ticket: 20, at: 300).appends.flatMap(\.records)
        #expect(stored.count == 1)
        let key = stored[0].encodeKey()
        let value = try #require(stored[0].encodeValue())
        // Version 3 of GroupMetadataValue, the first with group_instance_id.
        #expect(value.getInteger(at: value.readerIndex, as: Int16.self) == 3)
        guard case .groupMetadata(_, let decoded?) = try CoordinatorRecord.decode(key: key, value: value) else {
            Issue.record("not a group metadata record")
            return
        }
        #expect(decoded.members.map(\.memberId) == ["a-1", "b-3"])
        #expect(decoded.members.map(\.groupInstanceId) == ["a", "b"])
        var restored = makeCoordinator()
        try restored.replay(key: key, value: value)
        #expect(restored.generation(ofGroup: group) == 1)
    }

    @Test func aStaticMemberRestartedAfterABrokerRestartTakesItsRestoredPlace() throws {
        // The record the leader's SyncGroup stores for a Stable group of static members a and b.
        let stored = groupRecord(
            generation: 1,
            leader: "a-1",
            members: [("a-1", "assigned:a-1"), ("b-2", "assigned:b-2")],
            at: 200,
            staticMembers: true
        )
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"], staticMembers: true)
        #expect(c.describeGroups(DescribeGroupsRequest(groups: [group])).groups.first?.members.count == 2)
        let log = [(key: stored.encodeKey(), value: stored.encodeValue())]
        var restored = makeCoordinator()
        for entry in log { try restored.replay(key: entry.key, value: entry.value) }
        _ = restored.restoredSessions(nowMs: 1_000)
        #expect(restored.members(ofGroup: group) == ["a-1", "b-2"])
        // The restarted process joins with an empty member id: its restored place, no rebalance.
        #expect(
            restored.join("b", instanceId: "b", version: 5, ticket: 20, at: 1_100)
                == CoordinatorResult(
                    appends: [
                        CoordinatorAppend(
                            records: [
                                groupRecord(
                                    generation: 1,
                                    leader: "a-1",
                                    members: [("a-1", "assigned:a-1"), ("b-1", "assigned:b-2")],
                                    at: 200,
                                    staticMembers: true
                                )
                            ],
                            responsesAfterAppend: [joined(20, generation: 1, leader: "a-1", member: "b-1")]
                        )
                    ],
                    timers: [.cancel(session("b-2")), .schedule(session("b-1"), atMs: 11_100)]
                )
        )
        #expect(restored.state(ofGroup: group) == .stable)
        #expect(
            restored.sync("b-1", generation: 1, instanceId: "b", ticket: 21, at: 1_200).responses == [
                synced(21, "assigned:b-2")
            ]
        )
    }
}
