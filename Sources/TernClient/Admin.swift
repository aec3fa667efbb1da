public import Logging
import NIOCore
import TernWire

/// Topic, offset and group administration: what people reach for kafka-topics.sh and
/// kafka-consumer-groups.sh for.
///
///     let admin = try Admin(configuration: .init(bootstrapServers: ["localhost:9092"]))
///     try await admin.createTopic("orders", partitions: 6)
///     let ends = try await admin.listOffsets([TopicPartition(topic: "orders", partition: 0)], spec: .latest)
public final class Admin: Sendable {
    public struct ConfigEntry: Hashable, Sendable {
        public var name: String
        public var value: String?
        public var isDefault: Bool
        public var isReadOnly: Bool
        public var isSensitive: Bool
        /// Where the value comes from, as Kafka names it (`TOPIC_CONFIG`, `STATIC_BROKER_CONFIG`,
        /// `DEFAULT_CONFIG`, …); `NOT_REPORTED` from a DescribeConfigs v0 broker.
        public var source: String
    }

    /// One change of `incrementalAlterConfigs` (Kafka's `AlterConfigOp`).
    public enum ConfigChange: Hashable, Sendable {
        /// Set the key's value.
        case set(String, String)
        /// Remove the override: the inherited (broker or default) value applies again.
        case delete(String)
        /// Add items to a list-typed config (e.g. `cleanup.policy`).
        case append(String, String)
        /// Remove items from a list-typed config.
        case subtract(String, String)
    }

    public struct GroupListing: Hashable, Sendable {
        public var groupId: String
        public var protocolType: String
        /// Empty when the broker's ListGroups version does not report states.
        public var state: String
    }

    public struct GroupMember: Hashable, Sendable {
        public var memberId: String
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        /// Decoded from the consumer protocol; empty for other protocol types.
        public var assignment: [TopicPartition]
    }

    public struct GroupDescription: Hashable, Sendable {
        public var groupId: String
        public var state: String
        public var protocolType: String
        public var protocolName: String
        public var members: [GroupMember]
        public var error: KafkaErrorCode
    }

    let cluster: Cluster

    public init(configuration: ClientConfiguration, logger: Logger = Logger(label: "tern.admin")) throws {
        self.cluster = try Cluster(configuration: configuration, logger: logger)
    }

    // MARK: Topics

    /// Creates a topic. Throws `.kafka(.topicAlreadyExists)` if it exists.
    public func createTopic(
        _ name: String,
        partitions: Int32 = 1,
        replicationFactor: Int16 = 1,
        configs: [String: String] = [:],
        validateOnly: Bool = false
    ) async throws {
        let request = CreateTopicsRequest(
            topics: [
                .init(
                    name: name,
                    numPartitions: partitions,
                    replicationFactor: replicationFactor,
                    configs: configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) }
                )
            ],
            timeoutMs: self.cluster.configuration.requestTimeout.wholeMilliseconds,
            validateOnly: validateOnly
        )
        let response = try await self.controller().send(request)
        for topic in response.topics where topic.errorCode != .none {
            let detail = topic.errorMessage.map { " (\($0))" } ?? ""
            throw TernClientError(
                .kafka(topic.errorCode),
                "cannot create topic \"\(topic.name)\": \(topic.errorCode)\(detail)"
            )
        }
        await self.cluster.invalidate(topic: name)
    }

    public func deleteTopics(_ names: [String]) async throws {
        let response = try await self.controller().send(
            DeleteTopicsRequest(
                topicNames: names,
                timeoutMs: self.cluster.configuration.requestTimeout.wholeMilliseconds
            )
        )
        for topic in response.responses {
            // Null only in v6+ responses naming topics by id.
            let name = topic.name ?? ""
            await self.cluster.invalidate(topic: name)
            if topic.errorCode != .none {
                throw TernClientError(
                    .kafka(topic.errorCode),
                    "cannot delete topic \"\(name)\": \(topic.errorCode)"
                )
            }
        }
    }

    /// Grows `topic` to `totalPartitions` partitions (CreatePartitions). Throws
    /// `.kafka(.invalidPartitions)` when that is not more than it has.
    public func createPartitions(_ topic: String, totalPartitions: Int32, validateOnly: Bool = false) async throws {
        let response = try await self.controller().send(
            CreatePartitionsRequest(
                topics: [.init(name: topic, count: totalPartitions, assignments: nil)],
                timeoutMs: self.cluster.configuration.requestTimeout.wholeMilliseconds,
                validateOnly: validateOnly
            )
        )
        await self.cluster.invalidate(topic: topic)
        for result in response.results where result.errorCode != .none {
            let detail = result.errorMessage.map { " (\($0))" } ?? ""
            throw TernClientError(
                .kafka(result.errorCode),
                "cannot add partitions to \"\(result.name)\": \(result.errorCode)\(detail)"
            )
        }
    }

    /// Deletes the records before each partition's offset (-1: its high watermark) and answers
    /// each partition's new log start offset (DeleteRecords, sent to each partition's leader).
    /// Throws the first partition's error.
    public func deleteRecords(_ offsets: [TopicPartition: Int64]) async throws -> [TopicPartition: Int64] {
        let topics = Array(Set(offsets.keys.map(\.topic))).sorted()
        let metadata = try await self.cluster.refreshMetadata(topics: topics, allowAutoCreate: false)
        var byLeader: [Int32: [TopicPartition]] = [:]
        for partition in offsets.keys.sorted() {
            let leader = metadata.topics.first { $0.name == partition.topic }?.partitions
                .first { $0.partition == partition.partition }?.leader
            guard let leader, leader >= 0 else {
                throw TernClientError(.unknownTopicOrPartition, "unknown partition \(partition)")
            }
            byLeader[leader, default: []].append(partition)
        }
        var lowWatermarks: [TopicPartition: Int64] = [:]
        for (leader, partitions) in byLeader.sorted(by: { $0.key < $1.key }) {
            let grouped = Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }
            let response = try await self.cluster.connection(toNode: leader).send(
                DeleteRecordsRequest(
                    topics: grouped.map { topic, partitions in
                        .init(
                            name: topic,
                            partitions: partitions.map { .init(partitionIndex: $0.partition, offset: offsets[$0]!) }
                        )
                    },
                    timeoutMs: self.cluster.configuration.requestTimeout.wholeMilliseconds
                )
            )
            for topic in response.topics {
                for partition in topic.partitions {
                    let tp = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                    guard partition.errorCode == .none else {
                        throw TernClientError(
                            .kafka(partition.errorCode),
                            "cannot delete records of \(tp): \(partition.errorCode)"
                        )
                    }
                    lowWatermarks[tp] = partition.lowWatermark
                }
            }
        }
        return lowWatermarks
    }

    public struct ClusterDescription: Hashable, Sendable {
        public var clusterId: String
        public var controllerId: Int32
        public var brokers: [ClusterMetadata.Broker]
        /// Bits of Kafka's ACL operation codes (3 READ … 12 IDEMPOTENT_WRITE); nil when not asked
        /// for or not reported.
        public var authorizedOperations: Int32?
    }

    /// The cluster id, the controller and the brokers (DescribeCluster).
    public func describeCluster(includeAuthorizedOperations: Bool = false) async throws -> ClusterDescription {
        let response = try await self.cluster.anyConnection().send(
            DescribeClusterRequest(includeClusterAuthorizedOperations: includeAuthorizedOperations)
        )
        guard response.errorCode == .none else {
            let detail = response.errorMessage.map { " (\($0))" } ?? ""
            throw TernClientError(
                .kafka(response.errorCode),
                "cannot describe the cluster: \(response.errorCode)\(detail)"
            )
        }
        return ClusterDescription(
            clusterId: response.clusterId,
            controllerId: response.controllerId,
            brokers: response.brokers.map { .init(nodeId: $0.brokerId, host: $0.host, port: $0.port, rack: $0.rack) }
                .sorted { $0.nodeId < $1.nodeId },
            authorizedOperations: response.clusterAuthorizedOperations == Int32.min
                ? nil : response.clusterAuthorizedOperations
        )
    }

    /// The bytes on disk of each partition's log at its leader (DescribeLogDirs, summed over the
    /// leader's log directories; a replica being moved to another directory is not counted twice).
    /// Partitions without a leader, or that their leader does not report, are absent.
    public func logSizes(of partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        let topics = Array(Set(partitions.map(\.topic))).sorted()
        guard !topics.isEmpty else { return [:] }
        let metadata = try await self.cluster.refreshMetadata(topics: topics, allowAutoCreate: false)
        var byLeader: [Int32: [TopicPartition]] = [:]
        for partition in Set(partitions).sorted() {
            let leader = metadata.topics.first { $0.name == partition.topic }?.partitions
                .first { $0.partition == partition.partition }?.leader
            if let leader, leader >= 0 { byLeader[leader, default: []].append(partition) }
        }
        var sizes: [TopicPartition: Int64] = [:]
        for (leader, led) in byLeader.sorted(by: { $0.key < $1.key }) {
            let grouped = Dictionary(grouping: led, by: \.topic).sorted { $0.key < $1.key }
            let response = try await self.cluster.connection(toNode: leader).send(
                DescribeLogDirsRequest(
                    topics: grouped.map { .init(topic: $0.key, partitions: $0.value.map(\.partition)) }
                )
            )
            guard response.errorCode == .none else {
                throw TernClientError(.kafka(response.errorCode), "cannot describe log dirs: \(response.errorCode)")
            }
            let wanted = Set(led)
            for logDir in response.results where logDir.errorCode == .none {
                for topic in logDir.topics {
                    for partition in topic.partitions where !partition.isFutureKey {
                        let tp = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                        if wanted.contains(tp) { sizes[tp, default: 0] += partition.partitionSize }
                    }
                }
            }
        }
        return sizes
    }

    /// Brokers, controller and topics (nil: every topic). Never auto-creates.
    public func metadata(topics: [String]? = nil) async throws -> ClusterMetadata {
        try await self.cluster.refreshMetadata(topics: topics, allowAutoCreate: false)
    }

    public func describeConfigs(topic: String) async throws -> [ConfigEntry] {
        let response = try await self.cluster.anyConnection().send(
            DescribeConfigsRequest(resources: [
                // nil (not the schema's default, empty): every config of the topic.
                .init(resourceType: .topic, resourceName: topic, configurationKeys: nil)
            ])
        )
        guard let result = response.results.first else {
            throw TernClientError(.protocolError, "DescribeConfigs answered no resource")
        }
        guard result.errorCode == .none else {
            if result.errorCode == .unknownTopicOrPartition {
                throw TernClientError(.unknownTopicOrPartition, "unknown topic \"\(topic)\"")
            }
            throw TernClientError(.kafka(result.errorCode), "DescribeConfigs for \"\(topic)\": \(result.errorCode)")
        }
        return result.configs.map {
            ConfigEntry(
                name: $0.name,
                value: $0.value,
                isDefault: $0.isDefault || $0.configSource == .defaultConfig,
                isReadOnly: $0.readOnly,
                isSensitive: $0.isSensitive,
                source: $0.configSource.description
            )
        }.sorted { $0.name < $1.name }
    }

    /// Changes some of a topic's configs, leaving the others (IncrementalAlterConfigs). The
    /// broker applies all changes or none; throws its error (e.g. `.kafka(.invalidConfig)`).
    public func incrementalAlterConfigs(
        topic: String,
        _ changes: [ConfigChange],
        validateOnly: Bool = false
    ) async throws {
        let configs = changes.map { change -> IncrementalAlterConfigsRequest.AlterableConfig in
            switch change {
            case .set(let name, let value): .init(name: name, configOperation: 0, value: value)
            case .delete(let name): .init(name: name, configOperation: 1, value: nil)
            case .append(let name, let value): .init(name: name, configOperation: 2, value: value)
            case .subtract(let name, let value): .init(name: name, configOperation: 3, value: value)
            }
        }
        let response = try await self.controller().send(
            IncrementalAlterConfigsRequest(
                resources: [.init(resourceType: .topic, resourceName: topic, configs: configs)],
                validateOnly: validateOnly
            )
        )
        guard let result = response.responses.first else {
            throw TernClientError(.protocolError, "IncrementalAlterConfigs answered no resource")
        }
        guard result.errorCode == .none else {
            let detail = result.errorMessage.map { " (\($0))" } ?? ""
            throw TernClientError(
                .kafka(result.errorCode),
                "cannot alter the configs of \"\(topic)\": \(result.errorCode)\(detail)"
            )
        }
    }

    /// Offsets at `spec` (earliest, latest, timestamp, offset or tail) for each partition.
    public func listOffsets(_ partitions: [TopicPartition], spec: OffsetSpec) async throws -> [TopicPartition: Int64] {
        if spec == .stored {
            throw TernClientError(.invalidConfiguration, "stored offsets belong to a group: use fetchOffsets(group:)")
        }
        return try await self.cluster.resolve(Dictionary(uniqueKeysWithValues: partitions.map { ($0, spec) }))
    }

    /// Every partition of a topic.
    public func partitions(of topic: String) async throws -> [TopicPartition] {
        let info = try await self.cluster.topic(topic)
        return (0..<info.partitionCount).map { TopicPartition(topic: topic, partition: $0) }
    }

    // MARK: Groups

    public func listGroups() async throws -> [GroupListing] {
        let metadata = try await self.cluster.refreshMetadata(topics: [])
        var groups: [GroupListing] = []
        for broker in metadata.brokers {
            let response = try await self.cluster.connection(toNode: broker.nodeId).send(ListGroupsRequest())
            guard response.errorCode == .none else {
                throw TernClientError.kafka(response.errorCode, "ListGroups on broker \(broker.nodeId)")
            }
            groups += response.groups.map {
                GroupListing(groupId: $0.groupId, protocolType: $0.protocolType, state: "")
            }
        }
        return groups.sorted { $0.groupId < $1.groupId }
    }

    public func describeGroups(_ ids: [String]) async throws -> [GroupDescription] {
        var descriptions: [GroupDescription] = []
        for id in ids {
            let response = try await self.cluster.sendToCoordinator(.group(id), DescribeGroupsRequest(groups: [id])) {
                $0.groups.first?.errorCode ?? .none
            }
            for group in response.groups {
                descriptions.append(
                    GroupDescription(
                        groupId: group.groupId,
                        state: group.groupState,
                        protocolType: group.protocolType,
                        protocolName: group.protocolData,
                        members: group.members.map { member in
                            var assignment: [TopicPartition] = []
                            if group.protocolType == "consumer", member.memberAssignment.readableBytes > 0,
                                let decoded = try? ConsumerProtocolAssignment.decode(from: member.memberAssignment)
                            {
                                assignment = decoded.assignedPartitions.flatMap { topic in
                                    topic.partitions.map { TopicPartition(topic: topic.topic, partition: $0) }
                                }.sorted()
                            }
                            return GroupMember(
                                memberId: member.memberId,
                                groupInstanceId: member.groupInstanceId,
                                clientId: member.clientId,
                                clientHost: member.clientHost,
                                assignment: assignment
                            )
                        },
                        error: group.errorCode
                    )
                )
            }
        }
        return descriptions
    }

    /// A group's committed offsets (nil: all partitions it committed).
    public func fetchOffsets(group: String, partitions: [TopicPartition]? = nil) async throws -> [TopicPartition: Int64]
    {
        try await self.cluster.fetchCommittedOffsets(group: group, partitions: partitions)
    }

    /// Commits offsets for a group from outside it (reset-offsets). The coordinator refuses it
    /// while the group has members (`UNKNOWN_MEMBER_ID` / `REBALANCE_IN_PROGRESS`).
    public func commitOffsets(group: String, _ offsets: [TopicPartition: Int64]) async throws {
        try await Self.commit(offsets, group: group, generation: -1, memberId: "", cluster: self.cluster)
    }

    /// OffsetCommit through the group's coordinator; per-partition errors throw.
    static func commit(
        _ offsets: [TopicPartition: Int64],
        group: String,
        generation: Int32,
        memberId: String,
        cluster: Cluster
    ) async throws {
        let request = OffsetCommitRequest(
            groupId: group,
            generationIdOrMemberEpoch: generation,
            memberId: memberId,
            topics: Dictionary(grouping: offsets, by: \.key.topic).map { topic, entries in
                OffsetCommitRequest.OffsetCommitRequestTopic(
                    name: topic,
                    partitions: entries.map {
                        OffsetCommitRequest.OffsetCommitRequestPartition(
                            partitionIndex: $0.key.partition,
                            committedOffset: $0.value,
                            committedMetadata: nil  // null (the schema's default is empty)
                        )
                    }.sorted { $0.partitionIndex < $1.partitionIndex }
                )
            }.sorted { $0.name < $1.name }
        )
        let response = try await cluster.sendToCoordinator(.group(group), request) { response in
            // Coordinator moves show up per partition; surface them so the request is retried.
            Cluster.coordinatorMove(in: response.topics.flatMap { $0.partitions.map(\.errorCode) })
        }
        for topic in response.topics {
            for partition in topic.partitions where partition.errorCode != .none {
                throw TernClientError.kafka(
                    partition.errorCode,
                    "commit for \(TopicPartition(topic: topic.name, partition: partition.partitionIndex)) in group \"\(group)\""
                )
            }
        }
    }

    public func deleteGroups(_ ids: [String]) async throws {
        for id in ids {
            let response = try await self.cluster.sendToCoordinator(.group(id), DeleteGroupsRequest(groupsNames: [id]))
            {
                $0.results.first?.errorCode ?? .none
            }
            _ = response
        }
    }

    public func close() async {
        await self.cluster.close()
    }

    // MARK: Helpers

    /// Topic changes go to the controller.
    func controller() async throws -> BrokerConnection {
        let metadata = try await self.cluster.refreshMetadata(topics: [])
        if metadata.controllerId >= 0, metadata.brokers.contains(where: { $0.nodeId == metadata.controllerId }) {
            return try await self.cluster.connection(toNode: metadata.controllerId)
        }
        return try await self.cluster.anyConnection()
    }

}
