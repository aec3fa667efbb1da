import TernStorage
import TernWire

extension Broker {
    /// Kafka's `checkCurrentLeaderEpoch`: a client's current leader epoch (-1: not sent) older than
    /// the partition's is fenced, a newer one is unknown to this broker (its metadata is ahead).
    static func leaderEpochError(requested: Int32, current: Int32) -> KafkaErrorCode? {
        guard requested != LeaderEpochCache.undefinedEpoch else { return nil }
        if requested < current { return .fencedLeaderEpoch }
        if requested > current { return .unknownLeaderEpoch }
        return nil
    }

    /// OffsetForLeaderEpoch (KIP-101, KIP-320): per partition, the end offset of the requested
    /// epoch — where the next higher epoch starts, or the log end offset for the current one —
    /// and the largest epoch at or below it; -1 and -1 for an epoch this log cannot place.
    /// `replica_id` (v3+) only matters to Kafka's authorizer; one node has no followers.
    func offsetForLeaderEpoch(
        _ request: OffsetForLeaderEpochRequest,
        origin: RequestOrigin
    ) -> OffsetForLeaderEpochResponse {
        OffsetForLeaderEpochResponse(
            topics: request.topics.map { topic in
                let allowed = self.isAllowed(origin, .describe, .topic, topic.topic)
                return .init(
                    topic: topic.topic,
                    partitions: topic.partitions.map { partition in
                        let index = partition.partition
                        guard allowed else { return .init(errorCode: .topicAuthorizationFailed, partition: index) }
                        guard let log = self.logs.partition(topic: topic.topic, index: index) else {
                            return .init(errorCode: .unknownTopicOrPartition, partition: index)
                        }
                        if let error = Self.leaderEpochError(
                            requested: partition.currentLeaderEpoch,
                            current: log.leaderEpoch
                        ) {
                            return .init(errorCode: error, partition: index)
                        }
                        let (epoch, endOffset) = log.endOffset(forEpoch: partition.leaderEpoch)
                        return .init(partition: index, leaderEpoch: epoch, endOffset: endOffset)
                    }
                )
            }
        )
    }
}
