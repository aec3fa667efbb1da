import Logging
import Synchronization
import TernStorage
import TernWire

extension Broker {
    func metadata(_ request: MetadataRequest, origin: RequestOrigin, advertised: AdvertisedEndpoint) -> MetadataResponse
    {
        let version = origin.apiVersion
        // v0 asks for every topic with an empty list; v1+ with null (and for none with an empty one).
        // v10+ may name a topic by id alone.
        var wanted: [(name: String?, id: KafkaUUID)] = []
        if let topics = request.topics, !(version == 0 && topics.isEmpty) {
            wanted = topics.map { ($0.name, $0.topicId) }
        } else {
            // All topics: those the principal may not DESCRIBE are left out, as Kafka does.
            wanted = self.logs.topicNames.sorted().filter { self.isAllowed(origin, .describe, .topic, $0) }.map {
                ($0, .zero)
            }
        }
        // Before v4 there is no allow_auto_topic_creation field, and Kafka auto-creates for them.
        let mayCreate = self.configuration.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation)
        let topics = wanted.map { entry -> MetadataResponse.MetadataResponseTopic in
            guard let name = entry.name else {
                guard let topic = self.logs.topic(id: TopicId(entry.id)) else {
                    return .init(errorCode: .unknownTopicId, name: nil, topicId: entry.id)
                }
                guard self.isAllowed(origin, .describe, .topic, topic.name) else {
                    return .init(errorCode: .topicAuthorizationFailed, name: nil, topicId: entry.id)
                }
                return self.describeTopic(topic)
            }
            guard self.isAllowed(origin, .describe, .topic, name) else {
                return .init(errorCode: .topicAuthorizationFailed, name: name)
            }
            if self.logs.topic(name) == nil && mayCreate && !self.recentlyDeleted(name)
                && self.mayCreateTopic(origin, name)
            {
                do throws(StorageError) {
                    try self.logs.createTopic(
                        name,
                        partitionCount: self.configuration.defaultPartitionCount,
                        configOverrides: [:]
                    )
                    self.logger.info("auto-created topic", metadata: ["topic": "\(name)"])
                } catch  where error.code == .topicAlreadyExists {
                    // Created concurrently by another request: describe it below.
                } catch {
                    return .init(errorCode: error.kafkaErrorCode, name: name)
                }
            }
            guard let topic = self.logs.topic(name) else {
                let code: KafkaErrorCode =
                    LogManager.isValidTopicName(name) ? .unknownTopicOrPartition : .invalidTopicException
                return .init(errorCode: code, name: name)
            }
            return self.describeTopic(topic)
        }
        return MetadataResponse(
            brokers: [
                .init(
                    nodeId: self.configuration.nodeId,
                    host: advertised.host,
                    port: advertised.port
                )
            ],
            clusterId: self.configuration.clusterId,
            controllerId: self.configuration.nodeId,
            topics: topics,
            // v8–v10 (what librdkafka's describe_cluster asks): as DescribeCluster answers it.
            clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
                ? Self.clusterAuthorizedOperations : Int32.min
        )
    }

    private func describeTopic(_ topic: TopicDescription) -> MetadataResponse.MetadataResponseTopic {
        let node = self.configuration.nodeId
        return .init(
            name: topic.name,
            topicId: KafkaUUID(topic.topicId),
            isInternal: Self.isInternalTopic(topic.name),
            partitions: (0..<topic.partitionCount).map { index in
                .init(
                    partitionIndex: index,
                    leaderId: node,
                    leaderEpoch: self.logs.partition(topic: topic.name, index: index)?.leaderEpoch ?? 0,
                    replicaNodes: [node],
                    isrNodes: [node]
                )
            }
        )
    }

    func createTopics(_ request: CreateTopicsRequest, origin: RequestOrigin) -> CreateTopicsResponse {
        let version = origin.apiVersion
        return CreateTopicsResponse(
            topics: request.topics.map { topic in
                func failure(_ code: KafkaErrorCode, _ message: String) -> CreateTopicsResponse.CreatableTopicResult {
                    .init(name: topic.name, errorCode: code, errorMessage: version >= 1 ? message : nil)
                }
                guard self.mayCreateTopic(origin, topic.name) else {
                    return failure(.topicAuthorizationFailed, "Authorization failed.")
                }
                if request.topics.filter({ $0.name == topic.name }).count > 1 {
                    return failure(.invalidRequest, "topic \(topic.name) appears more than once in the request")
                }
                guard topic.assignments.isEmpty else {
                    return failure(.invalidReplicaAssignment, "manual replica assignment is not supported")
                }
                guard topic.replicationFactor == 1 || topic.replicationFactor == -1 else {
                    return failure(
                        .invalidReplicationFactor,
                        "replication factor \(topic.replicationFactor) is larger than the 1 broker available"
                    )
                }
                let partitionCount =
                    topic.numPartitions == -1 ? self.configuration.defaultPartitionCount : topic.numPartitions
                var overrides: [String: String] = [:]
                for config in topic.configs {
                    guard let value = config.value else {
                        return failure(.invalidConfig, "config \(config.name) has a null value")
                    }
                    overrides[config.name] = value
                }
                do throws(StorageError) {
                    if request.validateOnly {
                        try self.validateNewTopic(
                            topic.name,
                            partitionCount: partitionCount,
                            configOverrides: overrides
                        )
                    } else {
                        try self.logs.createTopic(
                            topic.name,
                            partitionCount: partitionCount,
                            configOverrides: overrides
                        )
                        self.logger.info(
                            "created topic",
                            metadata: ["topic": "\(topic.name)", "partitions": "\(partitionCount)"]
                        )
                    }
                    // v5+ tells what was created; v7+ its id.
                    let created = self.logs.topic(topic.name)
                    return .init(
                        name: topic.name,
                        topicId: created.map { KafkaUUID($0.topicId) } ?? .zero,
                        numPartitions: partitionCount,
                        replicationFactor: 1,
                        configs: (created?.config.kafkaProperties ?? [:]).sorted { $0.key < $1.key }.map { key, value in
                            .init(
                                name: key,
                                value: value,
                                readOnly: false,
                                configSource: overrides[key] != nil ? .topicConfig : .defaultConfig,
                                isSensitive: false
                            )
                        }
                    )
                } catch {
                    return failure(error.kafkaErrorCode, error.message)
                }
            }
        )
    }

    /// The checks `createTopic` makes, without creating anything (CreateTopics' validate_only).
    private func validateNewTopic(
        _ name: String,
        partitionCount: Int32,
        configOverrides: [String: String]
    ) throws(StorageError) {
        guard LogManager.isValidTopicName(name) else {
            throw StorageError(.invalidTopic, "'\(name)' is not a valid topic name (1-249 of [a-zA-Z0-9._-])")
        }
        guard partitionCount >= 1 else {
            throw StorageError(.invalidPartitions, "a topic needs at least one partition, not \(partitionCount)")
        }
        _ = try LogConfig(properties: configOverrides, defaults: self.configuration.defaultLogConfig)
        guard self.logs.topic(name) == nil else {
            throw StorageError(.topicAlreadyExists, "topic '\(name)' already exists")
        }
    }

    func deleteTopics(_ request: DeleteTopicsRequest, origin: RequestOrigin) -> DeleteTopicsResponse {
        let version = origin.apiVersion
        // v6 names topics by name or id in `topics`; earlier versions list names.
        let wanted: [(name: String?, id: KafkaUUID)] =
            version >= 6 ? request.topics.map { ($0.name, $0.topicId) } : request.topicNames.map { ($0, .zero) }
        return DeleteTopicsResponse(
            responses: wanted.map { entry in
                let resolvedName = entry.name ?? self.logs.topic(id: TopicId(entry.id))?.name
                guard let name = resolvedName else {
                    return .init(name: nil, topicId: entry.id, errorCode: .unknownTopicId)
                }
                let topicId = self.logs.topic(name).map { KafkaUUID($0.topicId) } ?? entry.id
                guard self.isAllowed(origin, .delete, .topic, name) else {
                    return .init(name: name, topicId: topicId, errorCode: .topicAuthorizationFailed)
                }
                guard !Self.isInternalTopic(name) else {
                    return .init(name: name, topicId: topicId, errorCode: .invalidTopicException)
                }
                do throws(StorageError) {
                    try self.logs.deleteTopic(name)
                    self.noteDeleted(name)
                    self.fetchSessions.withLock { $0.forgetTopic(name) }
                    self.logger.info("deleted topic", metadata: ["topic": "\(name)"])
                    return .init(name: name, topicId: topicId)
                } catch {
                    return .init(name: name, topicId: topicId, errorCode: error.kafkaErrorCode)
                }
            }
        )
    }
}

extension Broker {
    /// A single node coordinates every group and every transactional id. v4+ asks for several
    /// keys at once and gets one entry per key.
    func findCoordinator(
        _ request: FindCoordinatorRequest,
        origin: RequestOrigin,
        advertised: AdvertisedEndpoint
    ) -> FindCoordinatorResponse {
        let version = origin.apiVersion
        let keyType = request.keyType
        func answer(_ key: String) -> FindCoordinatorResponse.Coordinator {
            let resource: AclResourceType = keyType == 0 ? .group : .transactionalId
            guard self.isAllowed(origin, .describe, resource, key) else {
                return .init(
                    key: key,
                    nodeId: -1,
                    host: "",
                    port: -1,
                    errorCode: keyType == 0 ? .groupAuthorizationFailed : .transactionalIdAuthorizationFailed,
                    errorMessage: "Authorization failed."
                )
            }
            return .init(
                key: key,
                nodeId: self.configuration.nodeId,
                host: advertised.host,
                port: advertised.port
            )
        }
        if version >= 4 {
            return FindCoordinatorResponse(coordinators: request.coordinatorKeys.map(answer))
        }
        let single = answer(request.key)
        return FindCoordinatorResponse(
            errorCode: single.errorCode,
            errorMessage: single.errorMessage,
            nodeId: single.nodeId,
            host: single.host,
            port: single.port
        )
    }

    /// Whether `name` was deleted moments ago: such a topic is not auto-created again by the
    /// Metadata requests that clients still holding it send right after the delete (Kafka's
    /// deletion is asynchronous and answers UNKNOWN_TOPIC_OR_PARTITION meanwhile).
    func recentlyDeleted(_ name: String) -> Bool {
        let now = ContinuousClock.now
        return self.deletedTopics.withLock { deleted in
            deleted = deleted.filter { now - $0.value < Self.deletedTopicGrace }
            return deleted[name] != nil
        }
    }

    func noteDeleted(_ name: String) {
        let now = ContinuousClock.now
        self.deletedTopics.withLock { $0[name] = now }
    }
}

extension TopicId {
    init(_ uuid: KafkaUUID) {
        self.init(high: uuid.mostSignificantBits, low: uuid.leastSignificantBits)
    }
}

extension KafkaUUID {
    init(_ id: TopicId) {
        self.init(mostSignificantBits: id.high, leastSignificantBits: id.low)
    }
}
