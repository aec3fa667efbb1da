import Logging

/// Runs the consumer's side of the classic group protocol. Placeholder until the group
/// membership component lands: group mode is refused at init.
final class GroupMembershipDriver: Sendable {
    init(groupId: String, topics: [String], configuration: ConsumerConfiguration, cluster: Cluster, logger: Logger)
        throws
    {
        throw TernClientError(.invalidConfiguration, "group mode is not available yet")
    }

    func run(consumer: ConsumerCore) async {}
    func commit(_ offsets: [TopicPartition: Int64]) async throws {}
    func leave() async {}
}
