import NIOCore
import TernRecords
import TernStorage
import TernWire
import Testing

@testable import TernBroker

/// Every request handler against the authorizer: for each request, alice (a certificate's user)
/// is refused without the ACL the request needs, served with it — as a literal or a prefixed
/// pattern —, refused again once a DENY for the same operation is added (deny wins), while the
/// super user is served throughout. `allow.everyone.if.no.acl.found` is false.
@Suite struct AclMatrixTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        /// What the request needs, beyond the ACLs every row has (DESCRIBE on the cluster).
        var needs: [(AclResourceType, String, AclOperation)]
        var deniedCode: KafkaErrorCode
        var testDescription: String { self.name }
    }

    static let rows: [Row] = [
        Row(name: "Produce", needs: [(.topic, "t", .write)], deniedCode: .topicAuthorizationFailed),
        Row(name: "Fetch", needs: [(.topic, "t", .read)], deniedCode: .topicAuthorizationFailed),
        Row(name: "ListOffsets", needs: [(.topic, "t", .describe)], deniedCode: .topicAuthorizationFailed),
        Row(name: "Metadata", needs: [(.topic, "t", .describe)], deniedCode: .topicAuthorizationFailed),
        Row(name: "DescribeConfigs", needs: [(.topic, "t", .describeConfigs)], deniedCode: .topicAuthorizationFailed),
        Row(
            name: "IncrementalAlterConfigs",
            needs: [(.topic, "t", .alterConfigs)],
            deniedCode: .topicAuthorizationFailed
        ),
        Row(name: "DeleteRecords", needs: [(.topic, "t", .delete)], deniedCode: .topicAuthorizationFailed),
        Row(name: "CreateTopics", needs: [(.topic, "t-new", .create)], deniedCode: .topicAuthorizationFailed),
        Row(
            name: "OffsetCommit",
            needs: [(.group, "g", .read), (.topic, "t", .read)],
            deniedCode: .groupAuthorizationFailed
        ),
        Row(
            name: "OffsetFetch",
            needs: [(.group, "g", .describe), (.topic, "t", .describe)],
            deniedCode: .groupAuthorizationFailed
        ),
        Row(name: "DescribeGroups", needs: [(.group, "g", .describe)], deniedCode: .groupAuthorizationFailed),
        Row(
            name: "InitProducerId (transactional)",
            needs: [(.transactionalId, "tx", .write)],
            deniedCode: .transactionalIdAuthorizationFailed
        ),
        Row(
            name: "DescribeAcls",
            needs: [(.cluster, "kafka-cluster", .describe)],
            deniedCode: .clusterAuthorizationFailed
        ),
    ]

    /// Sends `row`'s request as `user` and returns its (first) error code.
    static func send(_ row: Row, as user: String, to broker: Broker) async throws -> KafkaErrorCode? {
        switch row.name {
        case "Produce":
            var builder = RecordBatchBuilder()
            builder.append(key: nil, value: ByteBuffer(string: "v"), timestampMs: 1_700_000_000_000)
            let request = ProduceRequest(
                acks: 1,
                timeoutMs: 1000,
                topicData: [.init(name: "t", partitionData: [.init(index: 0, records: try builder.build())])]
            )
            return try await roundTrip(broker, request, version: 8, as: user)?.responses.first?.partitionResponses
                .first?
                .errorCode
        case "Fetch":
            let request = FetchRequest(
                maxWaitMs: 0,
                minBytes: 0,
                topics: [
                    .init(topic: "t", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])
                ]
            )
            return try await roundTrip(broker, request, version: 11, as: user)?.responses.first?.partitions.first?
                .errorCode
        case "ListOffsets":
            let request = ListOffsetsRequest(
                replicaId: -1,
                topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, timestamp: -1)])]
            )
            return try await roundTrip(broker, request, version: 5, as: user)?.topics.first?.partitions.first?.errorCode
        case "Metadata":
            let request = MetadataRequest(topics: [.init(name: "t")], allowAutoTopicCreation: false)
            return try await roundTrip(broker, request, version: 9, as: user)?.topics.first?.errorCode
        case "DescribeConfigs":
            let request = DescribeConfigsRequest(resources: [
                .init(resourceType: .topic, resourceName: "t", configurationKeys: nil)
            ])
            return try await roundTrip(broker, request, version: 4, as: user)?.results.first?.errorCode
        case "IncrementalAlterConfigs":
            let request = IncrementalAlterConfigsRequest(resources: [
                .init(
                    resourceType: .topic,
                    resourceName: "t",
                    configs: [.init(name: "retention.ms", configOperation: 0, value: "86400000")]
                )
            ])
            return try await roundTrip(broker, request, version: 1, as: user)?.responses.first?.errorCode
        case "DeleteRecords":
            let request = DeleteRecordsRequest(
                topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, offset: 0)])],
                timeoutMs: 1000
            )
            return try await roundTrip(broker, request, version: 2, as: user)?.topics.first?.partitions.first?.errorCode
        case "CreateTopics":
            let request = CreateTopicsRequest(
                topics: [.init(name: "t-new", numPartitions: 1, replicationFactor: 1)],
                validateOnly: true
            )
            return try await roundTrip(broker, request, version: 5, as: user)?.topics.first?.errorCode
        case "OffsetCommit":
            let request = OffsetCommitRequest(
                groupId: "g",
                generationIdOrMemberEpoch: -1,
                memberId: "",
                topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 1)])]
            )
            let response = try await roundTrip(broker, request, version: 8, as: user)
            return response?.topics.first?.partitions.first?.errorCode
        case "OffsetFetch":
            let request = OffsetFetchRequest(groupId: "g", topics: [.init(name: "t", partitionIndexes: [0])])
            let response = try await roundTrip(broker, request, version: 5, as: user)
            guard let response else { return nil }
            return response.errorCode != .none ? response.errorCode : response.topics.first?.partitions.first?.errorCode
        case "DescribeGroups":
            let request = DescribeGroupsRequest(groups: ["g"])
            return try await roundTrip(broker, request, version: 5, as: user)?.groups.first?.errorCode
        case "InitProducerId (transactional)":
            let request = InitProducerIdRequest(transactionalId: "tx", transactionTimeoutMs: 60_000)
            return try await roundTrip(broker, request, version: 4, as: user)?.errorCode
        case "DescribeAcls":
            let request = DescribeAclsRequest(
                resourceTypeFilter: AclResourceType.any.rawValue,
                patternTypeFilter: AclPatternType.any.rawValue,
                operation: AclOperation.any.rawValue,
                permissionType: AclPermission.any.rawValue
            )
            return try await roundTrip(broker, request, version: 2, as: user)?.errorCode
        default:
            preconditionFailure("no request for \(row.name)")
        }
    }

    static func binding(
        _ need: (AclResourceType, String, AclOperation),
        _ permission: AclPermission,
        prefixed: Bool
    ) -> CreateAclsRequest.AclCreation {
        let (type, name, operation) = need
        // A prefixed pattern of the name's first character (the cluster has only the literal).
        let usePrefix = prefixed && type != .cluster
        return .init(
            resourceType: type.rawValue,
            resourceName: usePrefix ? String(name.prefix(1)) : name,
            resourcePatternType: (usePrefix ? AclPatternType.prefixed : .literal).rawValue,
            principal: "User:alice",
            host: "*",
            operation: operation.rawValue,
            permissionType: permission.rawValue
        )
    }

    @Test(arguments: Self.rows, [false, true])
    func aclsDecideEveryRequest(row: Row, prefixed: Bool) async throws {
        var configuration = BrokerConfiguration()
        configuration.authorizer = Authorizer(superUsers: ["User:admin"])
        let broker = try await makeBroker(configuration: configuration)
        let created = try await roundTrip(
            broker,
            CreateTopicsRequest(topics: [.init(name: "t", numPartitions: 1, replicationFactor: 1)]),
            version: 5,
            as: "admin"
        )
        #expect(created?.topics.map(\.errorCode) == [KafkaErrorCode.none])
        func grant(_ permission: AclPermission) async throws {
            let creations = row.needs.map { Self.binding($0, permission, prefixed: prefixed) }
            let answer = try await roundTrip(broker, CreateAclsRequest(creations: creations), version: 2, as: "admin")
            #expect(answer?.results.allSatisfy { $0.errorCode == .none } == true)
        }
        let refused = try await Self.send(row, as: "alice", to: broker)
        #expect(refused == row.deniedCode, "\(row.name) without an ACL")
        #expect(try await Self.send(row, as: "admin", to: broker) != row.deniedCode, "\(row.name) as the super user")
        try await grant(.allow)
        let allowed = try await Self.send(row, as: "alice", to: broker)
        #expect(allowed != nil && allowed != row.deniedCode, "\(row.name) with its ACL: \(String(describing: allowed))")
        try await grant(.deny)
        #expect(try await Self.send(row, as: "alice", to: broker) == row.deniedCode, "\(row.name): deny wins")
    }
    /// A principal without DESCRIBE sees no topic names in an all-topics Metadata, and nothing of
    /// a topic it may not read.
    @Test func anUnauthorizedPrincipalSeesNoTopicNames() async throws {
        var configuration = BrokerConfiguration()
        configuration.authorizer = Authorizer(superUsers: ["User:admin"])
        let broker = try await makeBroker(configuration: configuration)
        _ = try await roundTrip(
            broker,
            CreateTopicsRequest(topics: ["t", "u"].map { .init(name: $0, numPartitions: 1, replicationFactor: 1) }),
            version: 5,
            as: "admin"
        )
        let everything = MetadataRequest(topics: nil)
        #expect(try await roundTrip(broker, everything, version: 9, as: "alice")?.topics.compactMap(\.name) == [])
        #expect(
            try await roundTrip(broker, everything, version: 9, as: "admin")?.topics.compactMap(\.name).filter {
                !$0.hasPrefix("__")
            }.sorted() == ["t", "u"]
        )
        let describe = CreateAclsRequest(creations: [
            .init(
                resourceType: AclResourceType.topic.rawValue,
                resourceName: "u",
                resourcePatternType: AclPatternType.literal.rawValue,
                principal: "User:alice",
                host: "*",
                operation: AclOperation.describe.rawValue,
                permissionType: AclPermission.allow.rawValue
            )
        ])
        _ = try await roundTrip(broker, describe, version: 2, as: "admin")
        #expect(try await roundTrip(broker, everything, version: 9, as: "alice")?.topics.compactMap(\.name) == ["u"])
        // DESCRIBE is not READ: the records stay out of reach.
        let fetch = FetchRequest(
            maxWaitMs: 0,
            minBytes: 0,
            topics: [.init(topic: "u", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])]
        )
        let answer = try await roundTrip(broker, fetch, version: 11, as: "alice")
        #expect(answer?.responses.first?.partitions.first?.errorCode == .topicAuthorizationFailed)
    }
}
