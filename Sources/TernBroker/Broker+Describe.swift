import Logging
import Synchronization
import TernStorage
import TernWire

/// The describe APIs that report what one node knows: its log directory (DescribeLogDirs), its
/// partitions (DescribeTopicPartitions), its idempotent producers (DescribeProducers), and the
/// replication and quota APIs whose one-node answer is "nothing to do" (ListPartitionReassignments,
/// ElectLeaders, DescribeClientQuotas).
extension Broker {
    /// Every operation Kafka supports on a topic (READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE,
    /// DESCRIBE_CONFIGS, ALTER_CONFIGS: 3576), what Kafka answers without an authorizer.
    static let topicAuthorizedOperations: Int32 = [3, 4, 5, 6, 7, 8, 10, 11].reduce(0) { $0 | (1 << $1) }

    /// Kafka's default `max.request.partition.size.limit`: DescribeTopicPartitions never answers more.
    static let describeTopicPartitionsLimit: Int32 = 2000

    /// The partition's leader epoch, as its log records it (0 for a partition that does not exist).
    func leaderEpoch(of partition: TopicPartition) -> Int32 {
        self.logs.partition(topic: partition.topic, index: partition.partition)?.leaderEpoch ?? 0
    }

    /// The coordinators' topics: listed as internal, never produced to, deleted, shrunk or trimmed
    /// by clients (as Kafka).
    static func isInternalTopic(_ name: String) -> Bool {
        name == GroupCoordinatorRuntime.offsetsTopic || name == TransactionCoordinatorRuntime.stateTopic
    }

    // MARK: DescribeLogDirs

    /// One log directory, the data directory. Kafka omits unknown topics and partitions, and
    /// topics none of whose requested partitions exist; null topics means every partition.
    func describeLogDirs(_ request: DescribeLogDirsRequest) -> DescribeLogDirsResponse {
        let wanted: [(topic: String, partitions: [Int32])]
        if let topics = request.topics {
            var merged: [String: Set<Int32>] = [:]
            for topic in topics { merged[topic.topic, default: []].formUnion(topic.partitions) }
            wanted = merged.map { ($0.key, $0.value.sorted()) }
        } else {
            wanted = self.logs.topicNames.compactMap { name in
                self.logs.topic(name).map { (name, Array(0..<$0.partitionCount)) }
            }
        }
        let topics = wanted.sorted { $0.topic < $1.topic }.compactMap {
            topic,
            partitions -> DescribeLogDirsResponse.DescribeLogDirsTopic? in
            let described = partitions.compactMap { index -> DescribeLogDirsResponse.DescribeLogDirsPartition? in
                guard let log = self.logs.partition(topic: topic, index: index) else { return nil }
                // The leader's own log: nothing to catch up on and never a future (moving) replica.
                return .init(partitionIndex: index, partitionSize: log.sizeBytes, offsetLag: 0, isFutureKey: false)
            }
            return described.isEmpty ? nil : .init(name: topic, partitions: described)
        }
        let volume = self.logs.dataDirectoryVolumeSpace
        return DescribeLogDirsResponse(
            results: [
                .init(
                    logDir: self.logs.absoluteDataDirectory,
                    topics: topics,
                    totalBytes: volume?.totalBytes ?? -1,
                    usableBytes: volume?.usableBytes ?? -1
                )
            ]
        )
    }

    // MARK: DescribeTopicPartitions

    /// KIP-966's paginated describe: topics sorted by name from the cursor on, at most
    /// `response_partition_limit` partitions (capped at 2,000, at least 1), and a next cursor
    /// where the answer stopped. An empty topic list means every topic.
    func describeTopicPartitions(
        _ request: DescribeTopicPartitionsRequest,
        origin: RequestOrigin
    ) -> DescribeTopicPartitionsResponse {
        let fetchAll = request.topics.isEmpty
        let cursorTopic = request.cursor?.topicName ?? ""
        // Listing all topics leaves out those the principal may not DESCRIBE.
        let candidates =
            fetchAll
            ? self.logs.topicNames.filter { self.isAllowed(origin, .describe, .topic, $0) } : request.topics.map(\.name)
        let names = Set(candidates.filter { $0 >= cursorTopic }).sorted()

        func refused(_ message: String) -> DescribeTopicPartitionsResponse {
            self.logger.debug("DescribeTopicPartitions refused", metadata: ["reason": "\(message)"])
            return DescribeTopicPartitionsResponse(
                topics: request.topics.map { .init(errorCode: .invalidRequest, name: $0.name, partitions: []) }
            )
        }
        if let cursor = request.cursor {
            if !fetchAll && !names.contains(cursor.topicName) {
                return refused("the topic list must contain the cursor topic \(cursor.topicName)")
            }
            if cursor.partitionIndex < 0 {
                return refused("the cursor partition \(cursor.partitionIndex) is negative")
            }
        }

        var remaining = max(min(Self.describeTopicPartitionsLimit, request.responsePartitionLimit), 1)
        var response = DescribeTopicPartitionsResponse(topics: [])
        let node = self.configuration.nodeId
        for name in names {
            guard remaining > 0 else {
                // The previous topics filled the limit exactly: the next answer starts here.
                response.nextCursor = .init(topicName: name, partitionIndex: 0)
                break
            }
            guard fetchAll || self.isAllowed(origin, .describe, .topic, name) else {
                response.topics.append(
                    .init(errorCode: .topicAuthorizationFailed, name: name, isInternal: false, partitions: [])
                )
                continue
            }
            guard let topic = self.logs.topic(name) else {
                if !fetchAll {
                    let code: KafkaErrorCode =
                        LogManager.isValidTopicName(name) ? .unknownTopicOrPartition : .invalidTopicException
                    response.topics.append(
                        .init(errorCode: code, name: name, isInternal: Self.isInternalTopic(name), partitions: [])
                    )
                }
                continue
            }
            let first = request.cursor.flatMap { $0.topicName == name ? $0.partitionIndex : nil } ?? 0
            // In Int64: a cursor partition near Int32.max must not overflow (it just names no partition).
            let end = Int32(min(Int64(topic.partitionCount), Int64(first) + Int64(remaining)))
            let indexes = first < end ? Array(first..<end) : []
            response.topics.append(
                .init(
                    name: name,
                    topicId: KafkaUUID(topic.topicId),
                    isInternal: Self.isInternalTopic(name),
                    partitions: indexes.map { index in
                        .init(
                            partitionIndex: index,
                            leaderId: node,
                            leaderEpoch: self.leaderEpoch(of: TopicPartition(topic: name, partition: index)),
                            replicaNodes: [node],
                            isrNodes: [node],
                            // One replica is always in sync: no eligible leader replicas exist.
                            eligibleLeaderReplicas: [],
                            lastKnownElr: [],
                            offlineReplicas: []
                        )
                    },
                    topicAuthorizedOperations: Self.topicAuthorizedOperations
                )
            )
            if end < topic.partitionCount {
                response.nextCursor = .init(topicName: name, partitionIndex: end)
                break
            }
            remaining -= Int32(indexes.count)
        }
        return response
    }

    // MARK: DescribeProducers

    /// The idempotent producers each partition has state for, as Kafka's leader reports them
    /// (no transactions: coordinator epoch and transaction start offset are -1).
    func describeProducers(_ request: DescribeProducersRequest, origin: RequestOrigin) -> DescribeProducersResponse {
        DescribeProducersResponse(
            topics: request.topics.map { topic in
                let allowed = self.isAllowed(origin, .read, .topic, topic.name)
                return .init(
                    name: topic.name,
                    partitions: topic.partitionIndexes.map { index in
                        guard allowed else {
                            return .init(
                                partitionIndex: index,
                                errorCode: .topicAuthorizationFailed,
                                errorMessage: "Authorization failed.",
                                activeProducers: []
                            )
                        }
                        guard let log = self.logs.partition(topic: topic.name, index: index) else {
                            return .init(
                                partitionIndex: index,
                                errorCode: .unknownTopicOrPartition,
                                errorMessage: "This server does not host this topic-partition.",
                                activeProducers: []
                            )
                        }
                        let entries = log.producerStates
                        return .init(
                            partitionIndex: index,
                            activeProducers: entries.sorted { $0.key < $1.key }.map { producerId, entry in
                                .init(
                                    producerId: producerId,
                                    producerEpoch: Int32(entry.epoch),
                                    lastSequence: entry.lastSequence,
                                    lastTimestamp: entry.lastTimestampMs,
                                    coordinatorEpoch: entry.coordinatorEpoch,
                                    currentTxnStartOffset: entry.currentTxnFirstOffset ?? -1
                                )
                            }
                        )
                    }
                )
            }
        )
    }

    // MARK: ListPartitionReassignments, ElectLeaders

    /// Nothing is ever reassigned on one node. Kafka's controller leaves unknown topics and
    /// partitions out of the answer without an error, and so does this.
    func listPartitionReassignments(_ request: ListPartitionReassignmentsRequest) -> ListPartitionReassignmentsResponse
    {
        ListPartitionReassignmentsResponse(errorMessage: nil, topics: [])
    }

    /// This node leads every partition already, so a preferred election is not needed, and an
    /// unclean one neither (the partition has a leader): ELECTION_NOT_NEEDED, as Kafka's
    /// controller answers. For all partitions (null topic_partitions) Kafka leaves those out.
    func electLeaders(_ request: ElectLeadersRequest) -> ElectLeadersResponse {
        // 0 = preferred, 1 = unclean; v0 has no field and means preferred.
        guard request.electionType == 0 || request.electionType == 1 else {
            let message = "Unknown election type \(request.electionType)"
            return ElectLeadersResponse(
                errorCode: .invalidRequest,
                replicaElectionResults: (request.topicPartitions ?? []).map { topic in
                    .init(
                        topic: topic.topic,
                        partitionResult: topic.partitions.map {
                            .init(partitionId: $0, errorCode: .invalidRequest, errorMessage: message)
                        }
                    )
                }
            )
        }
        guard let requested = request.topicPartitions else {
            return ElectLeadersResponse(replicaElectionResults: [])
        }
        return ElectLeadersResponse(
            replicaElectionResults: requested.map { topic in
                let partitionCount = self.logs.topic(topic.topic)?.partitionCount
                return .init(
                    topic: topic.topic,
                    partitionResult: topic.partitions.map { index in
                        guard let partitionCount else {
                            return .init(
                                partitionId: index,
                                errorCode: .unknownTopicOrPartition,
                                errorMessage: "No such topic as \(topic.topic)"
                            )
                        }
                        guard index >= 0 && index < partitionCount else {
                            return .init(
                                partitionId: index,
                                errorCode: .unknownTopicOrPartition,
                                errorMessage: "No such partition as \(topic.topic)-\(index)"
                            )
                        }
                        return .init(
                            partitionId: index,
                            errorCode: .electionNotNeeded,
                            errorMessage: "Leader election not needed for topic partition."
                        )
                    }
                )
            }
        )
    }

    // MARK: DescribeClientQuotas

    /// No quotas exist, so every valid filter matches nothing. The filter is checked as Kafka's
    /// quota cache checks it; a bad one gets a top-level error and null entries.
    func describeClientQuotas(_ request: DescribeClientQuotasRequest) -> DescribeClientQuotasResponse {
        func refused(_ code: KafkaErrorCode, _ message: String) -> DescribeClientQuotasResponse {
            DescribeClientQuotasResponse(errorCode: code, errorMessage: message, entries: nil)
        }
        var entityTypes: Set<String> = []
        for component in request.components {
            let entityType = component.entityType
            // 0 = exact name, 1 = default entity, 2 = any specified name.
            guard (0...2).contains(component.matchType) else {
                return refused(.invalidRequest, "Unexpected match type: \(component.matchType)")
            }
            guard !entityTypes.contains(entityType) else {
                return refused(.invalidRequest, "Duplicate \(entityType) filter component entity type")
            }
            guard !entityType.isEmpty else {
                return refused(.invalidRequest, "Unexpected empty filter component entity type")
            }
            guard ["user", "client-id", "ip"].contains(entityType) else {
                return refused(.unsupportedVersion, "Custom entity type \(entityType) not supported")
            }
            entityTypes.insert(entityType)
        }
        if entityTypes.contains("ip") && entityTypes.count > 1 {
            return refused(
                .invalidRequest,
                "Invalid entity filter component combination, IP filter component should not be used with "
                    + "user or clientId filter component."
            )
        }
        return DescribeClientQuotasResponse(errorMessage: nil, entries: [])
    }
}
