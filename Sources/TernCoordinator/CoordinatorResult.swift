import NIOCore
import TernWire

/// The caller's handle for one request. The coordinator never interprets it; it only hands it back
/// with the response, which may come from a later event (a JoinGroup is answered when the last
/// member joins or a timer fires, a follower's SyncGroup when the leader's arrives).
public struct RequestTicket: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var description: String { "#\(self.rawValue)" }
}

/// A response body for one of the group APIs, to be encoded at the version the request came in.
public enum CoordinatorResponse: Hashable, Sendable {
    case joinGroup(JoinGroupResponse)
    case syncGroup(SyncGroupResponse)
    case heartbeat(HeartbeatResponse)
    case leaveGroup(LeaveGroupResponse)
    case offsetCommit(OffsetCommitResponse)
    /// DeleteGroups has no wire type yet: the outcome for one group.
    case deleteGroup(groupId: String, errorCode: KafkaErrorCode)
    /// OffsetDelete has no wire type yet: the group-level error and one error per partition.
    case deleteOffsets(errorCode: KafkaErrorCode, partitions: [TopicPartition: KafkaErrorCode])
    /// TxnOffsetCommit has no wire type yet: one error per partition.
    case txnOffsetCommit(partitions: [TopicPartition: KafkaErrorCode])
}

/// A response and the request it answers.
public struct TicketedResponse: Hashable, Sendable {
    public var ticket: RequestTicket
    public var response: CoordinatorResponse

    public init(_ ticket: RequestTicket, _ response: CoordinatorResponse) {
        self.ticket = ticket
        self.response = response
    }
}

/// The producer of a transactional batch.
public struct TransactionalProducer: Hashable, Sendable {
    public var producerId: Int64
    public var producerEpoch: Int16

    public init(producerId: Int64, producerEpoch: Int16) {
        self.producerId = producerId
        self.producerEpoch = producerEpoch
    }
}

/// Records to append to `__consumer_offsets` and the responses that may only be sent once those
/// records are durable (an OffsetCommit is acknowledged only after its offsets survive a crash; the
/// members' SyncGroup answers wait for the group's assignment record).
public struct CoordinatorAppend: Hashable, Sendable {
    public var records: [CoordinatorRecord]
    public var responsesAfterAppend: [TicketedResponse]
    /// Set for TxnOffsetCommit: the records must be appended as a transactional batch of this
    /// producer (producer id and epoch, transactional attribute), so that a replay routes them to
    /// `GroupCoordinator.replayTransactional` and the transaction's marker decides their fate.
    public var transactionalProducer: TransactionalProducer?

    public init(
        records: [CoordinatorRecord],
        responsesAfterAppend: [TicketedResponse] = [],
        transactionalProducer: TransactionalProducer? = nil
    ) {
        self.records = records
        self.responsesAfterAppend = responsesAfterAppend
        self.transactionalProducer = transactionalProducer
    }
}

/// What a timer is for. At most one timer per key exists: scheduling a key again replaces it.
public enum TimerKey: Hashable, Sendable, CustomStringConvertible {
    /// The member is removed (and the group rebalances) if it is not heard from by then.
    case session(groupId: String, memberId: String)
    /// The end of the delay an empty group waits for more members before completing its first join.
    case initialRebalanceDelay(groupId: String)
    /// The end of the join phase: members that have not rejoined by then are removed.
    case rebalanceTimeout(groupId: String)
    /// The end of the sync phase: members that have not sent SyncGroup by then are removed.
    case syncTimeout(groupId: String)

    public var groupId: String {
        switch self {
        case .session(let groupId, _), .initialRebalanceDelay(let groupId), .rebalanceTimeout(let groupId),
            .syncTimeout(let groupId):
            groupId
        }
    }

    public var description: String {
        switch self {
        case .session(let groupId, let memberId): "session(\(groupId)/\(memberId))"
        case .initialRebalanceDelay(let groupId): "initialRebalanceDelay(\(groupId))"
        case .rebalanceTimeout(let groupId): "rebalanceTimeout(\(groupId))"
        case .syncTimeout(let groupId): "syncTimeout(\(groupId))"
        }
    }
}

/// A timer change for the runtime to carry out. The runtime calls `GroupCoordinator.timerFired`
/// when a scheduled deadline passes; a timer that fires after being cancelled or rescheduled is
/// recognised as stale and ignored, so the runtime need not win that race.
public enum TimerAction: Hashable, Sendable, CustomStringConvertible {
    /// Fire `key` at `atMs` (the same clock as the `nowMs` arguments), replacing any earlier deadline.
    case schedule(TimerKey, atMs: Int64)
    case cancel(TimerKey)

    public var key: TimerKey {
        switch self {
        case .schedule(let key, _), .cancel(let key): key
        }
    }

    public var description: String {
        switch self {
        case .schedule(let key, let atMs): "schedule(\(key), at: \(atMs))"
        case .cancel(let key): "cancel(\(key))"
        }
    }
}

/// The outcome of one event, in Kafka's `CoordinatorResult(records, response)` shape, extended with
/// deferred responses and timers.
///
/// The runtime carries it out in this order: apply `timers`; send `responses` (they depend on no
/// record of this result); append each of `appends` in order and send its `responsesAfterAppend`
/// once that append is durable. The coordinator's own state already reflects the records.
public struct CoordinatorResult: Hashable, Sendable {
    public var responses: [TicketedResponse]
    public var appends: [CoordinatorAppend]
    public var timers: [TimerAction]

    public init(
        responses: [TicketedResponse] = [],
        appends: [CoordinatorAppend] = [],
        timers: [TimerAction] = []
    ) {
        self.responses = responses
        self.appends = appends
        self.timers = timers
    }

    /// Nothing to do.
    public static let none = CoordinatorResult()

    /// Every response in the result, immediate ones first, with those waiting for an append after.
    public var allResponses: [TicketedResponse] {
        self.responses + self.appends.flatMap(\.responsesAfterAppend)
    }

    mutating func respond(_ ticket: RequestTicket, _ response: CoordinatorResponse) {
        self.responses.append(TicketedResponse(ticket, response))
    }
}

/// A partition of a topic, as committed offsets are keyed.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    public var description: String { "\(self.topic)-\(self.partition)" }
}
