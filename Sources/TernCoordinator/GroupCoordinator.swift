import NIOCore
import TernWire

/// Limits and delays of the group coordinator, with Kafka's defaults.
public struct GroupCoordinatorConfiguration: Hashable, Sendable {
    /// `group.min.session.timeout.ms`: joins asking for less get INVALID_SESSION_TIMEOUT.
    public var minSessionTimeoutMs: Int32
    /// `group.max.session.timeout.ms`: joins asking for more get INVALID_SESSION_TIMEOUT.
    public var maxSessionTimeoutMs: Int32
    /// `group.initial.rebalance.delay.ms`: how long an empty group's first join phase waits for
    /// more members (extended while they keep arriving, capped by the rebalance timeout).
    public var initialRebalanceDelayMs: Int64
    /// How long a new member's parked JoinGroup may wait before the member is dropped; the client
    /// retries if it is still there (Kafka's `CLASSIC_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS`).
    public var newMemberJoinTimeoutMs: Int64
    /// `offset.metadata.max.bytes`: longer commit metadata gets OFFSET_METADATA_TOO_LARGE. Measured
    /// in UTF-16 code units, as Java's `String.length()`.
    public var offsetMetadataMaxLength: Int
    /// `offsets.retention.minutes` (in ms): how long offsets outlive their group's last member, or
    /// their commit outside a group (`expireOffsets`).
    public var offsetsRetentionMs: Int64
    /// `offsets.retention.check.interval.ms`: how often the runtime runs `expireOffsets`.
    public var offsetsRetentionCheckIntervalMs: Int64

    public init(
        minSessionTimeoutMs: Int32 = 6_000,
        maxSessionTimeoutMs: Int32 = 1_800_000,
        initialRebalanceDelayMs: Int64 = 3_000,
        newMemberJoinTimeoutMs: Int64 = 300_000,
        offsetMetadataMaxLength: Int = 4_096,
        offsetsRetentionMs: Int64 = 7 * 24 * 60 * 60 * 1000,
        offsetsRetentionCheckIntervalMs: Int64 = 600_000
    ) {
        self.minSessionTimeoutMs = minSessionTimeoutMs
        self.maxSessionTimeoutMs = maxSessionTimeoutMs
        self.initialRebalanceDelayMs = initialRebalanceDelayMs
        self.newMemberJoinTimeoutMs = newMemberJoinTimeoutMs
        self.offsetMetadataMaxLength = offsetMetadataMaxLength
        self.offsetsRetentionMs = offsetsRetentionMs
        self.offsetsRetentionCheckIntervalMs = offsetsRetentionCheckIntervalMs
    }
}

/// Kafka's classic group coordinator (consumer groups and committed offsets) as a pure state
/// machine: every event method takes a decoded request and the current time and returns a
/// `CoordinatorResult` — responses to send, records to append to `__consumer_offsets` (with the
/// responses that wait for them) and timers to set. It performs no I/O, reads no clock and holds
/// no reference to its caller, so the runtime that owns it (one per broker, behind an actor or a
/// lock) decides how to append, fsync, schedule and answer.
///
/// State lives in memory and is rebuilt at startup by `replay(key:value:)` over the topic's
/// records, then `restoredSessions(nowMs:)` starts the session timers of the restored members.
/// Committed offsets come back, and each group as its last metadata record stored it — generation,
/// protocol, leader and members with their assignments and instance ids — Stable when it has
/// members, as Kafka's coordinator loads a group. A member that does not show up within its
/// session timeout is removed as usual; a restarted static member takes its place again.
///
/// Requests for one group are processed in the order the runtime calls the methods; every rule
/// follows Kafka's `GroupMetadataManager`/`GroupCoordinator` for JoinGroup (with KIP-394's
/// MEMBER_ID_REQUIRED round trip from v4 and KIP-345's static membership from v5), SyncGroup,
/// Heartbeat, LeaveGroup (by member id or group instance id) and OffsetCommit; see `docs/consumer-groups.md` and kafka-compat.md §5.
public struct GroupCoordinator: Sendable {
    public let configuration: GroupCoordinatorConfiguration
    var groups: [String: ClassicGroup] = [:]
    /// The deadline of every timer the runtime holds for us; a firing that does not match is stale.
    var timerDeadlines: [TimerKey: Int64] = [:]
    var memberIdSuffixes: any MemberIdSuffixGenerator
    /// TxnOffsetCommit offsets not yet committed or aborted, by producer id, then group.
    var pendingTransactionalOffsets: [Int64: [String: [TopicPartition: PendingTransactionalOffset]]] = [:]
    /// The producers with pending offsets in each group, so that a group without any costs one lookup.
    var openTransactionsByGroup: [String: Set<Int64>] = [:]
    /// Orders pending offsets of one partition by when their records were written.
    var transactionalOffsetSequence: UInt64 = 0

    public init(
        configuration: GroupCoordinatorConfiguration = GroupCoordinatorConfiguration(),
        memberIdSuffixes: any MemberIdSuffixGenerator = RandomUUIDSuffixGenerator()
    ) {
        self.configuration = configuration
        self.memberIdSuffixes = memberIdSuffixes
    }

    // MARK: Inspection

    /// The group's state, or nil when the coordinator has no such group.
    public func state(ofGroup groupId: String) -> GroupState? {
        self.groups[groupId]?.state
    }

    /// The group's current generation, or nil when the coordinator has no such group.
    public func generation(ofGroup groupId: String) -> Int32? {
        self.groups[groupId]?.generationId
    }

    /// The member ids of the group, oldest first.
    public func members(ofGroup groupId: String) -> [String] {
        self.groups[groupId]?.memberOrder ?? []
    }

    /// The group's leader, if it has members.
    public func leader(ofGroup groupId: String) -> String? {
        self.groups[groupId]?.leaderId
    }

    /// Every committed offset of the group.
    public func committedOffsets(ofGroup groupId: String) -> [TopicPartition: OffsetCommitValue] {
        self.groups[groupId]?.offsets ?? [:]
    }

    /// The timers the coordinator expects the runtime to hold, with their deadlines.
    public var pendingTimers: [TimerKey: Int64] { self.timerDeadlines }

    // MARK: Timers

    /// A timer set earlier fired. Stale firings (cancelled or rescheduled since, or early) do
    /// nothing.
    public mutating func timerFired(_ key: TimerKey, nowMs: Int64) -> CoordinatorResult {
        guard let deadlineMs = self.timerDeadlines[key], nowMs >= deadlineMs else { return .none }
        self.timerDeadlines[key] = nil
        guard var group = self.groups[key.groupId] else { return .none }
        var result = CoordinatorResult()
        switch key {
        case .session(_, let memberId):
            self.sessionExpired(memberId: memberId, group: &group, nowMs: nowMs, result: &result)
        case .initialRebalanceDelay:
            self.initialDelayEnded(group: &group, nowMs: nowMs, result: &result)
        case .rebalanceTimeout:
            self.rebalanceTimedOut(group: &group, nowMs: nowMs, result: &result)
        case .syncTimeout:
            self.syncTimedOut(group: &group, nowMs: nowMs, result: &result)
        }
        self.store(group)
        return result
    }

    /// Sets a timer. Within one result only the last action per key is kept, so the runtime never
    /// sees a schedule immediately overridden.
    mutating func schedule(_ key: TimerKey, atMs: Int64, _ result: inout CoordinatorResult) {
        self.timerDeadlines[key] = atMs
        result.timers.removeAll { $0.key == key }
        result.timers.append(.schedule(key, atMs: atMs))
    }

    mutating func cancel(_ key: TimerKey, _ result: inout CoordinatorResult) {
        result.timers.removeAll { $0.key == key }
        if self.timerDeadlines.removeValue(forKey: key) != nil {
            result.timers.append(.cancel(key))
        }
    }

    /// Writes a group back after an event; a Dead group is dropped.
    mutating func store(_ group: ClassicGroup) {
        switch group.state {
        case .dead:
            self.groups[group.groupId] = nil
        case .empty, .preparingRebalance, .completingRebalance, .stable:
            self.groups[group.groupId] = group
        }
    }

    // MARK: Replay

    /// Starts the session of every member restored by the replay; call once, after the last
    /// `replay`, before any request. A member not heard from within its session timeout is removed.
    public mutating func restoredSessions(nowMs: Int64) -> CoordinatorResult {
        var result = CoordinatorResult()
        for groupId in self.groups.keys.sorted() {
            let group = self.groups[groupId]!
            for member in group.orderedMembers {
                self.refreshSession(member, group: group, nowMs: nowMs, result: &result)
            }
        }
        return result
    }

    /// Applies one `__consumer_offsets` record read back from the log (nil value = tombstone),
    /// in log order, before any request is handled. Offsets are restored as committed; a group
    /// metadata record restores the group's protocol type, generation, protocol, leader and members
    /// (Stable with members, Empty without).
    public mutating func replay(key: ByteBuffer, value: ByteBuffer?) throws(InternalRecordError) {
        self.replay(try CoordinatorRecord.decode(key: key, value: value))
    }

    /// Applies one decoded record; see `replay(key:value:)`.
    public mutating func replay(_ record: CoordinatorRecord) {
        let groupId = record.groupId
        // Taken out of the dictionary so that updating its offsets does not copy them (copy-on-write)
        // for every replayed record.
        var group = self.groups.removeValue(forKey: groupId) ?? ClassicGroup(groupId: groupId, nowMs: -1)
        switch record {
        case .offsetCommit(let key, let value):
            let partition = TopicPartition(key.topic, key.partition)
            group.offsets[partition] = value
            if self.openTransactionsByGroup[groupId] != nil {
                self.regularOffsetRecordApplied(groupId: groupId, partition: partition, deleted: value == nil)
            }
        case .groupMetadata(_, let value?):
            group.protocolType = value.protocolType.isEmpty ? nil : value.protocolType
            group.generationId = value.generation
            group.protocolName = value.protocolName
            group.currentStateTimestampMs = value.currentStateTimestampMs
            group.restoreMembers(value)
        case .groupMetadata(_, nil):
            group.protocolType = nil
            group.generationId = 0
            group.protocolName = nil
            group.restoreMembers(nil)
        }
        // A group that only ever existed through records that are now all deleted is gone (unless a
        // transaction still holds offsets for it).
        if !(group.offsets.isEmpty && group.generationId == 0 && group.protocolType == nil)
            || self.openTransactionsByGroup[groupId] != nil
        {
            self.groups[groupId] = group
        }
    }
}
