import NIOCore
import TernWire
import Testing

@testable import TernClient

/// The group protocol's client side, event by event: each line feeds the state machine what the
/// coordinator (or the network) did and checks what it asks for next.
@Suite struct GroupMembershipStateMachineTests {
    typealias Machine = GroupMembershipStateMachine

    static var configuration: GroupMembershipConfiguration {
        var configuration = GroupMembershipConfiguration(groupId: "g", topics: ["t"], assignors: [.range, .sticky])
        configuration.heartbeatInterval = .seconds(3)
        configuration.retryBackoff = .milliseconds(100)
        return configuration
    }

    static func assignmentBytes(_ partitions: [TopicPartition]) -> ByteBuffer {
        PartitionAssignor.assignment(of: partitions).encode(version: 0)
    }

    func joinRequest(_ action: Machine.Action) -> JoinGroupRequest? {
        if case .sendJoinGroup(let request) = action { return request }
        return nil
    }

    /// Drives a fresh member through a follower's join to a stable generation 1 owning `partitions`.
    func stableFollower(_ partitions: [TopicPartition] = [tp("t", 0), tp("t", 1)]) -> Machine {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        _ = machine.joinGroupResponse(
            JoinGroupResponse(generationId: 1, protocolName: "range", leader: "leader", memberId: "m1")
        )
        _ = machine.syncGroupResponse(SyncGroupResponse(assignment: Self.assignmentBytes(partitions)))
        _ = machine.notified()
        return machine
    }

    @Test func followerJoinsSyncsAndHeartbeats() throws {
        var machine = Machine(configuration: Self.configuration)
        #expect(machine.start() == .findCoordinator(invalidate: false))

        let join = try #require(self.joinRequest(machine.coordinatorFound()))
        #expect(join.groupId == "g")
        #expect(join.memberId == "")
        #expect(join.protocolType == "consumer")
        #expect(join.sessionTimeoutMs == 45_000)
        #expect(join.rebalanceTimeoutMs == 60_000)
        #expect(join.protocols.map(\.name) == ["range", "sticky"])
        let subscription = try ConsumerProtocolSubscription.decode(from: join.protocols[0].metadata)
        #expect(subscription.topics == ["t"])
        #expect(subscription.userData == nil)

        #expect(
            machine.joinGroupResponse(
                JoinGroupResponse(generationId: 1, protocolName: "range", leader: "leader", memberId: "m1")
            ) == .sendSyncGroup(SyncGroupRequest(groupId: "g", generationId: 1, memberId: "m1"))
        )
        #expect(
            machine.syncGroupResponse(SyncGroupResponse(assignment: Self.assignmentBytes([tp("t", 0), tp("t", 1)])))
                == .notify(.assigned([tp("t", 0), tp("t", 1)], generation: 1))
        )
        #expect(machine.commitIdentity?.memberId == "m1")
        #expect(machine.commitIdentity?.generation == 1)
        #expect(machine.notified() == .waitForHeartbeat(.seconds(3)))
        #expect(
            machine.heartbeatDue() == .sendHeartbeat(HeartbeatRequest(groupId: "g", generationId: 1, memberId: "m1"))
        )
        #expect(machine.heartbeatResponse(.none) == .waitForHeartbeat(.seconds(3)))
    }

    @Test func leaderRunsTheChosenAssignorAndSyncsEveryMember() throws {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        let subscription = ConsumerProtocolSubscription(topics: ["t"]).encode(version: 3)
        let action = machine.joinGroupResponse(
            JoinGroupResponse(
                generationId: 4,
                protocolName: "sticky",
                leader: "m1",
                memberId: "m1",
                members: [
                    .init(memberId: "m1", metadata: subscription), .init(memberId: "m2", metadata: subscription),
                    .init(memberId: "bad", metadata: ByteBuffer(bytes: [0xff])),
                ]
            )
        )
        guard case .assign(let assignor, let members) = action else {
            Issue.record("expected .assign, got \(action)")
            return
        }
        #expect(assignor == .sticky)
        #expect(members.map(\.memberId) == ["m1", "m2", "bad"])
        #expect(members.map(\.subscription.topics) == [["t"], ["t"], []])

        let assignment = assignor.assign(members: members, partitionCounts: ["t": 4])
        let sync = machine.assignmentComputed(assignment, topics: ["t"], partitionCounts: ["t": 4])
        guard case .sendSyncGroup(let request) = sync else {
            Issue.record("expected .sendSyncGroup, got \(sync)")
            return
        }
        #expect(request.generationId == 4)
        #expect(request.memberId == "m1")
        #expect(request.assignments.map(\.memberId) == ["bad", "m1", "m2"])
        let decoded = try request.assignments.map {
            try ConsumerProtocolAssignment.decode(from: $0.assignment).topicPartitions
        }
        #expect(decoded[0] == [])
        #expect(Set(decoded[1] + decoded[2]) == Set((0..<4).map { tp("t", $0) }))
    }

    @Test func memberIdRequiredRejoinsWithTheGivenId() throws {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        let action = machine.joinGroupResponse(JoinGroupResponse(errorCode: .memberIdRequired, memberId: "given-id"))
        #expect(try #require(self.joinRequest(action)).memberId == "given-id")
    }

    @Test func unknownMemberIdOnJoinRejoinsAsANewMember() throws {
        var machine = self.stableFollower()
        _ = machine.heartbeatResponse(.rebalanceInProgress)
        _ = machine.notified()
        let action = machine.joinGroupResponse(JoinGroupResponse(errorCode: .unknownMemberId))
        #expect(try #require(self.joinRequest(action)).memberId == "")
    }

    /// REBALANCE_IN_PROGRESS: revoke everything (commits still allowed), then rejoin as the same member.
    @Test func rebalanceRevokesThenRejoinsWithTheSameId() throws {
        var machine = self.stableFollower()
        #expect(machine.heartbeatResponse(.rebalanceInProgress) == .notify(.revoked([tp("t", 0), tp("t", 1)])))
        #expect(machine.assignment == [])
        #expect(machine.commitIdentity?.generation == 1)
        let join = try #require(self.joinRequest(machine.notified()))
        #expect(join.memberId == "m1")
        #expect(machine.commitIdentity == nil)
    }

    @Test(arguments: [KafkaErrorCode.illegalGeneration, .unknownMemberId])
    func fencedMemberRevokesThenRejoinsFromScratch(code: KafkaErrorCode) throws {
        var machine = self.stableFollower()
        #expect(machine.heartbeatResponse(code) == .notify(.revoked([tp("t", 0), tp("t", 1)])))
        #expect(try #require(self.joinRequest(machine.notified())).memberId == "")
    }

    @Test func syncRebalanceInProgressRejoins() throws {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        _ = machine.joinGroupResponse(
            JoinGroupResponse(generationId: 1, protocolName: "range", leader: "x", memberId: "m1")
        )
        let action = machine.syncGroupResponse(SyncGroupResponse(errorCode: .rebalanceInProgress))
        #expect(try #require(self.joinRequest(action)).memberId == "m1")
    }

    @Test(arguments: [KafkaErrorCode.notCoordinator, .coordinatorNotAvailable])
    func movedCoordinatorIsFoundAgainAndHeartbeatsGoOn(code: KafkaErrorCode) {
        var machine = self.stableFollower()
        #expect(machine.heartbeatResponse(code) == .findCoordinator(invalidate: true))
        #expect(
            machine.coordinatorFound()
                == .sendHeartbeat(HeartbeatRequest(groupId: "g", generationId: 1, memberId: "m1"))
        )
        #expect(machine.assignment == [tp("t", 0), tp("t", 1)])
    }

    @Test func brokenConnectionDuringJoinRetriesTheJoin() throws {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        #expect(machine.requestFailed(TernClientError(.connectionClosed, "gone")) == .retry(after: .milliseconds(100)))
        #expect(machine.retryDue() == .findCoordinator(invalidate: true))
        #expect(self.joinRequest(machine.coordinatorFound()) != nil)
    }

    @Test func brokenConnectionWhileStableKeepsTheAssignment() {
        var machine = self.stableFollower()
        #expect(machine.requestFailed(TernClientError(.timeout, "slow")) == .retry(after: .milliseconds(100)))
        #expect(machine.retryDue() == .findCoordinator(invalidate: true))
        #expect(
            machine.coordinatorFound()
                == .sendHeartbeat(HeartbeatRequest(groupId: "g", generationId: 1, memberId: "m1"))
        )
    }

    @Test func coordinatorLoadingRetriesTheJoin() {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        #expect(
            machine.joinGroupResponse(JoinGroupResponse(errorCode: .coordinatorLoadInProgress))
                == .retry(after: .milliseconds(100))
        )
        #expect(machine.retryDue() == .findCoordinator(invalidate: true))
    }

    @Test func closeRevokesLeavesAndStops() {
        var machine = self.stableFollower()
        machine.close()
        #expect(machine.heartbeatDue() == .notify(.revoked([tp("t", 0), tp("t", 1)])))
        #expect(machine.notified() == .sendLeaveGroup(LeaveGroupRequest(groupId: "g", memberId: "m1")))
        #expect(machine.left() == .stop)
        #expect(machine.state == .stopped)
    }

    @Test func closeBeforeJoiningJustStops() {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        machine.close()
        #expect(machine.coordinatorFound() == .stop)
    }

    @Test func closeWhileJoiningLeavesOnceTheJoinAnswers() {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        machine.close()
        #expect(
            machine.joinGroupResponse(
                JoinGroupResponse(generationId: 2, protocolName: "range", leader: "x", memberId: "m9")
            )
                == .sendLeaveGroup(LeaveGroupRequest(groupId: "g", memberId: "m9"))
        )
    }

    @Test(arguments: [KafkaErrorCode.inconsistentGroupProtocol, .invalidSessionTimeout, .groupAuthorizationFailed])
    func refusedJoinFails(code: KafkaErrorCode) {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        let action = machine.joinGroupResponse(JoinGroupResponse(errorCode: code))
        guard case .notify(.failed(let error)) = action else {
            Issue.record("expected a failure, got \(action)")
            return
        }
        #expect(error.kafkaErrorCode == code)
        #expect(machine.notified() == .stop)
    }

    @Test func assignorNotOfferedFails() {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        let action = machine.joinGroupResponse(
            JoinGroupResponse(generationId: 1, protocolName: "roundrobin", leader: "m1", memberId: "m1")
        )
        guard case .notify(.failed) = action else {
            Issue.record("expected a failure, got \(action)")
            return
        }
    }

    @Test func rejectedCommitMakesTheMemberRejoin() throws {
        var machine = self.stableFollower()
        machine.commitRejected(.illegalGeneration)
        #expect(machine.heartbeatDue() == .notify(.revoked([tp("t", 0), tp("t", 1)])))
        #expect(try #require(self.joinRequest(machine.notified())).memberId == "")
    }

    /// The sticky protocol's metadata carries the last assignment and its generation.
    @Test func rejoinReportsThePreviousAssignmentToTheStickyAssignor() throws {
        var machine = self.stableFollower([tp("t", 1), tp("t", 3)])
        _ = machine.heartbeatResponse(.rebalanceInProgress)
        let join = try #require(self.joinRequest(machine.notified()))
        let sticky = try #require(join.protocols.first { $0.name == "sticky" })
        let subscription = try ConsumerProtocolSubscription.decode(from: sticky.metadata)
        #expect(subscription.generationId == 1)
        let userData = try #require(subscription.userData)
        #expect(
            StickyAssignorUserData.decode(userData)
                == StickyAssignorUserData(partitions: [tp("t", 1), tp("t", 3)], generation: 1)
        )
        let range = try ConsumerProtocolSubscription.decode(from: join.protocols[0].metadata)
        #expect(range.userData == nil)
    }

    @Test func emptyAssignmentIsStillReported() {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        _ = machine.joinGroupResponse(
            JoinGroupResponse(generationId: 3, protocolName: "range", leader: "x", memberId: "m1")
        )
        #expect(machine.syncGroupResponse(SyncGroupResponse()) == .notify(.assigned([], generation: 3)))
    }

    /// Leads generation 2 of a one-member group over topics t (4 partitions) and later (absent).
    func stableLeader() -> Machine {
        var configuration = Self.configuration
        configuration.heartbeatInterval = .seconds(1)
        configuration.metadataCheckInterval = .seconds(3)
        var machine = Machine(configuration: configuration)
        _ = machine.start()
        _ = machine.coordinatorFound()
        _ = machine.joinGroupResponse(
            JoinGroupResponse(
                generationId: 2,
                protocolName: "range",
                leader: "m1",
                memberId: "m1",
                members: [
                    .init(
                        memberId: "m1",
                        metadata: ConsumerProtocolSubscription(topics: ["later", "t"]).encode(version: 3)
                    )
                ]
            )
        )
        let partitions = (0..<4).map { tp("t", $0) }
        _ = machine.assignmentComputed(["m1": partitions], topics: ["later", "t"], partitionCounts: ["t": 4])
        _ = machine.syncGroupResponse(SyncGroupResponse(assignment: Self.assignmentBytes(partitions)))
        _ = machine.notified()
        return machine
    }

    /// Every metadataCheckInterval / heartbeatInterval heartbeats the leader re-reads the counts.
    @Test func leaderChecksMetadataEveryFewHeartbeats() {
        var machine = self.stableLeader()
        let heartbeat = HeartbeatRequest(groupId: "g", generationId: 2, memberId: "m1")
        #expect(machine.heartbeatDue() == .sendHeartbeat(heartbeat))
        #expect(machine.heartbeatDue() == .sendHeartbeat(heartbeat))
        #expect(machine.heartbeatDue() == .checkMetadata(topics: ["later", "t"]))
        #expect(machine.metadataChecked(["t": 4]) == .sendHeartbeat(heartbeat))
        // A failed metadata fetch changes nothing.
        _ = machine.heartbeatDue()
        _ = machine.heartbeatDue()
        #expect(machine.heartbeatDue() == .checkMetadata(topics: ["later", "t"]))
        #expect(machine.metadataChecked(nil) == .sendHeartbeat(heartbeat))
    }

    /// A subscribed topic appeared: the leader revokes and rejoins (same member id) to rebalance.
    @Test func leaderRebalancesWhenPartitionCountsChange() throws {
        var machine = self.stableLeader()
        _ = machine.heartbeatDue()
        _ = machine.heartbeatDue()
        _ = machine.heartbeatDue()
        #expect(machine.metadataChecked(["t": 4, "later": 2]) == .notify(.revoked((0..<4).map { tp("t", $0) })))
        #expect(try #require(self.joinRequest(machine.notified())).memberId == "m1")
    }

    @Test func followersDoNotCheckMetadata() {
        var machine = self.stableFollower()
        for _ in 0..<500 {
            #expect(
                machine.heartbeatDue()
                    == .sendHeartbeat(HeartbeatRequest(groupId: "g", generationId: 1, memberId: "m1"))
            )
        }
    }
}
