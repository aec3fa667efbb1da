import Logging
import Synchronization

/// Connects a group-mode consumer to `GroupMembership`: assignments and revocations from the group
/// become changes of the consumer's fetch state; commits go through the member's generation.
final class GroupMembershipDriver: Sendable {
    private let membership: GroupMembership
    private let consumer: ConsumerSlot

    /// The consumer is created after its driver; events before it is set are impossible (the
    /// membership runs only once `run(consumer:)` is called).
    final class ConsumerSlot: Sendable {
        let core = Mutex<ConsumerCore?>(nil)
    }

    init(
        groupId: String,
        topics: [String],
        configuration: ConsumerConfiguration,
        cluster: Cluster,
        logger: Logger
    ) throws {
        guard !configuration.assignors.isEmpty else {
            throw TernClientError(.invalidConfiguration, "a group consumer needs at least one assignor")
        }
        var group = GroupMembershipConfiguration(groupId: groupId, topics: topics, assignors: configuration.assignors)
        group.sessionTimeout = configuration.sessionTimeout
        group.rebalanceTimeout = configuration.rebalanceTimeout
        group.heartbeatInterval = configuration.heartbeatInterval
        group.metadataCheckInterval = configuration.client.metadataMaxAge
        let consumer = ConsumerSlot()
        self.consumer = consumer
        let autoCommit = configuration.enableAutoCommit
        self.membership = GroupMembership(configuration: group, cluster: cluster, logger: logger) { event in
            guard let core = consumer.core.withLock({ $0 }) else { return }
            switch event {
            case .assigned(let partitions, _):
                core.setAssignment(partitions)
            case .revoked(let partitions):
                // Stop delivering first, then commit how far they were read, while the old
                // generation is still valid.
                let positions = core.revoke(partitions)
                if autoCommit && !positions.isEmpty {
                    do {
                        try await core.commit(positions)
                    } catch {
                        logger.warning("commit before revocation failed", metadata: ["error": "\(error)"])
                    }
                }
            case .failed(let error):
                core.fail(error)
            }
        }
    }

    func run(consumer: ConsumerCore) async {
        self.consumer.core.withLock { $0 = consumer }
        await self.membership.run()
    }

    func commit(_ offsets: [TopicPartition: Int64]) async throws {
        try await self.membership.commit(offsets)
    }

    /// The member id and generation while the member is in a completed generation.
    var identity: (memberId: String, generation: Int32)? { self.membership.identity }

    func leave() async {
        await self.membership.leave()
    }
}

extension ConsumerCore {
    /// Drops the partitions and their buffered records, reports them revoked, and returns their
    /// positions, taken under the same lock so no record is delivered in between.
    func revoke(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        let positions = self.state.withLock { state -> [TopicPartition: Int64] in
            var positions: [TopicPartition: Int64] = [:]
            for partition in partitions {
                if let entry = state.partitions[partition], entry.position >= 0, entry.pendingReset == nil {
                    positions[partition] = entry.position
                }
                state.unassign(partition)
            }
            return positions
        }
        self.events.yield(.revoked(partitions.sorted()))
        return positions
    }
}
