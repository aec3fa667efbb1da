import TernCoordinator
import TernStorage
import TernWire

/// One consumer group as the metrics exporter shows it.
public struct GroupStatistics: Sendable, Hashable {
    public struct CommittedOffset: Sendable, Hashable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64

        public init(topic: String, partition: Int32, offset: Int64) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }
    }

    public var groupId: String
    /// Kafka's state name: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead.
    public var state: String
    public var memberCount: Int
    public var generation: Int32
    public var committedOffsets: [CommittedOffset]

    public init(
        groupId: String,
        state: String,
        memberCount: Int,
        generation: Int32,
        committedOffsets: [CommittedOffset]
    ) {
        self.groupId = groupId
        self.state = state
        self.memberCount = memberCount
        self.generation = generation
        self.committedOffsets = committedOffsets
    }
}

extension Broker {
    /// Every group with its members and committed offsets, read under the coordinator's lock in
    /// one pass (a scrape, not a request path).
    public func groupStatistics() -> [GroupStatistics] {
        self.groups.read { coordinator in
            coordinator.listGroups().groups.map { listed in
                let groupId = listed.groupId
                let committed = coordinator.committedOffsets(ofGroup: groupId).map { partition, value in
                    GroupStatistics.CommittedOffset(
                        topic: partition.topic,
                        partition: partition.partition,
                        offset: value.offset
                    )
                }
                return GroupStatistics(
                    groupId: groupId,
                    state: coordinator.state(ofGroup: groupId)?.rawValue ?? "Dead",
                    memberCount: coordinator.members(ofGroup: groupId).count,
                    generation: coordinator.generation(ofGroup: groupId) ?? 0,
                    committedOffsets: committed.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
                )
            }
        }
    }

    /// The partition logs' offsets, sizes and segment counts.
    public func partitionStatistics() -> [PartitionStatistics] {
        self.logs.partitionStatistics
    }
}
