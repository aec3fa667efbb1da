import NIOCore
import TernWire

/// The state of a classic consumer group (Kafka's `ClassicGroupState`).
///
/// ```
/// Empty ──first join──▶ PreparingRebalance ──all known members joined / timer──▶ CompletingRebalance
///   ▲                     │   ▲                                                    │ leader's SyncGroup
///   └──everyone left──────┘   └──── member failed, left, joined or changed ◀──── Stable ◀─┘
/// Empty ──deleted──▶ Dead
/// ```
public enum GroupState: String, Hashable, Sendable, CaseIterable {
    /// No members. The group may still hold committed offsets (and, after a replay or once every
    /// member has gone, its last generation and protocol type).
    case empty = "Empty"
    /// Collecting JoinGroups: parked until every known member has rejoined or the rebalance
    /// timeout (or, for a group that was empty, the initial rebalance delay) ends.
    case preparingRebalance = "PreparingRebalance"
    /// Join responses sent; waiting for the leader's SyncGroup with the assignment.
    case completingRebalance = "CompletingRebalance"
    /// Assignment distributed; members heartbeat.
    case stable = "Stable"
    /// Being removed; it accepts nothing and is dropped from the coordinator.
    case dead = "Dead"
}

/// How the join phase of PreparingRebalance ends.
enum JoinPhase: Hashable, Sendable {
    /// The group was empty: wait `initialRebalanceDelay` (again, while new members keep
    /// arriving, up to `remainingMs` in total) before completing the join, so the first members of
    /// a starting application land in one generation. Joins never complete this phase early.
    case initialDelay(remainingMs: Int64, newMemberAdded: Bool)
    /// Complete as soon as every member has rejoined, or at the rebalance timeout.
    case awaitingRejoins
}

/// One member of a group. Invariant: `awaitingJoin` is set only in PreparingRebalance,
/// `awaitingSync` only in CompletingRebalance.
struct GroupMember: Hashable, Sendable {
    let memberId: String
    /// `group.instance.id` (JoinGroup v5+) of a static member; nil for a dynamic one.
    var groupInstanceId: String?
    var clientId: String
    var clientHost: String
    var sessionTimeoutMs: Int32
    var rebalanceTimeoutMs: Int32
    var protocolType: String
    /// In the member's order of preference.
    var protocols: [JoinGroupRequest.JoinGroupRequestProtocol]
    var assignment: ByteBuffer
    /// A JoinGroup parked until the join phase completes.
    var awaitingJoin: RequestTicket?
    /// A SyncGroup parked until the leader's assignment arrives.
    var awaitingSync: RequestTicket?
    /// Joined during the current join phase and not yet part of a generation. A new member's
    /// parked join is bounded by the new-member join timeout rather than kept alive.
    var isNew: Bool

    func metadata(for protocolName: String) -> ByteBuffer? {
        self.protocols.first { $0.name == protocolName }?.metadata
    }

    /// Whether a rejoin changes nothing the group depends on.
    func matches(_ protocols: [JoinGroupRequest.JoinGroupRequestProtocol]) -> Bool {
        self.protocols == protocols
    }
}

/// A classic group. Invariants: `memberOrder` lists exactly the keys of `members`, oldest first;
/// `leaderId` is a member whenever `members` is non-empty and nil otherwise; `pendingSyncMembers`
/// is a subset of `members` and non-empty only in CompletingRebalance or Stable; `staticMembers`
/// maps the instance id of every static member to its member id; `pendingMembers` (ids handed out
/// with MEMBER_ID_REQUIRED, not yet joined) and `members` are disjoint.
struct ClassicGroup: Hashable, Sendable {
    let groupId: String
    var state: GroupState
    var joinPhase: JoinPhase
    var generationId: Int32
    /// Set by the first member; kept when the group empties, as Kafka does.
    var protocolType: String?
    /// The protocol chosen for the current generation; nil once the group empties (a replayed
    /// Empty group keeps its last generation's protocol, as Kafka's loaded groups do).
    var protocolName: String?
    var leaderId: String?
    var members: [String: GroupMember]
    var memberOrder: [String]
    /// Members of the current generation that have not sent SyncGroup yet.
    var pendingSyncMembers: Set<String>
    /// Static members: `group.instance.id` → the member id currently holding it.
    var staticMembers: [String: String]
    /// Member ids handed out with MEMBER_ID_REQUIRED (KIP-394) whose owner has not joined with them
    /// yet. A join phase waits for them as for known members.
    var pendingMembers: Set<String>
    var currentStateTimestampMs: Int64
    var offsets: [TopicPartition: OffsetCommitValue]

    init(groupId: String, nowMs: Int64) {
        self.groupId = groupId
        self.state = .empty
        self.joinPhase = .awaitingRejoins
        self.generationId = 0
        self.protocolType = nil
        self.protocolName = nil
        self.leaderId = nil
        self.members = [:]
        self.memberOrder = []
        self.pendingSyncMembers = []
        self.staticMembers = [:]
        self.pendingMembers = []
        self.currentStateTimestampMs = nowMs
        self.offsets = [:]
    }

    var orderedMembers: [GroupMember] { self.memberOrder.map { self.members[$0]! } }

    /// Every member has rejoined and no pending member is still to come (Kafka's `hasAllMembersJoined`).
    var allMembersJoined: Bool {
        self.pendingMembers.isEmpty && self.members.values.allSatisfy { $0.awaitingJoin != nil }
    }

    /// The longest rebalance timeout of any member: how long a join phase may last.
    var rebalanceTimeoutMs: Int64 { Int64(self.members.values.map(\.rebalanceTimeoutMs).max() ?? 0) }

    mutating func transition(to state: GroupState, nowMs: Int64) {
        self.state = state
        self.currentStateTimestampMs = nowMs
    }

    /// Kafka's `supportsProtocols`: an empty group takes any non-empty protocol type and list;
    /// otherwise the type must match and one of the protocols must be supported by every member.
    func supports(protocolType: String, protocols: [JoinGroupRequest.JoinGroupRequestProtocol]) -> Bool {
        if self.members.isEmpty {
            return !protocolType.isEmpty && !protocols.isEmpty
        }
        guard protocolType == self.protocolType else { return false }
        return protocols.contains { candidate in
            self.members.values.allSatisfy { member in member.protocols.contains { $0.name == candidate.name } }
        }
    }

    /// The vote of §5.1: the candidates are the protocols every member supports; each member votes
    /// for its most preferred candidate; most votes wins. Ties go to the candidate the oldest member
    /// prefers, so the choice is deterministic (Kafka breaks ties by hash order).
    func selectProtocol() -> String {
        let ordered = self.orderedMembers
        precondition(!ordered.isEmpty, "selecting a protocol for an empty group")
        let candidates = ordered[0].protocols.map(\.name).filter { name in
            ordered.allSatisfy { member in member.protocols.contains { $0.name == name } }
        }
        precondition(!candidates.isEmpty, "members share no protocol although each join was checked")
        var votes: [String: Int] = [:]
        for member in ordered {
            let vote = member.protocols.first { candidates.contains($0.name) }!.name
            votes[vote, default: 0] += 1
        }
        let best = votes.values.max()!
        return candidates.first { votes[$0] == best }!
    }

    mutating func add(_ member: GroupMember) {
        if self.members.isEmpty { self.protocolType = member.protocolType }
        self.members[member.memberId] = member
        self.memberOrder.append(member.memberId)
        self.pendingMembers.remove(member.memberId)
        if let instanceId = member.groupInstanceId { self.staticMembers[instanceId] = member.memberId }
        if self.leaderId == nil { self.leaderId = member.memberId }
    }

    /// Gives a static member's place (its position, assignment, leadership, pending sync) to a new
    /// member id (Kafka's `replaceStaticMember`); returns the new member. The caller answers the
    /// old member's parked requests.
    mutating func replaceStaticMember(_ instanceId: String, oldMemberId: String, newMemberId: String) -> GroupMember {
        let old = self.members.removeValue(forKey: oldMemberId)!
        let replacement = GroupMember(
            memberId: newMemberId,
            groupInstanceId: instanceId,
            clientId: old.clientId,
            clientHost: old.clientHost,
            sessionTimeoutMs: old.sessionTimeoutMs,
            rebalanceTimeoutMs: old.rebalanceTimeoutMs,
            protocolType: old.protocolType,
            protocols: old.protocols,
            assignment: old.assignment,
            awaitingJoin: nil,
            awaitingSync: nil,
            isNew: old.isNew
        )
        self.members[newMemberId] = replacement
        self.memberOrder = self.memberOrder.map { $0 == oldMemberId ? newMemberId : $0 }
        if self.pendingSyncMembers.remove(oldMemberId) != nil { self.pendingSyncMembers.insert(newMemberId) }
        if self.leaderId == oldMemberId { self.leaderId = newMemberId }
        self.staticMembers[instanceId] = newMemberId
        return replacement
    }

    /// Removes a member; a departing leader is replaced by the oldest remaining member.
    mutating func remove(_ memberId: String) {
        if let instanceId = self.members[memberId]?.groupInstanceId, self.staticMembers[instanceId] == memberId {
            self.staticMembers[instanceId] = nil
        }
        self.members[memberId] = nil
        self.memberOrder.removeAll { $0 == memberId }
        self.pendingSyncMembers.remove(memberId)
        if self.leaderId == memberId { self.leaderId = self.memberOrder.first }
    }

    /// Replaces the members by those a replayed metadata record stored (none for a tombstone): each
    /// supports just the group's protocol, with its stored subscription, as in Kafka's loaded
    /// groups. The group is Stable with members (records with members are only written in Stable),
    /// Empty without.
    mutating func restoreMembers(_ value: GroupMetadataValue?) {
        self.members = [:]
        self.memberOrder = []
        self.staticMembers = [:]
        self.pendingMembers = []
        self.pendingSyncMembers = []
        self.leaderId = nil
        let protocolType = self.protocolType
        for stored in value?.members ?? [] where self.members[stored.memberId] == nil {
            self.add(
                GroupMember(
                    memberId: stored.memberId,
                    groupInstanceId: stored.groupInstanceId,
                    clientId: stored.clientId,
                    clientHost: stored.clientHost,
                    sessionTimeoutMs: stored.sessionTimeoutMs,
                    rebalanceTimeoutMs: stored.rebalanceTimeoutMs,
                    protocolType: value?.protocolType ?? "",
                    protocols: [.init(name: value?.protocolName ?? "", metadata: stored.subscription)],
                    assignment: stored.assignment,
                    awaitingJoin: nil,
                    awaitingSync: nil,
                    isNew: false
                )
            )
        }
        // `add` set the type from the first member; the record's own (possibly empty) type stays.
        self.protocolType = protocolType
        if let leader = value?.leader, self.members[leader] != nil { self.leaderId = leader }
        self.state = self.members.isEmpty ? .empty : .stable
    }

    /// The record that stores the current generation (Kafka's `storeGroup`).
    func metadataRecord() -> CoordinatorRecord {
        let protocolName = self.protocolName
        let members = self.orderedMembers.map { member in
            GroupMetadataValue.Member(
                memberId: member.memberId,
                groupInstanceId: member.groupInstanceId,
                clientId: member.clientId,
                clientHost: member.clientHost,
                rebalanceTimeoutMs: member.rebalanceTimeoutMs,
                sessionTimeoutMs: member.sessionTimeoutMs,
                subscription: protocolName.flatMap { member.metadata(for: $0) } ?? ByteBuffer(),
                assignment: member.assignment
            )
        }
        return .groupMetadata(
            groupId: self.groupId,
            GroupMetadataValue(
                protocolType: self.protocolType ?? "",
                generation: self.generationId,
                protocolName: protocolName,
                leader: self.leaderId,
                currentStateTimestampMs: self.currentStateTimestampMs,
                members: members
            )
        )
    }
}
