import NIOCore
import TernWire

/// A consumer-group partition assignment strategy of the classic ("consumer" protocol type) group
/// protocol. A value, so configurations can list the ones a consumer offers, in preference order:
/// `[.range, .roundRobin, .sticky]`. The group coordinator picks one strategy every member offers,
/// and the leader runs it over all members' subscriptions.
///
/// The three strategies reproduce the Java client's `RangeAssignor`, `RoundRobinAssignor` and
/// (eager) `StickyAssignor`, including their member and partition ordering, so a group that mixes
/// Tern, Java, librdkafka and kafka-python consumers gets the same split whichever member leads.
/// Rack-aware placement is not done: it needs replica racks, and brokers that report none (ternd)
/// make the Java assignors skip it too.
public struct PartitionAssignor: Sendable, Hashable, CustomStringConvertible {
    enum Strategy: String, Sendable, Hashable, CaseIterable {
        case range
        case roundRobin = "roundrobin"
        case sticky
    }

    let strategy: Strategy

    /// Per topic, consecutive ranges of partitions; the first members (by `group.instance.id`, then
    /// member id) get one extra when the count does not divide.
    public static let range = PartitionAssignor(strategy: .range)
    /// All partitions, sorted by topic and partition, dealt to the sorted members in turn, skipping
    /// members that are not subscribed to the partition's topic.
    public static let roundRobin = PartitionAssignor(strategy: .roundRobin)
    /// Balanced first, then as few moves as possible from the previous assignment, which each member
    /// reports in its subscription's user data (eager protocol: members still revoke everything
    /// before rejoining).
    public static let sticky = PartitionAssignor(strategy: .sticky)

    /// Every strategy Tern implements.
    public static let all: [PartitionAssignor] = Strategy.allCases.map(PartitionAssignor.init(strategy:))

    /// The protocol name in JoinGroup (`range`, `roundrobin`, `sticky`), as every Kafka client names it.
    public var name: String { self.strategy.rawValue }

    public var description: String { self.name }

    init(strategy: Strategy) {
        self.strategy = strategy
    }

    /// The assignor with this JoinGroup protocol name, e.g. the one the coordinator chose; nil for a
    /// strategy Tern does not implement (such as `cooperative-sticky`).
    public init?(name: String) {
        guard let strategy = Strategy(rawValue: name) else { return nil }
        self.strategy = strategy
    }

    /// The member's JoinGroup metadata for this protocol.
    ///
    /// - Parameters:
    ///   - topics: the topics the member subscribes to.
    ///   - currentAssignment: the partitions of the member's last completed assignment.
    ///   - generation: the generation of that assignment, or -1 if the member never had one (then
    ///     the sticky assignor sends no user data, as the Java client does before its first assignment).
    ///
    /// The protocol is eager: a member revokes its partitions before it rejoins, so `ownedPartitions`
    /// stays empty (the Java client sends it empty too); the sticky assignor carries the previous
    /// assignment in its user data instead.
    public func subscription(
        topics: [String],
        currentAssignment: [TopicPartition],
        generation: Int32
    ) -> ConsumerProtocolSubscription {
        var userData: ByteBuffer? = nil
        if self.strategy == .sticky, generation >= 0 {
            userData = StickyAssignorUserData(partitions: currentAssignment, generation: generation).encoded()
        }
        return ConsumerProtocolSubscription(
            topics: topics,
            userData: userData,
            ownedPartitions: [],
            generationId: generation
        )
    }

    /// The leader's side: every member's partitions.
    ///
    /// - Parameters:
    ///   - members: the group's members with their decoded subscriptions, in the order of the
    ///     JoinGroup response (the sticky assignor breaks some ties the way a Java leader's hash map
    ///     would order these members).
    ///   - partitionCounts: partition counts from metadata. Topics missing here, or with no
    ///     partitions, are skipped; topics nobody subscribes to are ignored.
    /// - Returns: member id → partitions, with an entry (possibly empty) for every member.
    public func assign(members: [AssignorMember], partitionCounts: [String: Int32]) -> [String: [TopicPartition]] {
        // Java's subscriptions map keeps one entry per member id, the last one put.
        var unique: [String: AssignorMember] = [:]
        var order: [String] = []
        for member in members {
            if unique.updateValue(member, forKey: member.memberId) == nil { order.append(member.memberId) }
        }
        let members = order.map { unique[$0]! }

        // Like Java's AbstractPartitionAssignor: only subscribed topics that have partitions.
        var counts: [String: Int32] = [:]
        for member in members {
            for topic in member.subscription.topics {
                if let count = partitionCounts[topic], count > 0 { counts[topic] = count }
            }
        }

        switch self.strategy {
        case .range: return RangeAssignor.assign(members: members, partitionCounts: counts)
        case .roundRobin: return RoundRobinAssignor.assign(members: members, partitionCounts: counts)
        case .sticky: return StickyAssignor.assign(members: members, partitionCounts: counts)
        }
    }

    /// What the leader sends a member in SyncGroup: its partitions grouped by topic, topics sorted.
    public static func assignment(of partitions: [TopicPartition]) -> ConsumerProtocolAssignment {
        ConsumerProtocolAssignment(assignedPartitions: partitions.groupedByTopic())
    }
}

/// A group member as the leader sees it in the JoinGroup response.
public struct AssignorMember: Sendable, Hashable {
    public var memberId: String
    /// Static members (KIP-345) sort before dynamic ones, by this id, so they keep their partitions
    /// across restarts that change their member id.
    public var groupInstanceId: String?
    public var subscription: ConsumerProtocolSubscription

    public init(memberId: String, groupInstanceId: String? = nil, subscription: ConsumerProtocolSubscription) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.subscription = subscription
    }

    /// Java's `MemberInfo.compareTo`: static members first, ordered by instance id, then dynamic
    /// members ordered by member id.
    static func javaOrder(_ a: AssignorMember, _ b: AssignorMember) -> Bool {
        switch (a.groupInstanceId, b.groupInstanceId) {
        case (let x?, let y?): return JavaOrder.precedes(x, y)
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return JavaOrder.precedes(a.memberId, b.memberId)
        }
    }
}

extension Sequence<TopicPartition> {
    /// The partitions as consumer-protocol topic entries: topics in Java order, partitions in the
    /// order given.
    func groupedByTopic() -> [ConsumerProtocolAssignment.TopicPartition] {
        var byTopic: [String: [Int32]] = [:]
        for tp in self { byTopic[tp.topic, default: []].append(tp.partition) }
        return byTopic.keys.sorted(by: JavaOrder.precedes).map {
            ConsumerProtocolAssignment.TopicPartition(topic: $0, partitions: byTopic[$0]!)
        }
    }
}

extension ConsumerProtocolAssignment {
    /// The assigned partitions, flattened.
    public var topicPartitions: [TernClient.TopicPartition] {
        self.assignedPartitions.flatMap { entry in
            entry.partitions.map { TernClient.TopicPartition(topic: entry.topic, partition: $0) }
        }
    }
}
