import NIOCore
import TernCoordinator
import TernWire
import Testing

/// JoinGroup / SyncGroup / Heartbeat / LeaveGroup and the timers, as event → expected result lines.
@Suite struct MembershipTests {
    @Test func threeMembersJoinAndSyncWithDeferredResponsesReleasedTogether() {
        var c = makeCoordinator()
        // First join of an empty group: parked, the initial delay starts, the new member's join is bounded.
        #expect(
            c.join("a", ticket: 1, at: 0)
                == CoordinatorResult(timers: [
                    .schedule(session("a-1"), atMs: newMemberJoinTimeoutMs),
                    .schedule(initialDelay, atMs: 100),
                ])
        )
        #expect(c.state(ofGroup: group) == .preparingRebalance)
        #expect(c.join("b", ticket: 2, at: 10) == CoordinatorResult(timers: [.schedule(session("b-2"), atMs: 300_010)]))
        #expect(c.join("c", ticket: 3, at: 20) == CoordinatorResult(timers: [.schedule(session("c-3"), atMs: 300_020)]))
        // Members kept arriving during the delay: one more delay.
        #expect(c.fire(initialDelay, at: 100) == CoordinatorResult(timers: [.schedule(initialDelay, atMs: 200)]))
        // The delay ends quietly: all three joins are answered at once, the leader with the member list.
        #expect(
            c.fire(initialDelay, at: 200)
                == CoordinatorResult(
                    responses: [
                        joined(1, generation: 1, leader: "a-1", member: "a-1", members: ["a-1", "b-2", "c-3"]),
                        joined(2, generation: 1, leader: "a-1", member: "b-2"),
                        joined(3, generation: 1, leader: "a-1", member: "c-3"),
                    ],
                    timers: [
                        .schedule(session("a-1"), atMs: 10_200),
                        .schedule(session("b-2"), atMs: 10_200),
                        .schedule(session("c-3"), atMs: 10_200),
                        .schedule(syncTimeout, atMs: 30_200),
                    ]
                )
        )
        #expect(c.state(ofGroup: group) == .completingRebalance)
        // Followers' syncs wait for the leader.
        #expect(
            c.sync("b-2", generation: 1, ticket: 4, at: 300)
                == CoordinatorResult(timers: [.schedule(session("b-2"), atMs: 10_300)])
        )
        #expect(
            c.sync("c-3", generation: 1, ticket: 5, at: 310)
                == CoordinatorResult(timers: [.schedule(session("c-3"), atMs: 10_310)])
        )
        // The leader's sync stores the assignment; every sync answer waits for that record.
        let assignments = ["a-1": "p0", "b-2": "p1", "c-3": "p2"]
        #expect(
            c.sync("a-1", generation: 1, assignments: assignments, ticket: 6, at: 320)
                == CoordinatorResult(
                    appends: [
                        CoordinatorAppend(
                            records: [
                                groupRecord(
                                    generation: 1,
                                    leader: "a-1",
                                    members: [("a-1", "p0"), ("b-2", "p1"), ("c-3", "p2")],
                                    at: 320
                                )
                            ],
                            responsesAfterAppend: [synced(6, "p0"), synced(4, "p1"), synced(5, "p2")]
                        )
                    ],
                    timers: [.schedule(session("a-1"), atMs: 10_320), .cancel(syncTimeout)]
                )
        )
        #expect(c.state(ofGroup: group) == .stable)
        #expect(c.pendingTimers == [session("a-1"): 10_320, session("b-2"): 10_300, session("c-3"): 10_310])
    }

    @Test func initialDelayIsExtendedWhileMembersArriveButCappedByTheRebalanceTimeout() {
        var c = makeCoordinator()
        _ = c.join("a", rebalance: 250, ticket: 1, at: 0)
        _ = c.join("b", rebalance: 250, ticket: 2, at: 10)
        #expect(c.fire(initialDelay, at: 100) == CoordinatorResult(timers: [.schedule(initialDelay, atMs: 200)]))
        _ = c.join("c", rebalance: 250, ticket: 3, at: 150)
        // Only 50 ms of the 250 ms rebalance timeout are left.
        #expect(c.fire(initialDelay, at: 200) == CoordinatorResult(timers: [.schedule(initialDelay, atMs: 250)]))
        _ = c.join("d", rebalance: 250, ticket: 4, at: 220)
        let result = c.fire(initialDelay, at: 250)
        #expect(result.responses.count == 4)
        #expect(c.state(ofGroup: group) == .completingRebalance)
        #expect(c.generation(ofGroup: group) == 1)
    }

    @Test func aSingleMemberWithoutCompanyCompletesAfterOneDelay() {
        var c = makeCoordinator()
        _ = c.join("a", ticket: 1, at: 0)
        #expect(
            c.fire(initialDelay, at: 100)
                == CoordinatorResult(
                    responses: [joined(1, generation: 1, leader: "a-1", member: "a-1", members: ["a-1"])],
                    timers: [.schedule(session("a-1"), atMs: 10_100), .schedule(syncTimeout, atMs: 30_100)]
                )
        )
    }

    @Test func joinRequestsThatAreRefused() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"])
        let cases: [(JoinGroupRequest, TicketedResponse)] = [
            (joinRequest("x", groupId: ""), joinFailed(1, .invalidGroupId)),
            (joinRequest("x", groupId: "fresh", session: 5_999), joinFailed(1, .invalidSessionTimeout)),
            (joinRequest("x", groupId: "fresh", session: 1_800_001), joinFailed(1, .invalidSessionTimeout)),
            (joinRequest("x", groupId: "fresh", protocolType: ""), joinFailed(1, .inconsistentGroupProtocol)),
            (joinRequest("x", groupId: "fresh", protocolNames: []), joinFailed(1, .inconsistentGroupProtocol)),
            (joinRequest("x", memberId: "x-9", groupId: "fresh"), joinFailed(1, .unknownMemberId, member: "x-9")),
            (joinRequest("x", memberId: "x-9"), joinFailed(1, .unknownMemberId, member: "x-9")),
            (joinRequest("x", protocolType: "connect"), joinFailed(1, .inconsistentGroupProtocol)),
            (joinRequest("x", protocolNames: ["sticky"]), joinFailed(1, .inconsistentGroupProtocol)),
            (
                joinRequest("a", memberId: "a-1", protocolNames: ["sticky"]),
                joinFailed(1, .inconsistentGroupProtocol, member: "a-1")
            ),
        ]
        for (request, expected) in cases {
            let before = c
            let result = c.joinGroup(
                request,
                version: 2,
                clientId: "x",
                clientHost: "/127.0.0.1",
                ticket: RequestTicket(1),
                nowMs: 500
            )
            #expect(result == CoordinatorResult(responses: [expected]), "\(request)")
            #expect(c.listGroups() == before.listGroups(), "a refused join creates no group")
            #expect(c.state(ofGroup: group) == .stable)
        }
    }

    @Test func sessionTimeoutBoundsAreInclusive() {
        var c = makeCoordinator()
        _ = c.join("a", session: 6_000, ticket: 1, at: 0)
        _ = c.join("b", session: 1_800_000, ticket: 2, at: 0)
        #expect(c.members(ofGroup: group) == ["a-1", "b-2"])
    }

    @Test func heartbeatAnswersInEachState() {
        var c = makeCoordinator()
        #expect(
            c.beat("a-1", generation: 0, groupId: "", ticket: 1, at: 0)
                == CoordinatorResult(responses: [heartbeatAnswer(1, .invalidGroupId)])
        )
        #expect(
            c.beat("a-1", generation: 0, ticket: 1, at: 0)
                == CoordinatorResult(responses: [heartbeatAnswer(1, .unknownMemberId)])
        )
        _ = c.join("a", ticket: 2, at: 0)
        _ = c.join("b", ticket: 3, at: 0)
        // PreparingRebalance (first generation not formed yet: generation 0).
        #expect(
            c.beat("a-1", generation: 0, ticket: 4, at: 50)
                == CoordinatorResult(
                    responses: [heartbeatAnswer(4, .rebalanceInProgress)],
                    timers: [.schedule(session("a-1"), atMs: 10_050)]
                )
        )
        #expect(
            c.beat("a-1", generation: 7, ticket: 5, at: 50)
                == CoordinatorResult(responses: [heartbeatAnswer(5, .illegalGeneration)])
        )
        #expect(
            c.beat("z-9", generation: 0, ticket: 6, at: 50)
                == CoordinatorResult(responses: [heartbeatAnswer(6, .unknownMemberId)])
        )
        _ = c.fire(initialDelay, at: 100)
        _ = c.fire(initialDelay, at: 200)
        #expect(c.state(ofGroup: group) == .completingRebalance)
        // CompletingRebalance: a normal heartbeat, as in Kafka.
        #expect(
            c.beat("b-2", generation: 1, ticket: 7, at: 300)
                == CoordinatorResult(
                    responses: [heartbeatAnswer(7, .none)],
                    timers: [.schedule(session("b-2"), atMs: 10_300)]
                )
        )
        #expect(
            c.beat("b-2", generation: 0, ticket: 8, at: 300)
                == CoordinatorResult(responses: [heartbeatAnswer(8, .illegalGeneration)])
        )
        _ = c.sync("a-1", generation: 1, ticket: 9, at: 400)
        // Stable.
        #expect(
            c.beat("b-2", generation: 1, ticket: 10, at: 500)
                == CoordinatorResult(
                    responses: [heartbeatAnswer(10, .none)],
                    timers: [.schedule(session("b-2"), atMs: 10_500)]
                )
        )
        #expect(
            c.beat("b-2", generation: 2, ticket: 11, at: 500)
                == CoordinatorResult(responses: [heartbeatAnswer(11, .illegalGeneration)])
        )
        #expect(
            c.beat("z-9", generation: 1, ticket: 12, at: 500)
                == CoordinatorResult(responses: [heartbeatAnswer(12, .unknownMemberId)])
        )
        // Empty (everyone left).
        _ = c.leave("a-1", ticket: 13, at: 600)
        _ = c.leave("b-2", ticket: 14, at: 600)
        #expect(c.state(ofGroup: group) == .empty)
        #expect(
            c.beat("a-1", generation: 2, ticket: 15, at: 700)
                == CoordinatorResult(responses: [heartbeatAnswer(15, .unknownMemberId)])
        )
    }

    @Test func syncGroupAnswersInEachState() {
        var c = makeCoordinator()
        func sync(_ groupId: String, _ member: String, _ generation: Int32) -> CoordinatorResult {
            c.syncGroup(
                SyncGroupRequest(groupId: groupId, generationId: generation, memberId: member),
                ticket: RequestTicket(1),
                nowMs: 50
            )
        }
        #expect(sync("", "a-1", 0) == CoordinatorResult(responses: [syncFailed(1, .invalidGroupId)]))
        #expect(sync(group, "a-1", 0) == CoordinatorResult(responses: [syncFailed(1, .unknownMemberId)]))
        _ = c.join("a", ticket: 2, at: 0)
        #expect(sync(group, "a-1", 0) == CoordinatorResult(responses: [syncFailed(1, .rebalanceInProgress)]))
        #expect(sync(group, "a-1", 3) == CoordinatorResult(responses: [syncFailed(1, .illegalGeneration)]))
        #expect(sync(group, "z-9", 0) == CoordinatorResult(responses: [syncFailed(1, .unknownMemberId)]))
        _ = c.fire(initialDelay, at: 100)
        _ = c.sync("a-1", generation: 1, assignments: ["a-1": "p0"], ticket: 3, at: 150)
        // Stable: the current assignment, at once.
        #expect(
            c.sync("a-1", generation: 1, ticket: 4, at: 200)
                == CoordinatorResult(responses: [synced(4, "p0")], timers: [.schedule(session("a-1"), atMs: 10_200)])
        )
    }

    @Test func sessionExpiryOfOneMemberTriggersARebalance() {
        var c = makeCoordinator()
        let (members, stableAt) = stableGroup(&c, clients: ["a", "b", "c"])
        #expect(members == ["a-1", "b-2", "c-3"])
        #expect(stableAt == 200)
        _ = c.beat("a-1", generation: 1, ticket: 1, at: 9_000)
        _ = c.beat("b-2", generation: 1, ticket: 2, at: 9_000)
        // A firing before the (moved) deadline is stale.
        #expect(c.fire(session("a-1"), at: 10_200) == .none)
        #expect(
            c.fire(session("c-3"), at: 10_200) == CoordinatorResult(timers: [.schedule(rebalanceTimeout, atMs: 40_200)])
        )
        #expect(c.members(ofGroup: group) == ["a-1", "b-2"])
        #expect(c.state(ofGroup: group) == .preparingRebalance)
        #expect(
            c.beat("a-1", generation: 1, ticket: 3, at: 10_300)
                == CoordinatorResult(
                    responses: [heartbeatAnswer(3, .rebalanceInProgress)],
                    timers: [.schedule(session("a-1"), atMs: 20_300)]
                )
        )
        #expect(
            c.join("a", memberId: "a-1", ticket: 4, at: 10_400)
                == CoordinatorResult(timers: [.schedule(session("a-1"), atMs: 20_400)])
        )
        // The last member to rejoin completes the round without waiting for the timeout.
        #expect(
            c.join("b", memberId: "b-2", ticket: 5, at: 10_500)
                == CoordinatorResult(
                    responses: [
                        joined(4, generation: 2, leader: "a-1", member: "a-1", members: ["a-1", "b-2"]),
                        joined(5, generation: 2, leader: "a-1", member: "b-2"),
                    ],
                    timers: [
                        .cancel(rebalanceTimeout),
                        .schedule(session("a-1"), atMs: 20_500),
                        .schedule(session("b-2"), atMs: 20_500),
                        .schedule(syncTimeout, atMs: 40_500),
                    ]
                )
        )
    }

    @Test func rebalanceTimeoutRemovesMembersThatDidNotRejoin() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"], session: 60_000, rebalance: 20_000)
        #expect(
            c.join("c", rebalance: 20_000, ticket: 1, at: 1_000)
                == CoordinatorResult(timers: [
                    .schedule(session("c-3"), atMs: 301_000),
                    .schedule(rebalanceTimeout, atMs: 21_000),
                ])
        )
        _ = c.join("a", memberId: "a-1", session: 60_000, rebalance: 20_000, ticket: 2, at: 2_000)
        // b is alive (its session runs to 60 200) but did not rejoin in time.
        #expect(
            c.fire(rebalanceTimeout, at: 21_000)
                == CoordinatorResult(
                    responses: [
                        joined(2, generation: 2, leader: "a-1", member: "a-1", members: ["a-1", "c-3"]),
                        joined(1, generation: 2, leader: "a-1", member: "c-3"),
                    ],
                    timers: [
                        .cancel(session("b-2")),
                        .schedule(session("a-1"), atMs: 81_000),
                        .schedule(session("c-3"), atMs: 31_000),
                        .schedule(syncTimeout, atMs: 41_000),
                    ]
                )
        )
        #expect(
            c.beat("b-2", generation: 1, ticket: 3, at: 21_100)
                == CoordinatorResult(responses: [heartbeatAnswer(3, .unknownMemberId)])
        )
    }

    @Test func aRejoinedMemberWaitingForTheRoundIsKeptAlive() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"])
        _ = c.join("c", ticket: 1, at: 1_000)
        _ = c.join("a", memberId: "a-1", ticket: 2, at: 2_000)
        // a is parked in its join, so its silence is the coordinator's doing: the session is extended.
        #expect(
            c.fire(session("a-1"), at: 12_000) == CoordinatorResult(timers: [.schedule(session("a-1"), atMs: 22_000)])
        )
        #expect(c.members(ofGroup: group) == ["a-1", "b-2", "c-3"])
    }

    @Test func aNewMembersParkedJoinIsBoundedByTheNewMemberJoinTimeout() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a"], session: 1_000_000, rebalance: 400_000)
        _ = c.join("b", rebalance: 400_000, ticket: 1, at: 1_000)
        #expect(
            c.fire(session("b-2"), at: 301_000)
                == CoordinatorResult(responses: [joinFailed(1, .unknownMemberId, member: "b-2")])
        )
        #expect(c.members(ofGroup: group) == ["a-1"])
        #expect(c.state(ofGroup: group) == .preparingRebalance)
    }

    @Test func leaderLeavingHandsLeadershipToTheOldestRemainingMember() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b", "c"])
        #expect(
            c.leave("a-1", ticket: 1, at: 1_000)
                == CoordinatorResult(
                    responses: [leaveAnswer(1, .none)],
                    timers: [.cancel(session("a-1")), .schedule(rebalanceTimeout, atMs: 31_000)]
                )
        )
        #expect(c.leader(ofGroup: group) == "b-2")
        #expect(
            c.beat("b-2", generation: 1, ticket: 2, at: 1_100).responses == [heartbeatAnswer(2, .rebalanceInProgress)]
        )
        #expect(
            c.join("c", memberId: "c-3", ticket: 3, at: 1_200)
                == CoordinatorResult(timers: [.schedule(session("c-3"), atMs: 11_200)])
        )
        #expect(
            c.join("b", memberId: "b-2", ticket: 4, at: 1_300)
                == CoordinatorResult(
                    responses: [
                        joined(4, generation: 2, leader: "b-2", member: "b-2", members: ["b-2", "c-3"]),
                        joined(3, generation: 2, leader: "b-2", member: "c-3"),
                    ],
                    timers: [
                        .cancel(rebalanceTimeout),
                        .schedule(session("b-2"), atMs: 11_300),
                        .schedule(session("c-3"), atMs: 11_300),
                        .schedule(syncTimeout, atMs: 31_300),
                    ]
                )
        )
    }

    @Test func aLeaderThatDoesNotRejoinIsReplacedByTheOldestMemberThatDid() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b", "c"], session: 60_000, rebalance: 20_000)
        // c's new preference order starts a rebalance; b rejoins; the leader a does not.
        _ = c.join(
            "c",
            memberId: "c-3",
            protocolNames: ["roundrobin", "range"],
            session: 60_000,
            rebalance: 20_000,
            ticket: 1,
            at: 1_000
        )
        #expect(c.state(ofGroup: group) == .preparingRebalance)
        _ = c.join("b", memberId: "b-2", session: 60_000, rebalance: 20_000, ticket: 2, at: 1_100)
        #expect(
            c.fire(rebalanceTimeout, at: 21_000).responses == [
                joined(2, generation: 2, leader: "b-2", member: "b-2", members: ["b-2", "c-3"]),
                joined(1, generation: 2, leader: "b-2", member: "c-3"),
            ]
        )
    }

    @Test func leaveGroupRefusals() {
        var c = makeCoordinator()
        #expect(
            c.leave("a-1", groupId: "", ticket: 1, at: 0)
                == CoordinatorResult(responses: [leaveAnswer(1, .invalidGroupId)])
        )
        #expect(c.leave("a-1", ticket: 1, at: 0) == CoordinatorResult(responses: [leaveAnswer(1, .unknownMemberId)]))
        stableGroup(&c, clients: ["a"])
        #expect(c.leave("z-9", ticket: 1, at: 500) == CoordinatorResult(responses: [leaveAnswer(1, .unknownMemberId)]))
        #expect(c.state(ofGroup: group) == .stable)
    }

    @Test func theLastMemberLeavingEmptiesTheGroupAndRecordsTheNewGeneration() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a"])
        #expect(
            c.leave("a-1", ticket: 1, at: 500)
                == CoordinatorResult(
                    responses: [leaveAnswer(1, .none)],
                    appends: [
                        CoordinatorAppend(records: [
                            groupRecord(generation: 2, protocolName: nil, leader: nil, members: [], at: 500)
                        ])
                    ],
                    timers: [.cancel(session("a-1"))]
                )
        )
        #expect(c.state(ofGroup: group) == .empty)
        #expect(c.generation(ofGroup: group) == 2)
    }

    @Test func aMemberThatNeverSyncsIsRemovedWhenItsSessionEnds() {
        var c = makeCoordinator()
        _ = c.join("a", ticket: 1, at: 0)
        _ = c.join("b", ticket: 2, at: 0)
        _ = c.fire(initialDelay, at: 100)
        _ = c.fire(initialDelay, at: 200)
        _ = c.sync("a-1", generation: 1, assignments: ["a-1": "p0", "b-2": "p1"], ticket: 3, at: 300)
        #expect(c.state(ofGroup: group) == .stable)
        _ = c.beat("a-1", generation: 1, ticket: 4, at: 9_000)
        #expect(
            c.fire(session("b-2"), at: 10_200)
                == CoordinatorResult(timers: [.cancel(syncTimeout), .schedule(rebalanceTimeout, atMs: 40_200)])
        )
        #expect(c.members(ofGroup: group) == ["a-1"])
        #expect(
            c.beat("a-1", generation: 1, ticket: 5, at: 10_300).responses == [heartbeatAnswer(5, .rebalanceInProgress)]
        )
    }

    @Test func aMemberThatHeartbeatsButNeverSyncsIsRemovedAtTheSyncTimeout() {
        var c = makeCoordinator()
        _ = c.join("a", session: 60_000, rebalance: 20_000, ticket: 1, at: 0)
        _ = c.join("b", session: 60_000, rebalance: 20_000, ticket: 2, at: 0)
        _ = c.fire(initialDelay, at: 100)
        _ = c.fire(initialDelay, at: 200)
        #expect(c.pendingTimers[syncTimeout] == 20_200)
        _ = c.sync("a-1", generation: 1, assignments: ["a-1": "p0", "b-2": "p1"], ticket: 3, at: 300)
        #expect(c.beat("b-2", generation: 1, ticket: 4, at: 5_000).responses == [heartbeatAnswer(4, .none)])
        #expect(
            c.fire(syncTimeout, at: 20_200)
                == CoordinatorResult(timers: [.cancel(session("b-2")), .schedule(rebalanceTimeout, atMs: 40_200)])
        )
        #expect(c.members(ofGroup: group) == ["a-1"])
    }

    @Test func aNewMemberDuringCompletingRebalanceSendsParkedSyncsBackToRejoin() {
        var c = makeCoordinator()
        _ = c.join("a", ticket: 1, at: 0)
        _ = c.join("b", ticket: 2, at: 0)
        _ = c.fire(initialDelay, at: 100)
        _ = c.fire(initialDelay, at: 200)
        _ = c.sync("b-2", generation: 1, ticket: 3, at: 300)
        #expect(
            c.join("c", ticket: 4, at: 400)
                == CoordinatorResult(
                    responses: [syncFailed(3, .rebalanceInProgress)],
                    timers: [
                        .schedule(session("c-3"), atMs: 300_400),
                        .cancel(syncTimeout),
                        .schedule(rebalanceTimeout, atMs: 30_400),
                    ]
                )
        )
        // The leader's late sync is for a generation that is being replaced.
        #expect(c.sync("a-1", generation: 1, ticket: 5, at: 500).responses == [syncFailed(5, .rebalanceInProgress)])
    }

    @Test func rejoinsThatChangeNothingGetTheCurrentGeneration() {
        var c = makeCoordinator()
        _ = c.join("a", ticket: 1, at: 0)
        _ = c.join("b", ticket: 2, at: 0)
        _ = c.fire(initialDelay, at: 100)
        _ = c.fire(initialDelay, at: 200)
        // CompletingRebalance: the leader asks again and gets the member list again.
        #expect(
            c.join("a", memberId: "a-1", ticket: 3, at: 300)
                == CoordinatorResult(
                    responses: [joined(3, generation: 1, leader: "a-1", member: "a-1", members: ["a-1", "b-2"])],
                    timers: [.schedule(session("a-1"), atMs: 10_300)]
                )
        )
        _ = c.sync("a-1", generation: 1, assignments: ["a-1": "p0", "b-2": "p1"], ticket: 4, at: 400)
        // Stable: an unchanged follower too.
        #expect(
            c.join("b", memberId: "b-2", ticket: 5, at: 500)
                == CoordinatorResult(
                    responses: [joined(5, generation: 1, leader: "a-1", member: "b-2")],
                    timers: [.schedule(session("b-2"), atMs: 10_500)]
                )
        )
        #expect(c.state(ofGroup: group) == .stable)
    }

    @Test func rejoinsThatForceARebalance() {
        // A follower with new metadata.
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"])
        #expect(c.join("b", memberId: "b-2", protocolNames: ["roundrobin"], ticket: 1, at: 500).responses == [])
        #expect(c.state(ofGroup: group) == .preparingRebalance)
        // The leader, even unchanged.
        c = makeCoordinator()
        stableGroup(&c, clients: ["a", "b"])
        #expect(c.join("a", memberId: "a-1", ticket: 1, at: 500).responses == [])
        #expect(c.state(ofGroup: group) == .preparingRebalance)
        // A single member group's leader rejoining completes the next round at once.
        c = makeCoordinator()
        stableGroup(&c, clients: ["a"])
        #expect(
            c.join("a", memberId: "a-1", ticket: 1, at: 500).responses
                == [joined(1, generation: 2, leader: "a-1", member: "a-1", members: ["a-1"])]
        )
        #expect(c.state(ofGroup: group) == .completingRebalance)
    }

    @Test(arguments: [
        // (each member's protocols in preference order, expected choice)
        ([["range", "roundrobin"], ["roundrobin", "range"], ["range", "roundrobin"]], "range"),
        ([["range", "roundrobin"], ["roundrobin", "range"], ["roundrobin"]], "roundrobin"),
        // A tie goes to the oldest member's preference.
        ([["roundrobin", "range"], ["range", "roundrobin"]], "roundrobin"),
        ([["sticky", "range", "roundrobin"], ["roundrobin", "range"], ["range", "sticky", "roundrobin"]], "range"),
    ])
    func protocolIsChosenByVoteAmongCommonProtocols(preferences: [[String]], expected: String) {
        var c = makeCoordinator()
        for (index, names) in preferences.enumerated() {
            _ = c.join("m\(index)", protocolNames: names, ticket: UInt64(index), at: 0)
        }
        var result = c.fire(initialDelay, at: delayMs)
        if result.responses.isEmpty { result = c.fire(initialDelay, at: 2 * delayMs) }
        let chosen = result.responses.map { response -> String in
            guard case .joinGroup(let join) = response.response else { return "not a join" }
            return join.protocolName ?? "nil"
        }
        #expect(chosen == Array(repeating: expected, count: preferences.count))
    }

    @Test func staleAndUnknownTimersDoNothing() {
        var c = makeCoordinator()
        stableGroup(&c, clients: ["a"])
        _ = c.beat("a-1", generation: 1, ticket: 1, at: 5_000)
        #expect(c.fire(session("a-1"), at: 10_100) == .none)
        #expect(c.fire(rebalanceTimeout, at: 99_999) == .none)
        #expect(c.fire(.session(groupId: "other", memberId: "x"), at: 99_999) == .none)
        #expect(c.state(ofGroup: group) == .stable)
    }

    @Test func memberIdsAreClientIdDashUUIDByDefault() {
        var c = GroupCoordinator(configuration: GroupCoordinatorConfiguration(initialRebalanceDelayMs: 0))
        _ = c.join("client", ticket: 1, at: 0)
        let id = c.members(ofGroup: group)[0]
        #expect(id.hasPrefix("client-"))
        let uuid = id.dropFirst("client-".count)
        #expect(uuid.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
        #expect(uuid.allSatisfy { $0.isHexDigit || $0 == "-" })
    }
}
