import Logging
import TernStorage
import TernWire

/// CreatePartitions, DeleteRecords and DescribeCluster: the admin APIs that change a topic's
/// partitions or log start offsets, and the one that describes the (one-node) cluster.
extension Broker {
    func createPartitions(_ request: CreatePartitionsRequest, origin: RequestOrigin) -> CreatePartitionsResponse {
        CreatePartitionsResponse(
            results: request.topics.map { topic in
                func failure(_ code: KafkaErrorCode, _ message: String)
                    -> CreatePartitionsResponse
                    .CreatePartitionsTopicResult
                {
                    .init(name: topic.name, errorCode: code, errorMessage: message)
                }
                // Kafka answers every occurrence of a duplicated topic with INVALID_REQUEST.
                if request.topics.filter({ $0.name == topic.name }).count > 1 {
                    return failure(.invalidRequest, "Duplicate topic name.")
                }
                guard self.isAllowed(origin, .alter, .topic, topic.name) else {
                    return failure(.topicAuthorizationFailed, "Authorization failed.")
                }
                if Self.isInternalTopic(topic.name) {
                    return failure(
                        .invalidRequest,
                        "the partition count of \(topic.name) cannot change: its coordinator places keys by it"
                    )
                }
                guard let current = self.logs.topic(topic.name) else {
                    return failure(.unknownTopicOrPartition, "This server does not host this topic-partition.")
                }
                if topic.count == current.partitionCount {
                    return failure(.invalidPartitions, "Topic already has \(current.partitionCount) partition(s).")
                }
                if topic.count < current.partitionCount {
                    return failure(
                        .invalidPartitions,
                        "The topic \(topic.name) currently has \(current.partitionCount) partition(s); "
                            + "\(topic.count) would not be an increase."
                    )
                }
                if let assignments = topic.assignments {
                    let added = topic.count - current.partitionCount
                    guard assignments.count == added else {
                        return failure(
                            .invalidReplicaAssignment,
                            "Attempted to add \(added) additional partition(s), but only "
                                + "\(assignments.count) assignment(s) were specified."
                        )
                    }
                    let node = self.configuration.nodeId
                    for assignment in assignments where assignment.brokerIds != [node] {
                        return failure(
                            .invalidReplicaAssignment,
                            "replica assignment \(assignment.brokerIds) is not [\(node)]: this node is the only broker"
                        )
                    }
                }
                guard !request.validateOnly else { return .init(name: topic.name) }
                do throws(StorageError) {
                    try self.logs.addPartitions(topic.name, partitionCount: topic.count)
                    self.logger.info(
                        "added partitions",
                        metadata: [
                            "topic": "\(topic.name)", "from": "\(current.partitionCount)", "to": "\(topic.count)",
                        ]
                    )
                    return .init(name: topic.name)
                } catch {
                    return failure(error.kafkaErrorCode, error.message)
                }
            }
        )
    }

    func deleteRecords(_ request: DeleteRecordsRequest, origin: RequestOrigin) -> DeleteRecordsResponse {
        DeleteRecordsResponse(
            topics: request.topics.map { topic in
                let allowed = self.isAllowed(origin, .delete, .topic, topic.name)
                return .init(
                    name: topic.name,
                    partitions: topic.partitions.map { partition in
                        func failure(_ code: KafkaErrorCode) -> DeleteRecordsResponse.DeleteRecordsPartitionResult {
                            .init(partitionIndex: partition.partitionIndex, lowWatermark: -1, errorCode: code)
                        }
                        guard allowed else { return failure(.topicAuthorizationFailed) }
                        // As Kafka's ReplicaManager: the records of internal topics stay.
                        if Self.isInternalTopic(topic.name) {
                            return failure(.invalidTopicException)
                        }
                        guard let log = self.logs.partition(topic: topic.name, index: partition.partitionIndex) else {
                            return failure(.unknownTopicOrPartition)
                        }
                        // -1 means the high watermark.
                        let offset = partition.offset == -1 ? log.highWatermark : partition.offset
                        do throws(StorageError) {
                            try log.deleteRecords(before: offset)
                        } catch {
                            return failure(error.kafkaErrorCode)
                        }
                        return .init(partitionIndex: partition.partitionIndex, lowWatermark: log.logStartOffset)
                    }
                )
            }
        )
    }

    /// The cluster operations Kafka reports without an authorizer (every operation a cluster
    /// resource supports): CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS,
    /// ALTER_CONFIGS, IDEMPOTENT_WRITE, as bits of their ACL operation codes.
    static let clusterAuthorizedOperations: Int32 = [5, 7, 8, 9, 10, 11, 12].reduce(0) { $0 | (1 << $1) }

    /// This node is the cluster's only broker and its controller. Like a Kafka broker, it answers
    /// only for brokers (endpoint type 1): asked for controllers it answers MISMATCHED_ENDPOINT_TYPE,
    /// for an unknown type UNSUPPORTED_ENDPOINT_TYPE (v0 cannot ask for either: INVALID_REQUEST).
    func describeCluster(
        _ request: DescribeClusterRequest,
        version: Int16,
        advertised: AdvertisedEndpoint
    ) -> DescribeClusterResponse {
        let brokers: Int8 = 1
        let controllers: Int8 = 2
        if request.endpointType != brokers {
            let known = request.endpointType == controllers
            return DescribeClusterResponse(
                errorCode: version == 0
                    ? .invalidRequest : (known ? .mismatchedEndpointType : .unsupportedEndpointType),
                errorMessage: known
                    ? "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER"
                    : "Unsupported endpoint type \(request.endpointType)",
                clusterId: "",
                controllerId: -1,
                brokers: []
            )
        }
        return DescribeClusterResponse(
            endpointType: brokers,
            clusterId: self.configuration.clusterId,
            controllerId: self.configuration.nodeId,
            brokers: [
                .init(
                    brokerId: self.configuration.nodeId,
                    host: advertised.host,
                    port: advertised.port,
                    rack: nil
                )
            ],
            clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
                ? Self.clusterAuthorizedOperations : Int32.min
        )
    }
}
