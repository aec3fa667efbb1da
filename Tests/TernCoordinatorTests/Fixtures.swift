import NIOCore
import TernCoordinator
import TernWire

/// Member id suffixes 1, 2, 3, … so a client "a" joining first becomes member "a-1".
struct SequentialSuffixes: MemberIdSuffixGenerator {
    var last = 0

    mutating func nextSuffix() -> String {
        self.last += 1
        return "\(self.last)"
    }
}

let group = "g"
let sessionMs: Int32 = 10_000
let rebalanceMs: Int32 = 30_000
let delayMs: Int64 = 100
let newMemberJoinTimeoutMs: Int64 = 300_000

func makeCoordinator(initialRebalanceDelayMs: Int64 = delayMs) -> GroupCoordinator {
    GroupCoordinator(
        configuration: GroupCoordinatorConfiguration(initialRebalanceDelayMs: initialRebalanceDelayMs),
        memberIdSuffixes: SequentialSuffixes()
    )
}

func bytes(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

/// Each client's metadata names the protocol and the client, so the leader's member list shows
/// which metadata was picked.
func protocols(_ client: String, _ names: [String] = ["range", "roundrobin"]) -> [JoinGroupRequest
    .JoinGroupRequestProtocol]
{
    names.map { JoinGroupRequest.JoinGroupRequestProtocol(name: $0, metadata: bytes("\($0):\(client)")) }
}

func joinRequest(
    _ client: String,
    memberId: String = "",
    groupId: String = group,
    protocolNames: [String] = ["range", "roundrobin"],
    protocolType: String = "consumer",
    session: Int32 = sessionMs,
    rebalance: Int32 = rebalanceMs,
    instanceId: String? = nil
) -> JoinGroupRequest {
    JoinGroupRequest(
        groupId: groupId,
        sessionTimeoutMs: session,
        rebalanceTimeoutMs: rebalance,
        memberId: memberId,
        groupInstanceId: instanceId,
        protocolType: protocolType,
        protocols: protocols(client, protocolNames)
    )
}

extension GroupCoordinator {
    /// A join as client `client` (its id, from the request header, is the client name), at
    /// JoinGroup `version` (v2 by default: no MEMBER_ID_REQUIRED round trip).
    mutating func join(
        _ client: String,
        memberId: String = "",
        protocolNames: [String] = ["range", "roundrobin"],
        protocolType: String = "consumer",
        session: Int32 = sessionMs,
        rebalance: Int32 = rebalanceMs,
        instanceId: String? = nil,
        version: Int16 = 2,
        ticket: UInt64,
        at nowMs: Int64
    ) -> CoordinatorResult {
        self.joinGroup(
            joinRequest(
                client,
                memberId: memberId,
                protocolNames: protocolNames,
                protocolType: protocolType,
                session: session,
                rebalance: rebalance,
                instanceId: instanceId
            ),
            version: version,
            clientId: client,
            clientHost: "/127.0.0.1",
            ticket: RequestTicket(ticket),
            nowMs: nowMs
        )
    }

    mutating func sync(
        _ memberId: String,
        generation: Int32,
        assignments: [String: String] = [:],
        instanceId: String? = nil,
        ticket: UInt64,
        at nowMs: Int64
    ) -> CoordinatorResult {
        self.syncGroup(
            SyncGroupRequest(
                groupId: group,
                generationId: generation,
                memberId: memberId,
                groupInstanceId: instanceId,
                assignments: assignments.keys.sorted().map {
                    SyncGroupRequest.SyncGroupRequestAssignment(memberId: $0, assignment: bytes(assignments[$0]!))
                }
            ),
            ticket: RequestTicket(ticket),
            nowMs: nowMs
        )
    }

    mutating func beat(
        _ memberId: String,
        generation: Int32,
        groupId: String = group,
        instanceId: String? = nil,
        ticket: UInt64,
        at nowMs: Int64
    ) -> CoordinatorResult {
        self.heartbeat(
            HeartbeatRequest(
                groupId: groupId,
                generationId: generation,
                memberId: memberId,
                groupInstanceId: instanceId
            ),
            ticket: RequestTicket(ticket),
            nowMs: nowMs
        )
    }

    mutating func leave(
        _ memberId: String,
        groupId: String = group,
        instanceId: String? = nil,
        ticket: UInt64,
        at nowMs: Int64
    ) -> CoordinatorResult {
        self.leaveGroup(
            LeaveGroupRequest(groupId: groupId, memberId: memberId),
            groupInstanceId: instanceId,
            ticket: RequestTicket(ticket),
            nowMs: nowMs
        )
    }

    mutating func fire(_ key: TimerKey, at nowMs: Int64) -> CoordinatorResult {
        self.timerFired(key, nowMs: nowMs)
    }
}

// MARK: Expected results

func session(_ memberId: String) -> TimerKey { .session(groupId: group, memberId: memberId) }
let initialDelay = TimerKey.initialRebalanceDelay(groupId: group)
let rebalanceTimeout = TimerKey.rebalanceTimeout(groupId: group)
let syncTimeout = TimerKey.syncTimeout(groupId: group)

/// The client of a member id: the id up to its last "-" (also its instance id in static tests).
func client(of memberId: String) -> String { String(memberId[..<memberId.lastIndex(of: "-")!]) }

/// A successful join answer. `members` (leader only) lists member ids; their metadata is that of
/// `protocolName`, as `protocols(_:)` makes it (client = member id up to its last "-"). With
/// `staticMembers`, each member's instance id is its client name.
func joined(
    _ ticket: UInt64,
    generation: Int32,
    protocolName: String = "range",
    leader: String,
    member: String,
    members: [String] = [],
    staticMembers: Bool = false,
    skipAssignment: Bool = false
) -> TicketedResponse {
    TicketedResponse(
        RequestTicket(ticket),
        .joinGroup(
            JoinGroupResponse(
                generationId: generation,
                protocolType: "consumer",
                protocolName: protocolName,
                leader: leader,
                skipAssignment: skipAssignment,
                memberId: member,
                members: members.map { id in
                    JoinGroupResponse.JoinGroupResponseMember(
                        memberId: id,
                        groupInstanceId: staticMembers ? client(of: id) : nil,
                        metadata: bytes("\(protocolName):\(client(of: id))")
                    )
                }
            )
        )
    )
}

func joinFailed(_ ticket: UInt64, _ errorCode: KafkaErrorCode, member: String = "") -> TicketedResponse {
    TicketedResponse(RequestTicket(ticket), .joinGroup(JoinGroupResponse(errorCode: errorCode, memberId: member)))
}

func synced(_ ticket: UInt64, _ assignment: String) -> TicketedResponse {
    TicketedResponse(RequestTicket(ticket), .syncGroup(SyncGroupResponse(assignment: bytes(assignment))))
}

func syncFailed(_ ticket: UInt64, _ errorCode: KafkaErrorCode) -> TicketedResponse {
    TicketedResponse(RequestTicket(ticket), .syncGroup(SyncGroupResponse(errorCode: errorCode)))
}

func heartbeatAnswer(_ ticket: UInt64, _ errorCode: KafkaErrorCode) -> TicketedResponse {
    TicketedResponse(RequestTicket(ticket), .heartbeat(HeartbeatResponse(errorCode: errorCode)))
}

func leaveAnswer(_ ticket: UInt64, _ errorCode: KafkaErrorCode) -> TicketedResponse {
    TicketedResponse(RequestTicket(ticket), .leaveGroup(LeaveGroupResponse(errorCode: errorCode)))
}

/// The group metadata record a Stable group writes: members (id, client) with their "range"
/// metadata and the given assignments.
func groupRecord(
    generation: Int32,
    protocolName: String? = "range",
    leader: String?,
    members: [(id: String, assignment: String)],
    at nowMs: Int64,
    rebalance: Int32 = rebalanceMs,
    staticMembers: Bool = false
) -> CoordinatorRecord {
    .groupMetadata(
        groupId: group,
        GroupMetadataValue(
            protocolType: "consumer",
            generation: generation,
            protocolName: protocolName,
            leader: leader,
            currentStateTimestampMs: nowMs,
            members: members.map { entry in
                let client = String(entry.id[..<entry.id.lastIndex(of: "-")!])
                return GroupMetadataValue.Member(
                    memberId: entry.id,
                    groupInstanceId: staticMembers ? client : nil,
                    clientId: client,
                    clientHost: "/127.0.0.1",
                    rebalanceTimeoutMs: rebalance,
                    sessionTimeoutMs: sessionMs,
                    subscription: bytes("\(protocolName ?? ""):\(client)"),
                    assignment: bytes(entry.assignment)
                )
            }
        )
    )
}

/// Drives a fresh group to Stable: the clients join at t=0 in order (the first leads), the initial
/// delay runs out, every member syncs, the leader last, assigning "assigned:<member id>".
/// Returns the member ids and the time the group became Stable. With `staticMembers` the clients
/// join at JoinGroup v5 with their name as `group.instance.id`.
@discardableResult
func stableGroup(
    _ coordinator: inout GroupCoordinator,
    clients: [String],
    session: Int32 = sessionMs,
    rebalance: Int32 = rebalanceMs,
    staticMembers: Bool = false
) -> (members: [String], nowMs: Int64) {
    var ticket: UInt64 = 1000
    for client in clients {
        ticket += 1
        _ = coordinator.join(
            client,
            session: session,
            rebalance: rebalance,
            instanceId: staticMembers ? client : nil,
            version: staticMembers ? 5 : 2,
            ticket: ticket,
            at: 0
        )
    }
    var nowMs: Int64 = 0
    while coordinator.state(ofGroup: group) == .preparingRebalance {
        nowMs = coordinator.pendingTimers[initialDelay]!
        _ = coordinator.fire(initialDelay, at: nowMs)
    }
    let members = coordinator.members(ofGroup: group)
    for member in members.dropFirst() {
        ticket += 1
        _ = coordinator.sync(member, generation: 1, ticket: ticket, at: nowMs)
    }
    ticket += 1
    _ = coordinator.sync(
        members[0],
        generation: 1,
        assignments: Dictionary(uniqueKeysWithValues: members.map { ($0, "assigned:\($0)") }),
        ticket: ticket,
        at: nowMs
    )
    precondition(coordinator.state(ofGroup: group) == .stable)
    return (members, nowMs)
}
