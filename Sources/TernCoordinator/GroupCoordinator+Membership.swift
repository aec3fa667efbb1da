import NIOCore
import TernWire

// JoinGroup, SyncGroup, Heartbeat, LeaveGroup and the timers that end phases and sessions.
extension GroupCoordinator {
    // MARK: JoinGroup

    /// JoinGroup v0–v9 (`version` is the request's). `clientId` and `clientHost` come from the
    /// request header and connection; a new member's id is `clientId-<suffix>`, or
    /// `groupInstanceId-<suffix>` for a static member. From v4 a dynamic member joining with an
    /// empty id is answered MEMBER_ID_REQUIRED with a pending id and must join again with it
    /// (KIP-394). A static member (v5+) joining again with an empty id takes over its old place,
    /// fencing the old id (KIP-345). The response is usually deferred: it comes in the result of
    /// whichever later event completes the join phase (another member's join, a leave, a timer).
    public mutating func joinGroup(
        _ request: JoinGroupRequest,
        version: Int16,
        clientId: String,
        clientHost: String,
        ticket: RequestTicket,
        nowMs: Int64
    ) -> CoordinatorResult {
        func failure(_ errorCode: KafkaErrorCode) -> CoordinatorResult {
            CoordinatorResult(responses: [
                TicketedResponse(
                    ticket,
                    .joinGroup(JoinGroupResponse(errorCode: errorCode, memberId: request.memberId))
                )
            ])
        }
        guard !request.groupId.isEmpty else { return failure(.invalidGroupId) }
        let sessionBounds = self.configuration.minSessionTimeoutMs...self.configuration.maxSessionTimeoutMs
        guard sessionBounds.contains(request.sessionTimeoutMs) else { return failure(.invalidSessionTimeout) }
        // The field only exists from v5; an empty one is no instance id.
        let instanceId = request.groupInstanceId.flatMap { $0.isEmpty ? nil : $0 }

        var result = CoordinatorResult()
        if request.memberId.isEmpty {
            var group = self.groups[request.groupId] ?? ClassicGroup(groupId: request.groupId, nowMs: nowMs)
            switch group.state {
            case .dead:
                return failure(.coordinatorNotAvailable)
            case .empty, .preparingRebalance, .completingRebalance, .stable:
                break
            }
            guard group.supports(protocolType: request.protocolType, protocols: request.protocols) else {
                return failure(.inconsistentGroupProtocol)
            }
            let newMemberId = (instanceId ?? clientId) + "-" + self.memberIdSuffixes.nextSuffix()
            if let instanceId, let oldMemberId = group.staticMembers[instanceId] {
                self.replaceStaticMemberAndRebalance(
                    request,
                    instanceId: instanceId,
                    oldMemberId: oldMemberId,
                    newMemberId: newMemberId,
                    ticket: ticket,
                    group: &group,
                    nowMs: nowMs,
                    result: &result
                )
            } else if instanceId == nil && version >= 4 {
                // KIP-394: the member must come back with this id; until then (at most its session
                // timeout) it is pending, and a join phase waits for it.
                group.pendingMembers.insert(newMemberId)
                self.schedule(
                    .session(groupId: group.groupId, memberId: newMemberId),
                    atMs: nowMs + Int64(request.sessionTimeoutMs),
                    &result
                )
                result.respond(
                    ticket,
                    .joinGroup(JoinGroupResponse(errorCode: .memberIdRequired, memberId: newMemberId))
                )
            } else {
                self.addMemberAndRebalance(
                    request,
                    memberId: newMemberId,
                    instanceId: instanceId,
                    clientId: clientId,
                    clientHost: clientHost,
                    ticket: ticket,
                    group: &group,
                    nowMs: nowMs,
                    result: &result
                )
            }
            self.store(group)
            return result
        }

        guard var group = self.groups[request.groupId] else { return failure(.unknownMemberId) }
        switch group.state {
        case .dead:
            return failure(.coordinatorNotAvailable)
        case .empty, .preparingRebalance, .completingRebalance, .stable:
            break
        }
        guard group.supports(protocolType: request.protocolType, protocols: request.protocols) else {
            return failure(.inconsistentGroupProtocol)
        }
        if group.pendingMembers.contains(request.memberId) {
            // The second join of KIP-394: the pending id becomes a member. (A pending id is never
            // handed to a static member; a join that claims an instance id with it is admitted as
            // that static member unless another member holds the instance.)
            if let instanceId, group.staticMembers[instanceId] != nil { return failure(.fencedInstanceId) }
            self.addMemberAndRebalance(
                request,
                memberId: request.memberId,
                instanceId: instanceId,
                clientId: clientId,
                clientHost: clientHost,
                ticket: ticket,
                group: &group,
                nowMs: nowMs,
                result: &result
            )
            self.store(group)
            return result
        }
        if let error = group.memberError(memberId: request.memberId, instanceId: instanceId) {
            return failure(error)
        }
        let member = group.members[request.memberId]!
        switch group.state {
        case .preparingRebalance:
            self.updateMemberAndRebalance(request, ticket: ticket, group: &group, nowMs: nowMs, result: &result)
        case .completingRebalance:
            // A member that lost the join response asks again; only a change restarts the round.
            if member.matches(request.protocols) {
                self.respondWithCurrentGeneration(member, ticket: ticket, group: group, result: &result)
                self.refreshSession(member, group: group, nowMs: nowMs, result: &result)
            } else {
                self.updateMemberAndRebalance(request, ticket: ticket, group: &group, nowMs: nowMs, result: &result)
            }
        case .stable:
            // The leader rejoins to force a new assignment (e.g. its subscription saw new partitions).
            if member.memberId == group.leaderId || !member.matches(request.protocols) {
                self.updateMemberAndRebalance(request, ticket: ticket, group: &group, nowMs: nowMs, result: &result)
            } else {
                self.respondWithCurrentGeneration(member, ticket: ticket, group: group, result: &result)
                self.refreshSession(member, group: group, nowMs: nowMs, result: &result)
            }
        case .empty, .dead:
            // Neither state has members, so the lookup above already failed.
            return failure(.unknownMemberId)
        }
        self.store(group)
        return result
    }

    private mutating func addMemberAndRebalance(
        _ request: JoinGroupRequest,
        memberId: String,
        instanceId: String?,
        clientId: String,
        clientHost: String,
        ticket: RequestTicket,
        group: inout ClassicGroup,
        nowMs: Int64,
        result: inout CoordinatorResult
    ) {
        let member = GroupMember(
            memberId: memberId,
            groupInstanceId: instanceId,
            clientId: clientId,
            clientHost: clientHost,
            sessionTimeoutMs: request.sessionTimeoutMs,
            // JoinGroup v0 has no rebalance timeout (decoded as -1): the session timeout serves.
            rebalanceTimeoutMs: request.rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
            protocolType: request.protocolType,
            protocols: request.protocols,
            assignment: ByteBuffer(),
            awaitingJoin: ticket,
            awaitingSync: nil,
            isNew: true
        )
        // A new arrival during a brand-new group's initial delay earns it one more delay.
        if case .initialDelay(let remainingMs, _) = group.joinPhase, group.state == .preparingRebalance,
            group.generationId == 0
        {
            group.joinPhase = .initialDelay(remainingMs: remainingMs, newMemberAdded: true)
        }
        group.add(member)
        // The client cannot heartbeat without its id, and a parked join hides a disconnect: bound
        // the wait so members that gave up do not pile up; a live client simply joins again.
        self.schedule(
            .session(groupId: group.groupId, memberId: memberId),
            atMs: nowMs + self.configuration.newMemberJoinTimeoutMs,
            &result
        )
        switch group.state {
        case .empty, .stable, .completingRebalance:
            self.prepareRebalance(group: &group, nowMs: nowMs, result: &result)
        case .preparingRebalance:
            self.tryCompleteJoin(group: &group, nowMs: nowMs, result: &result)
        case .dead:
            preconditionFailure("joined a Dead group")
        }
    }

    /// A known static member joined with an empty member id (Kafka's
    /// `updateStaticMemberThenRebalanceOrCompleteJoin`): it takes the old member's place under a
    /// new id, and the old id is fenced. In Stable, unless its protocols change the group's
    /// protocol, the group does not rebalance: the new place is stored and the member is answered
    /// with the current generation — as a follower even when it leads (the leader named in the
    /// answer is the old id), so that it does not compute an assignment a Stable group would not
    /// hand out.
    private mutating func replaceStaticMemberAndRebalance(
        _ request: JoinGroupRequest,
        instanceId: String,
        oldMemberId: String,
        newMemberId: String,
        ticket: RequestTicket,
        group: inout ClassicGroup,
        nowMs: Int64,
        result: inout CoordinatorResult
    ) {
        let currentLeader = group.leaderId ?? ""
        let old = group.members[oldMemberId]!
        // A duplicate instance still waiting on the old id learns it is fenced.
        if let parked = old.awaitingJoin {
            result.respond(parked, .joinGroup(JoinGroupResponse(errorCode: .fencedInstanceId, memberId: oldMemberId)))
        }
        if let parked = old.awaitingSync {
            result.respond(parked, .syncGroup(SyncGroupResponse(errorCode: .fencedInstanceId)))
        }
        self.cancel(.session(groupId: group.groupId, memberId: oldMemberId), &result)
        var member = group.replaceStaticMember(instanceId, oldMemberId: oldMemberId, newMemberId: newMemberId)
        member.protocols = request.protocols
        member.sessionTimeoutMs = request.sessionTimeoutMs
        member.rebalanceTimeoutMs =
            request.rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs
        group.members[newMemberId] = member
        self.refreshSession(member, group: group, nowMs: nowMs, result: &result)
        switch group.state {
        case .stable:
            guard group.protocolName == group.selectProtocol() else {
                group.members[newMemberId]!.awaitingJoin = ticket
                self.prepareRebalance(group: &group, nowMs: nowMs, result: &result)
                return
            }
            let isLeader = newMemberId == group.leaderId
            var response = self.joinResponse(for: member, group: group)
            response.leader = currentLeader
            response.skipAssignment = isLeader
            // The new id must be durable before the member uses it.
            result.appends.append(
                CoordinatorAppend(
                    records: [group.metadataRecord()],
                    responsesAfterAppend: [TicketedResponse(ticket, .joinGroup(response))]
                )
            )
        case .completingRebalance:
            // The leader may already be assigning to the old id: assign again.
            group.members[newMemberId]!.awaitingJoin = ticket
            self.prepareRebalance(group: &group, nowMs: nowMs, result: &result)
        case .preparingRebalance:
            group.members[newMemberId]!.awaitingJoin = ticket
            self.tryCompleteJoin(group: &group, nowMs: nowMs, result: &result)
        case .empty, .dead:
            preconditionFailure("a static member of a group in state \(group.state)")
        }
    }

    private mutating func updateMemberAndRebalance(
        _ request: JoinGroupRequest,
        ticket: RequestTicket,
        group: inout ClassicGroup,
        nowMs: Int64,
        result: inout CoordinatorResult
    ) {
        var member = group.members[request.memberId]!
        if let superseded = member.awaitingJoin {
            result.respond(
                superseded,
                .joinGroup(JoinGroupResponse(errorCode: .rebalanceInProgress, memberId: member.memberId))
            )
        }
        member.protocols = request.protocols
        member.sessionTimeoutMs = request.sessionTimeoutMs
        member.rebalanceTimeoutMs =
            request.rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs
        member.awaitingJoin = ticket
        group.members[member.memberId] = member
        self.refreshSession(member, group: group, nowMs: nowMs, result: &result)
        switch group.state {
        case .preparingRebalance:
            self.tryCompleteJoin(group: &group, nowMs: nowMs, result: &result)
        case .completingRebalance, .stable:
            self.prepareRebalance(group: &group, nowMs: nowMs, result: &result)
        case .empty, .dead:
            preconditionFailure("a member of a group in state \(group.state)")
        }
    }

    /// Answers a join with the generation as it stands (a member whose join changed nothing).
    private func respondWithCurrentGeneration(
        _ member: GroupMember,
        ticket: RequestTicket,
        group: ClassicGroup,
        result: inout CoordinatorResult
    ) {
        result.respond(ticket, .joinGroup(self.joinResponse(for: member, group: group)))
    }

    private func joinResponse(for member: GroupMember, group: ClassicGroup) -> JoinGroupResponse {
        let protocolName = group.protocolName ?? ""
        let isLeader = member.memberId == group.leaderId
        return JoinGroupResponse(
            generationId: group.generationId,
            // v7+ carries the protocol type too; older versions drop it.
            protocolType: group.protocolType,
            protocolName: protocolName,
            leader: group.leaderId ?? "",
            memberId: member.memberId,
            // Only the leader runs the assignor, so only it needs everyone's subscription.
            members: isLeader
                ? group.orderedMembers.map {
                    JoinGroupResponse.JoinGroupResponseMember(
                        memberId: $0.memberId,
                        groupInstanceId: $0.groupInstanceId,
                        metadata: $0.metadata(for: protocolName) ?? ByteBuffer()
                    )
                } : []
        )
    }

    // MARK: Phases

    /// Enters PreparingRebalance (Kafka's `prepareRebalance`): parked syncs are told to rejoin and
    /// the join phase's deadline is set.
    mutating func prepareRebalance(group: inout ClassicGroup, nowMs: Int64, result: inout CoordinatorResult) {
        let wasEmpty: Bool
        switch group.state {
        case .completingRebalance:
            for memberId in group.memberOrder {
                guard let ticket = group.members[memberId]!.awaitingSync else { continue }
                group.members[memberId]!.awaitingSync = nil
                result.respond(ticket, .syncGroup(SyncGroupResponse(errorCode: .rebalanceInProgress)))
            }
            for memberId in group.memberOrder { group.members[memberId]!.assignment = ByteBuffer() }
            wasEmpty = false
        case .stable:
            wasEmpty = false
        case .empty:
            wasEmpty = true
        case .preparingRebalance, .dead:
            preconditionFailure("prepareRebalance from \(group.state)")
        }
        group.pendingSyncMembers = []
        self.cancel(.syncTimeout(groupId: group.groupId), &result)
        group.transition(to: .preparingRebalance, nowMs: nowMs)

        if wasEmpty {
            let delayMs = self.configuration.initialRebalanceDelayMs
            group.joinPhase = .initialDelay(
                remainingMs: max(group.rebalanceTimeoutMs - delayMs, 0),
                newMemberAdded: false
            )
            self.schedule(.initialRebalanceDelay(groupId: group.groupId), atMs: nowMs + delayMs, &result)
        } else {
            group.joinPhase = .awaitingRejoins
            if group.allMembersJoined {
                self.completeJoin(group: &group, nowMs: nowMs, result: &result)
            } else {
                self.schedule(
                    .rebalanceTimeout(groupId: group.groupId),
                    atMs: nowMs + group.rebalanceTimeoutMs,
                    &result
                )
            }
        }
    }

    /// Completes the join phase early if every member has rejoined (never during the initial delay).
    mutating func tryCompleteJoin(group: inout ClassicGroup, nowMs: Int64, result: inout CoordinatorResult) {
        guard group.state == .preparingRebalance, group.joinPhase == .awaitingRejoins, group.allMembersJoined else {
            return
        }
        self.completeJoin(group: &group, nowMs: nowMs, result: &result)
    }

    /// Ends the join phase (Kafka's `onCompleteJoin`): members that did not rejoin are removed,
    /// the generation advances, and every parked join is answered — or the group, left empty,
    /// records its new generation.
    mutating func completeJoin(group: inout ClassicGroup, nowMs: Int64, result: inout CoordinatorResult) {
        precondition(group.state == .preparingRebalance, "completing a join in \(group.state)")
        self.cancel(.rebalanceTimeout(groupId: group.groupId), &result)
        self.cancel(.initialRebalanceDelay(groupId: group.groupId), &result)
        for memberId in group.memberOrder where group.members[memberId]!.awaitingJoin == nil {
            self.cancel(.session(groupId: group.groupId, memberId: memberId), &result)
            group.remove(memberId)
        }
        group.generationId += 1
        guard !group.members.isEmpty else {
            group.protocolName = nil
            group.transition(to: .empty, nowMs: nowMs)
            result.appends.append(CoordinatorAppend(records: [group.metadataRecord()]))
            return
        }
        // `remove` already replaced a leader that did not rejoin by the oldest remaining member.
        group.protocolName = group.selectProtocol()
        group.transition(to: .completingRebalance, nowMs: nowMs)
        for memberId in group.memberOrder {
            var member = group.members[memberId]!
            let ticket = member.awaitingJoin!
            member.awaitingJoin = nil
            member.isNew = false
            group.members[memberId] = member
            result.respond(ticket, .joinGroup(self.joinResponse(for: member, group: group)))
            self.schedule(
                .session(groupId: group.groupId, memberId: memberId),
                atMs: nowMs + Int64(member.sessionTimeoutMs),
                &result
            )
        }
        group.pendingSyncMembers = Set(group.memberOrder)
        self.schedule(.syncTimeout(groupId: group.groupId), atMs: nowMs + group.rebalanceTimeoutMs, &result)
    }

    /// Removes one member (left, or its session expired) and lets the group react.
    mutating func removeMemberAndUpdateGroup(
        _ memberId: String,
        group: inout ClassicGroup,
        nowMs: Int64,
        result: inout CoordinatorResult
    ) {
        let member = group.members[memberId]!
        if let ticket = member.awaitingJoin {
            result.respond(ticket, .joinGroup(JoinGroupResponse(errorCode: .unknownMemberId, memberId: memberId)))
        }
        if let ticket = member.awaitingSync {
            result.respond(ticket, .syncGroup(SyncGroupResponse(errorCode: .unknownMemberId)))
        }
        self.cancel(.session(groupId: group.groupId, memberId: memberId), &result)
        group.remove(memberId)
        switch group.state {
        case .stable, .completingRebalance:
            self.prepareRebalance(group: &group, nowMs: nowMs, result: &result)
        case .preparingRebalance:
            self.tryCompleteJoin(group: &group, nowMs: nowMs, result: &result)
        case .empty, .dead:
            break
        }
    }

    /// Pushes the member's session deadline out by its session timeout.
    mutating func refreshSession(
        _ member: GroupMember,
        group: ClassicGroup,
        nowMs: Int64,
        result: inout CoordinatorResult
    ) {
        self.schedule(
            .session(groupId: group.groupId, memberId: member.memberId),
            atMs: nowMs + Int64(member.sessionTimeoutMs),
            &result
        )
    }

    // MARK: Timer events

    mutating func sessionExpired(
        memberId: String,
        group: inout ClassicGroup,
        nowMs: Int64,
        result: inout CoordinatorResult
    ) {
        if group.pendingMembers.remove(memberId) != nil {
            // A MEMBER_ID_REQUIRED id that was never used: a join phase stops waiting for it.
            self.tryCompleteJoin(group: &group, nowMs: nowMs, result: &result)
            return
        }
        guard let member = group.members[memberId] else { return }
        // A member parked in a join (once it belongs to a generation) or in a sync is waiting on
        // the coordinator, not silent: keep it (Kafka's `shouldKeepAlive`).
        let waitingOnUs = (member.awaitingJoin != nil && !member.isNew) || member.awaitingSync != nil
        if waitingOnUs {
            self.refreshSession(member, group: group, nowMs: nowMs, result: &result)
        } else {
            self.removeMemberAndUpdateGroup(memberId, group: &group, nowMs: nowMs, result: &result)
        }
    }

    mutating func initialDelayEnded(group: inout ClassicGroup, nowMs: Int64, result: inout CoordinatorResult) {
        guard group.state == .preparingRebalance,
            case .initialDelay(let remainingMs, let newMemberAdded) = group.joinPhase
        else { return }
        if newMemberAdded && remainingMs > 0 {
            let delayMs = min(self.configuration.initialRebalanceDelayMs, remainingMs)
            group.joinPhase = .initialDelay(remainingMs: remainingMs - delayMs, newMemberAdded: false)
            self.schedule(.initialRebalanceDelay(groupId: group.groupId), atMs: nowMs + delayMs, &result)
        } else {
            self.completeJoin(group: &group, nowMs: nowMs, result: &result)
        }
    }

    mutating func rebalanceTimedOut(group: inout ClassicGroup, nowMs: Int64, result: inout CoordinatorResult) {
        guard group.state == .preparingRebalance, group.joinPhase == .awaitingRejoins else { return }
        self.completeJoin(group: &group, nowMs: nowMs, result: &result)
    }

    /// Members of the generation that never sent SyncGroup within the rebalance timeout are removed
    /// (Kafka's pending-sync expiry), and the rest rebalance without them.
    mutating func syncTimedOut(group: inout ClassicGroup, nowMs: Int64, result: inout CoordinatorResult) {
        switch group.state {
        case .completingRebalance, .stable:
            break
        case .empty, .preparingRebalance, .dead:
            return
        }
        guard !group.pendingSyncMembers.isEmpty else { return }
        for memberId in group.memberOrder where group.pendingSyncMembers.contains(memberId) {
            self.cancel(.session(groupId: group.groupId, memberId: memberId), &result)
            group.remove(memberId)
        }
        self.prepareRebalance(group: &group, nowMs: nowMs, result: &result)
    }

    // MARK: SyncGroup

    /// SyncGroup (v3+ may carry a group instance id, checked as in `ClassicGroup.memberError`).
    /// A follower's sync in CompletingRebalance is parked; the leader's sync
    /// stores the assignment and releases every parked sync once that record is durable.
    public mutating func syncGroup(_ request: SyncGroupRequest, ticket: RequestTicket, nowMs: Int64)
        -> CoordinatorResult
    {
        func failure(_ errorCode: KafkaErrorCode) -> CoordinatorResult {
            CoordinatorResult(responses: [TicketedResponse(ticket, .syncGroup(SyncGroupResponse(errorCode: errorCode)))]
            )
        }
        guard !request.groupId.isEmpty else { return failure(.invalidGroupId) }
        guard var group = self.groups[request.groupId] else { return failure(.unknownMemberId) }
        if let error = group.memberError(memberId: request.memberId, instanceId: request.groupInstanceId) {
            return failure(error)
        }
        var member = group.members[request.memberId]!
        guard request.generationId == group.generationId else { return failure(.illegalGeneration) }

        var result = CoordinatorResult()
        switch group.state {
        case .empty, .dead:
            return failure(.unknownMemberId)
        case .preparingRebalance:
            return failure(.rebalanceInProgress)
        case .completingRebalance:
            if let superseded = member.awaitingSync {
                result.respond(superseded, .syncGroup(SyncGroupResponse(errorCode: .rebalanceInProgress)))
            }
            member.awaitingSync = ticket
            group.members[member.memberId] = member
            group.pendingSyncMembers.remove(member.memberId)
            self.refreshSession(member, group: group, nowMs: nowMs, result: &result)
            if member.memberId == group.leaderId {
                self.applyLeaderAssignment(request.assignments, group: &group, nowMs: nowMs, result: &result)
            }
        case .stable:
            group.pendingSyncMembers.remove(member.memberId)
            self.refreshSession(member, group: group, nowMs: nowMs, result: &result)
            result.respond(ticket, .syncGroup(SyncGroupResponse(assignment: member.assignment)))
        }
        if group.pendingSyncMembers.isEmpty {
            self.cancel(.syncTimeout(groupId: group.groupId), &result)
        }
        self.store(group)
        return result
    }

    private mutating func applyLeaderAssignment(
        _ assignments: [SyncGroupRequest.SyncGroupRequestAssignment],
        group: inout ClassicGroup,
        nowMs: Int64,
        result: inout CoordinatorResult
    ) {
        var byMember: [String: ByteBuffer] = [:]
        for entry in assignments where byMember[entry.memberId] == nil {
            byMember[entry.memberId] = entry.assignment
        }
        // Members the leader left out get an empty assignment; entries for non-members are ignored.
        for memberId in group.memberOrder {
            group.members[memberId]!.assignment = byMember[memberId] ?? ByteBuffer()
        }
        group.transition(to: .stable, nowMs: nowMs)
        var released: [TicketedResponse] = []
        for memberId in group.memberOrder {
            guard let ticket = group.members[memberId]!.awaitingSync else { continue }
            group.members[memberId]!.awaitingSync = nil
            released.append(
                TicketedResponse(ticket, .syncGroup(SyncGroupResponse(assignment: group.members[memberId]!.assignment)))
            )
        }
        result.appends.append(CoordinatorAppend(records: [group.metadataRecord()], responsesAfterAppend: released))
    }

    // MARK: Heartbeat

    /// Heartbeat (v3+ may carry a group instance id, checked as in `ClassicGroup.memberError`):
    /// refreshes the member's session; REBALANCE_IN_PROGRESS tells it to rejoin.
    public mutating func heartbeat(_ request: HeartbeatRequest, ticket: RequestTicket, nowMs: Int64)
        -> CoordinatorResult
    {
        func answer(_ errorCode: KafkaErrorCode, _ result: CoordinatorResult = .none) -> CoordinatorResult {
            var result = result
            result.respond(ticket, .heartbeat(HeartbeatResponse(errorCode: errorCode)))
            return result
        }
        guard !request.groupId.isEmpty else { return answer(.invalidGroupId) }
        guard let group = self.groups[request.groupId] else { return answer(.unknownMemberId) }
        switch group.state {
        case .dead:
            return answer(.coordinatorNotAvailable)
        case .empty:
            return answer(.unknownMemberId)
        case .preparingRebalance, .completingRebalance, .stable:
            break
        }
        if let error = group.memberError(memberId: request.memberId, instanceId: request.groupInstanceId) {
            return answer(error)
        }
        let member = group.members[request.memberId]!
        guard request.generationId == group.generationId else { return answer(.illegalGeneration) }
        var result = CoordinatorResult()
        self.refreshSession(member, group: group, nowMs: nowMs, result: &result)
        switch group.state {
        case .preparingRebalance:
            return answer(.rebalanceInProgress, result)
        case .completingRebalance, .stable:
            // Kafka treats a heartbeat right after the join response as a normal one.
            return answer(.none, result)
        case .empty, .dead:
            preconditionFailure("unreachable: handled above")
        }
    }

    // MARK: LeaveGroup

    /// LeaveGroup for one member: v0–v2 by member id; v3+ (the runtime submits each member of the
    /// batch on its own) by member id or, for a static member, by `group_instance_id` — then the
    /// member id, unless empty, must be the instance's current one (else FENCED_INSTANCE_ID). The
    /// group rebalances without waiting for the session to end. A pending member id (KIP-394)
    /// simply stops being pending.
    public mutating func leaveGroup(
        _ request: LeaveGroupRequest,
        groupInstanceId: String? = nil,
        ticket: RequestTicket,
        nowMs: Int64
    ) -> CoordinatorResult {
        func answer(_ errorCode: KafkaErrorCode, _ result: CoordinatorResult = .none) -> CoordinatorResult {
            var result = result
            result.respond(ticket, .leaveGroup(LeaveGroupResponse(errorCode: errorCode)))
            return result
        }
        guard !request.groupId.isEmpty else { return answer(.invalidGroupId) }
        guard var group = self.groups[request.groupId] else { return answer(.unknownMemberId) }
        switch group.state {
        case .dead:
            return answer(.coordinatorNotAvailable)
        case .empty, .preparingRebalance, .completingRebalance, .stable:
            break
        }
        var result = CoordinatorResult()
        let memberId: String
        if let instanceId = groupInstanceId.flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let current = group.staticMembers[instanceId] else { return answer(.unknownMemberId) }
            guard request.memberId.isEmpty || request.memberId == current else { return answer(.fencedInstanceId) }
            memberId = current
        } else if group.pendingMembers.contains(request.memberId) {
            group.pendingMembers.remove(request.memberId)
            self.cancel(.session(groupId: group.groupId, memberId: request.memberId), &result)
            self.tryCompleteJoin(group: &group, nowMs: nowMs, result: &result)
            self.store(group)
            return answer(.none, result)
        } else {
            guard group.members[request.memberId] != nil else { return answer(.unknownMemberId) }
            memberId = request.memberId
        }
        self.removeMemberAndUpdateGroup(memberId, group: &group, nowMs: nowMs, result: &result)
        self.store(group)
        return answer(.none, result)
    }
}

extension ClassicGroup {
    /// Kafka's `validateExistingMember`: a request naming an instance id must come from the member
    /// id that currently holds it (FENCED_INSTANCE_ID otherwise; UNKNOWN_MEMBER_ID when no member
    /// holds it); one without must come from a member. nil when the request may go on.
    func memberError(memberId: String, instanceId: String?) -> KafkaErrorCode? {
        if let instanceId = instanceId.flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let current = self.staticMembers[instanceId] else { return .unknownMemberId }
            return current == memberId ? nil : .fencedInstanceId
        }
        return self.members[memberId] == nil ? .unknownMemberId : nil
    }
}
