public import TernWire

/// What a cluster said about itself in its last Metadata answer.
public struct ClusterMetadata: Sendable {
    public struct Broker: Hashable, Sendable {
        public var nodeId: Int32
        public var host: String
        public var port: Int32
        public var rack: String?
    }

    public struct Partition: Hashable, Sendable {
        public var partition: Int32
        public var leader: Int32
        public var replicas: [Int32]
        public var isr: [Int32]
        public var error: KafkaErrorCode
    }

    public struct Topic: Hashable, Sendable {
        public var name: String
        public var isInternal: Bool
        public var error: KafkaErrorCode
        /// Sorted by partition.
        public var partitions: [Partition]
    }

    public var clusterId: String?
    public var controllerId: Int32
    public var brokers: [Broker]
    /// Sorted by name.
    public var topics: [Topic]

    init(_ response: MetadataResponse) {
        self.clusterId = response.clusterId
        self.controllerId = response.controllerId
        self.brokers = response.brokers
            .map { Broker(nodeId: $0.nodeId, host: $0.host, port: $0.port, rack: $0.rack) }
            .sorted { $0.nodeId < $1.nodeId }
        self.topics = response.topics.map { topic in
            Topic(
                // Null only in v12+ answers about topic ids.
                name: topic.name ?? "",
                isInternal: topic.isInternal,
                error: topic.errorCode,
                partitions: topic.partitions.map {
                    Partition(
                        partition: $0.partitionIndex,
                        leader: $0.leaderId,
                        replicas: $0.replicaNodes,
                        isr: $0.isrNodes,
                        error: $0.errorCode
                    )
                }.sorted { $0.partition < $1.partition }
            )
        }.sorted { $0.name < $1.name }
    }

    public func topic(_ name: String) -> Topic? { self.topics.first { $0.name == name } }
}
