import NIOCore
import TernWire

/// What a group member tells its owner.
enum GroupEvent: Sendable, Hashable {
    /// The partitions this member owns from now on, in the given generation (possibly none). Sent
    /// after every completed rebalance.
    case assigned([TopicPartition], generation: Int32)
    /// The member gives these partitions up (eager protocol: all of them, before every rejoin and on
    /// leave). The owner commits what it wants committed before it returns.
    case revoked([TopicPartition])
    /// The membership stopped for good: the coordinator refused the member (bad session timeout,
    /// no common assignor, not authorized…).
    case failed(TernClientError)
}

/// The settings of a group membership; the consumer fills them from its configuration.
struct GroupMembershipConfiguration: Sendable {
    var groupId: String
    var topics: [String]
    /// In preference order; the coordinator picks the first every member offers.
    var assignors: [PartitionAssignor]
    var sessionTimeout: Duration = .seconds(45)
    var rebalanceTimeout: Duration = .seconds(60)
    var heartbeatInterval: Duration = .seconds(3)
    /// Wait before retrying after a retriable error (coordinator loading or unreachable).
    var retryBackoff: Duration = .milliseconds(100)
    /// How often the leader re-reads the partition counts of the group's topics; when they changed
    /// (partitions added, a subscribed topic created or deleted) it makes the group rebalance, as
    /// the Java leader does when its metadata (`metadata.max.age.ms`) changes.
    var metadataCheckInterval: Duration = .seconds(300)

    init(groupId: String, topics: [String], assignors: [PartitionAssignor]) {
        self.groupId = groupId
        self.topics = topics
        self.assignors = assignors
    }
}

/// The client side of the classic consumer-group protocol as a pure state machine: responses,
/// failures and timer expiries in, one action out. The driver (`GroupMembership`) performs the
/// action and reports its outcome with the matching event method; it never decides anything.
///
///     start → findCoordinator → JoinGroup ─(leader)→ assign → SyncGroup → notify(assigned)
///                                  └──────(follower)─────────↗            → heartbeat loop
///
/// Heartbeat answers REBALANCE_IN_PROGRESS → revoke, rejoin with the same member id;
/// ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID → revoke, rejoin as a new member; NOT_COORDINATOR /
/// COORDINATOR_NOT_AVAILABLE or a broken connection → find the coordinator again and carry on
/// where the member was. Close → revoke, LeaveGroup, stop.
struct GroupMembershipStateMachine {
    enum Action: Equatable {
        /// Look the coordinator up (after forgetting the old one when `invalidate`), then call
        /// `coordinatorFound()` or `requestFailed(_:)`.
        case findCoordinator(invalidate: Bool)
        /// Send it (its timeout must cover the rebalance timeout), then `joinGroupResponse(_:)`.
        case sendJoinGroup(JoinGroupRequest)
        /// Leader: fetch partition counts for these members' topics, run the assignor, then
        /// `assignmentComputed(_:partitionCounts:)` (or `requestFailed(_:)`).
        case assign(PartitionAssignor, members: [AssignorMember])
        /// Leader, while stable: fetch these topics' partition counts, then `metadataChecked(_:)`
        /// (nil when the fetch failed).
        case checkMetadata(topics: [String])
        case sendSyncGroup(SyncGroupRequest)
        case sendHeartbeat(HeartbeatRequest)
        /// Wait (ending early when woken), then `heartbeatDue()`.
        case waitForHeartbeat(Duration)
        /// Wait (ending early when woken), then `retryDue()`.
        case retry(after: Duration)
        /// Hand the event to the owner and wait for it, then `notified()`.
        case notify(GroupEvent)
        case sendLeaveGroup(LeaveGroupRequest)
        /// Done: closed, or failed (a `.failed` event was sent first).
        case stop
    }

    /// Where the member is in the protocol.
    enum State: Equatable {
        case idle
        /// Finding the coordinator; afterwards join (or, when already in the group, heartbeat).
        case findingCoordinator(resume: Resume)
        case joining
        case assigning(generation: Int32, protocolName: String)
        case syncing(generation: Int32)
        case stable(generation: Int32)
        case leaving
        case stopped
    }

    enum Resume: Equatable {
        case join
        case heartbeat
    }

    let configuration: GroupMembershipConfiguration
    private(set) var state: State = .idle
    /// Empty until the coordinator assigns one.
    private(set) var memberId = ""
    /// The partitions the member owns now (empty between revoke and the next assignment).
    private(set) var assignment: [TopicPartition] = []
    /// The last assignment received and its generation: what the sticky assignor reports.
    private(set) var previousAssignment: (partitions: [TopicPartition], generation: Int32) = ([], -1)
    /// Member id and generation for OffsetCommit: from a completed SyncGroup until the next
    /// JoinGroup is sent (so the owner can still commit while partitions are being revoked).
    private(set) var commitIdentity: (memberId: String, generation: Int32)?
    private var closeRequested = false
    /// A rejoin was asked for (by an OffsetCommit answer); true when it must be as a new member.
    private var rejoinRequested: Bool?
    /// What `notified()` continues with.
    private var afterNotify: Action?
    /// Leader of the current generation: the partition counts its assignment was computed from.
    private var leaderCounts: (topics: [String], counts: [String: Int32])?
    private var heartbeatsSinceMetadataCheck = 0

    init(configuration: GroupMembershipConfiguration) {
        self.configuration = configuration
    }

    // MARK: Events

    mutating func start() -> Action {
        precondition(self.state == .idle, "a group membership starts once")
        self.state = .findingCoordinator(resume: .join)
        return .findCoordinator(invalidate: false)
    }

    mutating func coordinatorFound() -> Action {
        if let leave = self.leaveIfClosing() { return leave }
        guard case .findingCoordinator(let resume) = self.state else { return self.unexpected("coordinatorFound") }
        switch resume {
        case .join:
            return self.join()
        case .heartbeat:
            if self.rejoinRequested != nil { return self.revokeAndRejoin() }
            guard let identity = self.commitIdentity else { return self.join() }
            self.state = .stable(generation: identity.generation)
            return .sendHeartbeat(self.heartbeat(generation: identity.generation))
        }
    }

    mutating func joinGroupResponse(_ response: JoinGroupResponse) -> Action {
        guard self.state == .joining else { return self.unexpected("JoinGroup response") }
        switch response.errorCode {
        case .none:
            self.memberId = response.memberId
            if self.closeRequested {
                // A member now, so it must leave (the others' rebalance goes on without it).
                return self.leaveIfClosing()!
            }
            // Null only in v7+ answers.
            let protocolName = response.protocolName ?? ""
            guard let assignor = PartitionAssignor(name: protocolName),
                self.configuration.assignors.contains(assignor)
            else {
                return self.fail(
                    .kafka(.inconsistentGroupProtocol, "coordinator chose assignor \"\(protocolName)\"")
                )
            }
            if response.leader == response.memberId {
                self.state = .assigning(generation: response.generationId, protocolName: protocolName)
                let members = response.members.map { member in
                    // A subscription that does not parse counts as subscribed to nothing, rather
                    // than failing the whole group's rebalance.
                    AssignorMember(
                        memberId: member.memberId,
                        subscription: (try? ConsumerProtocolSubscription.decode(from: member.metadata))
                            ?? ConsumerProtocolSubscription(topics: [])
                    )
                }
                return .assign(assignor, members: members)
            }
            self.state = .syncing(generation: response.generationId)
            return .sendSyncGroup(
                SyncGroupRequest(
                    groupId: self.configuration.groupId,
                    generationId: response.generationId,
                    memberId: response.memberId
                )
            )
        case .memberIdRequired:
            // JoinGroup v4+: the coordinator hands out the id and wants it back in a second join.
            self.memberId = response.memberId
            return self.join()
        case .unknownMemberId:
            self.resetMember()
            return self.join()
        case .notCoordinator, .coordinatorNotAvailable:
            self.state = .findingCoordinator(resume: .join)
            return .findCoordinator(invalidate: true)
        case .coordinatorLoadInProgress, .rebalanceInProgress, .requestTimedOut:
            self.state = .findingCoordinator(resume: .join)
            return .retry(after: self.configuration.retryBackoff)
        default:
            return self.fail(.kafka(response.errorCode, "JoinGroup for group \"\(self.configuration.groupId)\""))
        }
    }

    /// The leader's assignment (member id → partitions), computed from `partitionCounts` of the
    /// members' `topics`.
    mutating func assignmentComputed(
        _ assignment: [String: [TopicPartition]],
        topics: [String],
        partitionCounts: [String: Int32]
    ) -> Action {
        if let leave = self.leaveIfClosing() { return leave }
        guard case .assigning(let generation, _) = self.state else { return self.unexpected("assignment") }
        self.state = .syncing(generation: generation)
        self.leaderCounts = (topics, partitionCounts)
        self.heartbeatsSinceMetadataCheck = 0
        let assignments = assignment.keys.sorted().map { memberId in
            SyncGroupRequest.SyncGroupRequestAssignment(
                memberId: memberId,
                assignment: PartitionAssignor.assignment(of: assignment[memberId]!).encode(version: 3)
            )
        }
        return .sendSyncGroup(
            SyncGroupRequest(
                groupId: self.configuration.groupId,
                generationId: generation,
                memberId: self.memberId,
                assignments: assignments
            )
        )
    }

    mutating func syncGroupResponse(_ response: SyncGroupResponse) -> Action {
        guard case .syncing(let generation) = self.state else { return self.unexpected("SyncGroup response") }
        switch response.errorCode {
        case .none:
            let partitions: [TopicPartition]
            if response.assignment.readableBytes == 0 {
                partitions = []
            } else if let decoded = try? ConsumerProtocolAssignment.decode(from: response.assignment) {
                partitions = decoded.topicPartitions
            } else {
                return self.fail(
                    TernClientError(
                        .protocolError,
                        "SyncGroup assignment for group \"\(self.configuration.groupId)\" does not parse"
                    )
                )
            }
            self.state = .stable(generation: generation)
            self.assignment = partitions
            self.previousAssignment = (partitions, generation)
            self.commitIdentity = (self.memberId, generation)
            self.afterNotify = .waitForHeartbeat(self.configuration.heartbeatInterval)
            return .notify(.assigned(partitions, generation: generation))
        case .rebalanceInProgress:
            return self.join()
        case .unknownMemberId, .illegalGeneration:
            self.resetMember()
            return self.join()
        case .notCoordinator, .coordinatorNotAvailable:
            self.state = .findingCoordinator(resume: .join)
            return .findCoordinator(invalidate: true)
        case .groupAuthorizationFailed:
            return self.fail(.kafka(response.errorCode, "SyncGroup for group \"\(self.configuration.groupId)\""))
        default:
            self.state = .findingCoordinator(resume: .join)
            return .retry(after: self.configuration.retryBackoff)
        }
    }

    /// The owner has handled the event.
    mutating func notified() -> Action {
        let next = self.afterNotify ?? .stop
        self.afterNotify = nil
        if case .sendLeaveGroup = next { return next }
        if next == .stop { return next }
        if let leave = self.leaveIfClosing() { return leave }
        if case .sendJoinGroup = next { self.commitIdentity = nil }
        return next
    }

    mutating func heartbeatDue() -> Action {
        if let leave = self.leaveIfClosing() { return leave }
        guard case .stable(let generation) = self.state else { return self.unexpected("heartbeat timer") }
        if self.rejoinRequested != nil { return self.revokeAndRejoin() }
        if let leaderCounts = self.leaderCounts {
            self.heartbeatsSinceMetadataCheck += 1
            let every = max(1, Int(self.configuration.metadataCheckInterval / self.configuration.heartbeatInterval))
            if self.heartbeatsSinceMetadataCheck >= every {
                self.heartbeatsSinceMetadataCheck = 0
                return .checkMetadata(topics: leaderCounts.topics)
            }
        }
        return .sendHeartbeat(self.heartbeat(generation: generation))
    }

    /// The leader's periodic metadata check: rebalance when the partition counts changed.
    mutating func metadataChecked(_ counts: [String: Int32]?) -> Action {
        if let leave = self.leaveIfClosing() { return leave }
        guard case .stable(let generation) = self.state else { return self.unexpected("metadata check") }
        if let counts, let leaderCounts = self.leaderCounts, counts != leaderCounts.counts {
            self.rejoinRequested = self.rejoinRequested ?? false
            return self.revokeAndRejoin()
        }
        return .sendHeartbeat(self.heartbeat(generation: generation))
    }

    mutating func heartbeatResponse(_ code: KafkaErrorCode) -> Action {
        if let leave = self.leaveIfClosing() { return leave }
        guard case .stable = self.state else { return self.unexpected("Heartbeat response") }
        switch code {
        case .none:
            if self.rejoinRequested != nil { return self.revokeAndRejoin() }
            return .waitForHeartbeat(self.configuration.heartbeatInterval)
        case .rebalanceInProgress:
            self.rejoinRequested = false
            return self.revokeAndRejoin()
        case .illegalGeneration, .unknownMemberId:
            self.rejoinRequested = true
            return self.revokeAndRejoin()
        case .notCoordinator, .coordinatorNotAvailable:
            self.state = .findingCoordinator(resume: .heartbeat)
            return .findCoordinator(invalidate: true)
        case .groupAuthorizationFailed:
            return self.fail(.kafka(code, "Heartbeat for group \"\(self.configuration.groupId)\""))
        default:
            return .waitForHeartbeat(self.configuration.retryBackoff)
        }
    }

    /// A request (or the coordinator lookup, or the leader's metadata fetch) failed without a
    /// Kafka error in its answer: the connection broke, timed out, or no broker answered.
    mutating func requestFailed(_ error: TernClientError) -> Action {
        switch self.state {
        case .leaving:
            return self.left()
        case .stopped, .idle:
            return .stop
        default:
            break
        }
        if let leave = self.leaveIfClosing() { return leave }
        if !error.isRetriable, case .findingCoordinator = self.state {
            return self.fail(error)
        }
        // In the group and owning partitions: find the coordinator again and keep heartbeating.
        // Anywhere in a rebalance: start the join over (with the same member id).
        if case .stable = self.state {
            self.state = .findingCoordinator(resume: .heartbeat)
        } else if case .findingCoordinator = self.state {
            // Keep what to resume.
        } else {
            self.state = .findingCoordinator(resume: .join)
        }
        return .retry(after: self.configuration.retryBackoff)
    }

    /// The backoff of `.retry` has passed.
    mutating func retryDue() -> Action {
        if let leave = self.leaveIfClosing() { return leave }
        if case .stable = self.state { return self.heartbeatDue() }
        return .findCoordinator(invalidate: true)
    }

    /// An OffsetCommit answered ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID or REBALANCE_IN_PROGRESS:
    /// the member is out of date and must rejoin (the driver wakes the heartbeat wait).
    mutating func commitRejected(_ code: KafkaErrorCode) {
        guard case .stable = self.state else { return }
        let reset = code != .rebalanceInProgress
        self.rejoinRequested = reset || (self.rejoinRequested ?? false)
    }

    /// The owner closes the member: revoke, leave the group, stop. Takes effect at the next event
    /// (the driver wakes any wait).
    mutating func close() {
        self.closeRequested = true
    }

    /// The LeaveGroup answer came (whatever it says: the member is gone either way).
    mutating func left() -> Action {
        self.state = .stopped
        self.commitIdentity = nil
        return .stop
    }

    // MARK: Helpers

    private mutating func join() -> Action {
        self.state = .joining
        self.commitIdentity = nil
        self.rejoinRequested = nil
        self.leaderCounts = nil
        let previous = self.previousAssignment
        let protocols = self.configuration.assignors.map { assignor in
            JoinGroupRequest.JoinGroupRequestProtocol(
                name: assignor.name,
                metadata: assignor.subscription(
                    topics: self.configuration.topics,
                    currentAssignment: previous.partitions,
                    generation: previous.generation
                ).encode(version: 3)
            )
        }
        return .sendJoinGroup(
            JoinGroupRequest(
                groupId: self.configuration.groupId,
                sessionTimeoutMs: self.configuration.sessionTimeout.wholeMilliseconds,
                rebalanceTimeoutMs: self.configuration.rebalanceTimeout.wholeMilliseconds,
                memberId: self.memberId,
                protocolType: "consumer",
                protocols: protocols
            )
        )
    }

    /// Eager protocol: give up every partition, then join again.
    private mutating func revokeAndRejoin() -> Action {
        if self.rejoinRequested == true { self.resetMember() }
        self.rejoinRequested = nil
        let revoked = self.assignment
        self.assignment = []
        let identity = self.commitIdentity
        let join = self.join()
        if revoked.isEmpty { return join }
        // Commits made while the owner handles the revocation still use the old generation;
        // `notified()` drops it when the JoinGroup goes out.
        self.commitIdentity = identity
        self.afterNotify = join
        return .notify(.revoked(revoked))
    }

    private mutating func resetMember() {
        self.memberId = ""
        self.commitIdentity = nil
    }

    /// When closing: revoke what is owned, then LeaveGroup if the coordinator knows the member.
    private mutating func leaveIfClosing() -> Action? {
        guard self.closeRequested, self.state != .leaving, self.state != .stopped else { return nil }
        let leave: Action
        if self.memberId.isEmpty {
            self.state = .stopped
            leave = .stop
        } else {
            self.state = .leaving
            leave = .sendLeaveGroup(LeaveGroupRequest(groupId: self.configuration.groupId, memberId: self.memberId))
        }
        let revoked = self.assignment
        self.assignment = []
        if revoked.isEmpty { return leave }
        self.afterNotify = leave
        return .notify(.revoked(revoked))
    }

    private mutating func fail(_ error: TernClientError) -> Action {
        self.state = .stopped
        self.commitIdentity = nil
        self.assignment = []
        self.afterNotify = .stop
        return .notify(.failed(error))
    }

    private mutating func unexpected(_ event: String) -> Action {
        assertionFailure("group membership: \(event) in state \(self.state)")
        return self.fail(TernClientError(.protocolError, "group membership: \(event) in state \(self.state)"))
    }

    private func heartbeat(generation: Int32) -> HeartbeatRequest {
        HeartbeatRequest(groupId: self.configuration.groupId, generationId: generation, memberId: self.memberId)
    }

}
