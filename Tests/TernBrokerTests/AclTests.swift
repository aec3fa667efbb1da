import TernWire
import Testing

@testable import TernBroker

@Suite struct AuthorizerTests {
    static let bindings: [AclBinding] = [
        .init(
            resourceType: .topic,
            resourceName: "orders",
            principal: "User:alice",
            operation: .write,
            permission: .allow
        ),
        .init(
            resourceType: .topic,
            resourceName: "pay",
            patternType: .prefixed,
            principal: "User:alice",
            operation: .read,
            permission: .allow
        ),
        .init(
            resourceType: .topic,
            resourceName: "payroll",
            principal: "User:alice",
            operation: .all,
            permission: .deny
        ),
        .init(resourceType: .topic, resourceName: "*", principal: "User:*", operation: .describe, permission: .allow),
        .init(
            resourceType: .group,
            resourceName: "g",
            principal: "User:bob",
            host: "10.0.0.1",
            operation: .read,
            permission: .allow
        ),
        .init(
            resourceType: .topic,
            resourceName: "conf",
            principal: "User:carol",
            operation: .alterConfigs,
            permission: .allow
        ),
    ]

    struct Case: Sendable, CustomTestStringConvertible {
        var principal: String
        var host = "127.0.0.1"
        var operation: AclOperation
        var type: AclResourceType = .topic
        var name: String
        var allowed: Bool
        var testDescription: String { "\(principal) \(operation) \(type):\(name) → \(allowed)" }
    }

    @Test(arguments: [
        Case(principal: "User:alice", operation: .write, name: "orders", allowed: true),
        // WRITE implies DESCRIBE; READ is not granted by WRITE.
        Case(principal: "User:alice", operation: .describe, name: "orders", allowed: true),
        Case(principal: "User:alice", operation: .read, name: "orders", allowed: false),
        Case(principal: "User:alice", operation: .read, name: "payments", allowed: true),
        // A DENY ALL wins over the prefixed ALLOW READ.
        Case(principal: "User:alice", operation: .read, name: "payroll", allowed: false),
        // The wildcard name and principal grant DESCRIBE on every topic, nothing more.
        Case(principal: "User:zed", operation: .describe, name: "anything", allowed: true),
        Case(principal: "User:zed", operation: .write, name: "anything", allowed: false),
        // Host-bound binding.
        Case(principal: "User:bob", host: "10.0.0.1", operation: .read, type: .group, name: "g", allowed: true),
        Case(principal: "User:bob", host: "10.0.0.2", operation: .read, type: .group, name: "g", allowed: false),
        // No binding on the resource at all: denied (allow.everyone.if.no.acl.found=false).
        Case(principal: "User:bob", operation: .read, type: .group, name: "other", allowed: false),
        // ALTER_CONFIGS implies DESCRIBE_CONFIGS.
        Case(principal: "User:carol", operation: .describeConfigs, name: "conf", allowed: true),
        // Super users may do everything.
        Case(principal: "User:admin", operation: .alter, type: .cluster, name: "kafka-cluster", allowed: true),
        Case(principal: "User:alice", operation: .alter, type: .cluster, name: "kafka-cluster", allowed: false),
    ])
    func decides(_ check: Case) {
        let authorizer = Authorizer(superUsers: ["User:admin"])
        #expect(
            authorizer.authorize(
                principal: check.principal,
                host: check.host,
                operation: check.operation,
                resourceType: check.type,
                resourceName: check.name,
                bindings: Self.bindings
            ) == check.allowed
        )
    }

    /// The index the broker looks bindings up in finds exactly the bindings that cover a resource.
    @Test(arguments: [
        (AclResourceType.topic, "orders"), (.topic, "payments"), (.topic, "payroll"), (.topic, "pay"), (.topic, "p"),
        (.topic, "*"), (.topic, "anything"), (.group, "g"), (.group, "orders"), (.cluster, "kafka-cluster"),
    ])
    func theIndexFindsTheBindingsThatCoverAResource(type: AclResourceType, name: String) {
        let extra: [AclBinding] = [
            .init(resourceType: .group, resourceName: "*", principal: "User:x", operation: .read, permission: .allow),
            .init(
                resourceType: .topic,
                resourceName: "p",
                patternType: .prefixed,
                principal: "User:y",
                operation: .write,
                permission: .deny
            ),
        ]
        let bindings = Self.bindings + extra
        let found = AclIndex(bindings).bindings(on: type, name)
        #expect(Set(found) == Set(bindings.filter { $0.covers(type, name) }))
        #expect(found.count == Set(found).count, "a binding found twice")
    }

    @Test func everyoneIsAllowedWithoutAclsWhenConfigured() {
        let open = Authorizer(allowEveryoneIfNoAclFound: true)
        #expect(
            open.authorize(
                principal: "User:x",
                host: "h",
                operation: .read,
                resourceType: .group,
                resourceName: "free",
                bindings: Self.bindings
            )
        )
        // …but a resource with any binding is governed by it.
        #expect(
            !open.authorize(
                principal: "User:x",
                host: "h",
                operation: .write,
                resourceType: .topic,
                resourceName: "orders",
                bindings: Self.bindings
            )
        )
    }

    @Test func filtersMatchAsKafkasDo() throws {
        func filter(_ type: AclResourceType, _ name: String?, _ pattern: AclPatternType) -> AclBindingFilter {
            AclBindingFilter(
                resourceType: type,
                resourceName: name,
                patternType: pattern,
                principal: nil,
                host: nil,
                operation: .any,
                permission: .any
            )
        }
        let matching = { (f: AclBindingFilter) in Self.bindings.filter(f.matches).map(\.resourceName) }
        #expect(matching(filter(.any, nil, .any)).count == Self.bindings.count)
        #expect(matching(filter(.topic, "pay", .literal)) == [])
        #expect(matching(filter(.topic, "pay", .prefixed)) == ["pay"])
        // MATCH: every pattern that applies to the name "payroll".
        #expect(matching(filter(.topic, "payroll", .match)) == ["pay", "payroll", "*"])
        #expect(matching(filter(.group, nil, .any)) == ["g"])
    }

    @Test(arguments: [
        (Int8(2), "t", Int8(3), "alice", Int8(3), Int8(3)),  // principal without a type
        (Int8(4), "other", Int8(3), "User:a", Int8(7), Int8(3)),  // cluster named otherwise
        (Int8(2), "*", Int8(4), "User:a", Int8(3), Int8(3)),  // prefixed wildcard
        (Int8(1), "t", Int8(3), "User:a", Int8(3), Int8(3)),  // ANY resource type
        (Int8(2), "t", Int8(2), "User:a", Int8(3), Int8(3)),  // MATCH pattern in a binding
        (Int8(2), "t", Int8(3), "User:a", Int8(1), Int8(3)),  // ANY operation
        (Int8(2), "t", Int8(3), "User:a", Int8(3), Int8(1)),  // ANY permission
        (Int8(9), "t", Int8(3), "User:a", Int8(3), Int8(3)),  // unknown resource type
    ])
    func badBindingsAreRefused(
        type: Int8,
        name: String,
        pattern: Int8,
        principal: String,
        operation: Int8,
        permission: Int8
    ) {
        let result = AclBinding.validated(
            resourceType: type,
            resourceName: name,
            patternType: pattern,
            principal: principal,
            host: "*",
            operation: operation,
            permission: permission
        )
        guard case .failure = result else {
            Issue.record("accepted \(result)")
            return
        }
    }

    @Test func storedBindingsSurviveAReload() throws {
        final class Box: @unchecked Sendable { var bytes: [UInt8]? }
        let box = Box()
        let files = DataFileAccess(read: { box.bytes }, write: { box.bytes = $0 })
        let store = try AclStore(files: files)
        try store.add(Self.bindings + [Self.bindings[0]])
        #expect(store.all == Self.bindings)
        let removed = try store.remove(matching: [
            AclBindingFilter(
                resourceType: .topic,
                resourceName: nil,
                patternType: .any,
                principal: "User:alice",
                host: nil,
                operation: .any,
                permission: .any
            )
        ])
        #expect(removed[0].count == 3)
        #expect(try AclStore(files: files).all == store.all)
        #expect(store.all.count == 3)
    }
}

/// The topics of OffsetCommit and OffsetFetch are authorized as Kafka does: READ to commit,
/// DESCRIBE to fetch (a named topic refused per partition, an all-topics answer without it).
@Suite struct OffsetTopicAuthorizationTests {
    @Test func offsetCommitAndFetchCheckEachTopic() async throws {
        var configuration = BrokerConfiguration()
        configuration.authorizer = Authorizer(allowEveryoneIfNoAclFound: true)
        let broker = try await makeBroker(configuration: configuration)
        let created = try await roundTrip(
            broker,
            CreateTopicsRequest(
                topics: ["open", "secret"].map { .init(name: $0, numPartitions: 1, replicationFactor: 1) }
            ),
            version: 3
        )
        #expect(created?.topics.map(\.errorCode) == [.none, .none])
        // Anonymous clients may do anything (no ACL found) except touch topic "secret".
        let deny = try await roundTrip(
            broker,
            CreateAclsRequest(creations: [
                .init(
                    resourceType: AclResourceType.topic.rawValue,
                    resourceName: "secret",
                    resourcePatternType: AclPatternType.literal.rawValue,
                    principal: "User:ANONYMOUS",
                    host: "*",
                    operation: AclOperation.all.rawValue,
                    permissionType: AclPermission.deny.rawValue
                )
            ]),
            version: 1
        )
        #expect(deny?.results.map(\.errorCode) == [.none])

        let commit = try #require(
            try await roundTrip(
                broker,
                OffsetCommitRequest(
                    groupId: "g",
                    generationIdOrMemberEpoch: -1,
                    memberId: "",
                    topics: ["open", "secret"].map {
                        .init(name: $0, partitions: [.init(partitionIndex: 0, committedOffset: 5)])
                    }
                ),
                version: 2
            )
        )
        let committed = Dictionary(
            uniqueKeysWithValues: commit.topics.map { ($0.name, $0.partitions.first?.errorCode) }
        )
        #expect(committed == ["open": KafkaErrorCode.none, "secret": .topicAuthorizationFailed])

        let named = try #require(
            try await roundTrip(
                broker,
                OffsetFetchRequest(
                    groupId: "g",
                    topics: ["open", "secret"].map { .init(name: $0, partitionIndexes: [0]) }
                ),
                version: 5
            )
        )
        let fetched = Dictionary(uniqueKeysWithValues: named.topics.map { ($0.name, $0.partitions.first) })
        #expect(fetched["open"]??.committedOffset == 5)
        #expect(fetched["secret"]??.errorCode == .topicAuthorizationFailed)

        let all = try #require(try await roundTrip(broker, OffsetFetchRequest(groupId: "g", topics: nil), version: 5))
        #expect(all.topics.map(\.name) == ["open"])
    }
}
