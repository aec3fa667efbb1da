import NIOCore
import TernRecords
import TernStorage
import TernWire
import Testing

@testable import TernBroker

/// IncrementalAlterConfigs' operations, AlterConfigs and DescribeConfigs (sources, synonyms,
/// types) on topics and the broker, through the broker's request handling.
@Suite struct ConfigApiTests {
    // MARK: Incremental operations

    struct OperationCase: Sendable, CustomTestStringConvertible {
        var name: String
        var current: [String: String]
        var changes: [IncrementalConfigChange]
        var result: Result<[String: String], ConfigChangeError>
        var testDescription: String { self.name }
    }

    static let operationCases: [OperationCase] = [
        .init(
            name: "set adds and replaces",
            current: ["retention.ms": "1"],
            changes: [
                .init(name: "retention.ms", operation: 0, value: "2"),
                .init(name: "flush.ms", operation: 0, value: "3"),
            ],
            result: .success(["retention.ms": "2", "flush.ms": "3"])
        ),
        .init(
            name: "delete removes the override, and of a missing key is no change",
            current: ["retention.ms": "1"],
            changes: [
                .init(name: "retention.ms", operation: 1, value: nil),
                .init(name: "flush.ms", operation: 1, value: nil),
            ],
            result: .success([:])
        ),
        .init(
            name: "append starts from the inherited value and skips items present",
            current: [:],
            changes: [.init(name: "cleanup.policy", operation: 2, value: "compact,delete")],
            result: .success(["cleanup.policy": "delete,compact"])
        ),
        .init(
            name: "subtract removes items from the override",
            current: ["cleanup.policy": "compact,delete"],
            changes: [.init(name: "cleanup.policy", operation: 3, value: "compact")],
            result: .success(["cleanup.policy": "delete"])
        ),
        .init(
            name: "append to a key that is not a list",
            current: [:],
            changes: [.init(name: "retention.ms", operation: 2, value: "5")],
            result: .failure(.init(.invalidConfig, "config value append is not allowed for config key: retention.ms"))
        ),
        .init(
            name: "subtract from an unknown key",
            current: [:],
            changes: [.init(name: "no.such.key", operation: 3, value: "5")],
            result: .failure(.init(.invalidConfig, "config value subtract is not allowed for config key: no.such.key"))
        ),
        .init(
            name: "a key twice",
            current: [:],
            changes: [
                .init(name: "flush.ms", operation: 0, value: "1"), .init(name: "flush.ms", operation: 1, value: nil),
            ],
            result: .failure(.init(.invalidRequest, "duplicate config key 'flush.ms'"))
        ),
        .init(
            name: "an unknown operation",
            current: [:],
            changes: [.init(name: "flush.ms", operation: 9, value: "1")],
            result: .failure(.init(.invalidRequest, "unknown config operation 9 for 'flush.ms'"))
        ),
        .init(
            name: "set without a value",
            current: [:],
            changes: [.init(name: "flush.ms", operation: 0, value: nil)],
            result: .failure(.init(.invalidRequest, "null value is not supported for 'flush.ms'"))
        ),
    ]

    @Test(arguments: operationCases)
    func incrementalOperations(_ testCase: OperationCase) {
        let result = Result { () throws(ConfigChangeError) in
            try ConfigAlteration.applying(
                testCase.changes,
                to: testCase.current,
                type: { LogConfig.keyCatalogue[$0]?.type },
                inherited: { LogConfig().kafkaProperties[$0] }
            )
        }
        #expect(result == testCase.result)
    }

    // MARK: Through the broker

    private func createTopic(_ broker: Broker, _ name: String, configs: [String: String] = [:]) async throws {
        let response = try await roundTrip(
            broker,
            CreateTopicsRequest(
                topics: [
                    .init(
                        name: name,
                        numPartitions: 1,
                        replicationFactor: 1,
                        configs: configs.map { .init(name: $0.key, value: $0.value) }
                    )
                ],
                timeoutMs: 1000
            ),
            version: 5
        )
        #expect(response?.topics.first?.errorCode == KafkaErrorCode.none)
    }

    private func incremental(
        _ broker: Broker,
        _ type: ConfigResourceType,
        _ name: String,
        _ changes: [(String, Int8, String?)],
        validateOnly: Bool = false
    ) async throws -> IncrementalAlterConfigsResponse.AlterConfigsResourceResponse? {
        try await roundTrip(
            broker,
            IncrementalAlterConfigsRequest(
                resources: [
                    .init(
                        resourceType: type,
                        resourceName: name,
                        configs: changes.map { .init(name: $0.0, configOperation: $0.1, value: $0.2) }
                    )
                ],
                validateOnly: validateOnly
            ),
            version: 1
        )?.responses.first
    }

    private func describe(
        _ broker: Broker,
        _ type: ConfigResourceType,
        _ name: String,
        keys: [String]? = nil,
        version: Int16 = 4
    ) async throws -> DescribeConfigsResponse.DescribeConfigsResult? {
        try await roundTrip(
            broker,
            DescribeConfigsRequest(
                resources: [.init(resourceType: type, resourceName: name, configurationKeys: keys)],
                includeSynonyms: true,
                includeDocumentation: true
            ),
            version: version
        )?.results.first
    }

    @Test func topicSourcesAndSynonymsFollowEveryLayer() async throws {
        var configuration = BrokerConfiguration()
        configuration.staticProperties = ["log.retention.ms": "86400000"]
        configuration.defaultLogConfig.retentionMs = 86_400_000
        let broker = try await makeBroker(configuration: configuration)
        try await self.createTopic(broker, "t")

        func retention() async throws -> DescribeConfigsResponse.DescribeConfigsResourceResult? {
            try await self.describe(broker, .topic, "t", keys: ["retention.ms", "no.such.key"])?.configs.first
        }
        var entry = try #require(try await retention())
        #expect(entry.value == "86400000")
        #expect(entry.configSource == .staticBrokerConfig && !entry.readOnly)
        #expect(
            entry.synonyms.map(\.source) == [
                ConfigSource.staticBrokerConfig.rawValue, ConfigSource.defaultConfig.rawValue,
            ]
        )
        #expect(entry.synonyms.map(\.name) == ["log.retention.ms", "log.retention.ms"])
        #expect(entry.configType == 5)  // LONG
        #expect(entry.documentation?.isEmpty == false)

        #expect(
            try await self.incremental(broker, .broker, "", [("log.retention.ms", 0, "3600000")])?.errorCode
                == KafkaErrorCode.none
        )
        #expect(
            try await self.incremental(broker, .broker, "0", [("log.retention.ms", 0, "7200000")])?.errorCode
                == KafkaErrorCode.none
        )
        #expect(
            try await self.incremental(broker, .topic, "t", [("retention.ms", 0, "1000")])?.errorCode
                == KafkaErrorCode.none
        )
        entry = try #require(try await retention())
        #expect(entry.value == "1000" && entry.configSource == .topicConfig)
        #expect(
            entry.synonyms.map(\.source)
                == [
                    ConfigSource.topicConfig, .dynamicBrokerConfig, .dynamicDefaultBrokerConfig, .staticBrokerConfig,
                    .defaultConfig,
                ].map(\.rawValue)
        )
        #expect(entry.synonyms.map(\.value) == ["1000", "7200000", "3600000", "86400000", "604800000"])

        // Deleting the topic's override: the broker's own dynamic value applies, also live.
        #expect(
            try await self.incremental(broker, .topic, "t", [("retention.ms", 1, nil)])?.errorCode
                == KafkaErrorCode.none
        )
        entry = try #require(try await retention())
        #expect(entry.value == "7200000" && entry.configSource == .dynamicBrokerConfig)
        #expect(broker.logs.partition(topic: "t", index: 0)?.config.retentionMs == 7_200_000)

        // v0 reports no source and no synonyms; is_default still follows the source.
        let v0 = try #require(
            try await self.describe(broker, .topic, "t", keys: ["segment.bytes"], version: 0)?.configs.first
        )
        #expect(v0.isDefault && v0.configSource == .notReported && v0.synonyms.isEmpty)
    }

    @Test func brokerResource() async throws {
        var configuration = BrokerConfiguration()
        configuration.staticProperties = ["port": "9092", "num.partitions": "1"]
        let broker = try await makeBroker(configuration: configuration)
        let all = try #require(try await self.describe(broker, .broker, "0"))
        let byName = Dictionary(uniqueKeysWithValues: all.configs.map { ($0.name, $0) })
        #expect(byName["port"]?.readOnly == true && byName["port"]?.configSource == .staticBrokerConfig)
        #expect(byName["cluster.id"]?.configSource == .defaultConfig && byName["cluster.id"]?.value == "tern-cluster")
        #expect(byName["log.segment.bytes"]?.readOnly == false && byName["log.segment.bytes"]?.value == "1073741824")
        #expect(byName["auto.create.topics.enable"]?.configType == 1)  // BOOLEAN
        #expect(byName["log.cleanup.policy"]?.configType == 7)  // LIST
        #expect(try await self.describe(broker, .broker, "")?.configs.isEmpty == true)

        let other = try #require(try await self.describe(broker, .broker, "7"))
        #expect(other.errorCode == .invalidRequest && other.configs.isEmpty)
        #expect(try await self.describe(broker, .brokerLogger, "0")?.errorCode == .invalidRequest)

        let staticKey = try #require(try await self.incremental(broker, .broker, "0", [("num.partitions", 0, "3")]))
        #expect(staticKey.errorCode == .invalidRequest)
        #expect(staticKey.errorMessage?.contains("Cannot update these configs dynamically: [num.partitions]") == true)
        #expect(
            try await self.incremental(broker, .broker, "0", [("no.such.key", 0, "3")])?.errorCode == .invalidRequest
        )
        #expect(
            try await self.incremental(broker, .broker, "0", [("log.retention.ms", 0, "-7")])?.errorCode
                == .invalidRequest
        )
        #expect(
            try await self.incremental(broker, .broker, "x", [("log.retention.ms", 0, "1")])?.errorCode
                == .invalidRequest
        )
        #expect(
            try await self.incremental(broker, .brokerLogger, "0", [("root", 0, "DEBUG")])?.errorCode == .invalidRequest
        )
        #expect(
            try await self.incremental(broker, .broker, "0", [("log.retention.ms", 2, "1")])?.errorCode
                == .invalidConfig
        )
        #expect(
            try await self.incremental(broker, .broker, "0", [("log.cleanup.policy", 2, "compact")])?.errorCode
                == KafkaErrorCode.none
        )
        #expect(broker.logs.defaultConfig.cleanupPolicy == [.compact, .delete])
        let described = try #require(
            try await self.describe(broker, .broker, "0", keys: ["log.cleanup.policy"])?.configs.first
        )
        #expect(described.value == "delete,compact" && described.configSource == .dynamicBrokerConfig)
    }

    @Test func topicRefusalsAndValidateOnly() async throws {
        let broker = try await makeBroker()
        try await self.createTopic(broker, "t", configs: ["retention.ms": "5000"])
        let cases: [([(String, Int8, String?)], KafkaErrorCode)] = [
            ([("retention.ms", 0, "soon")], .invalidConfig),
            ([("no.such.key", 0, "1")], .invalidConfig),
            ([("retention.ms", 2, "1")], .invalidConfig),
            ([("segment.bytes", 0, "13")], .invalidConfig),
        ]
        for (changes, code) in cases {
            let result = try #require(try await self.incremental(broker, .topic, "t", changes))
            #expect(result.errorCode == code, "\(changes)")
            #expect(result.errorMessage?.isEmpty == false)
        }
        #expect(
            try await self.incremental(broker, .topic, "missing", [("retention.ms", 0, "1")])?.errorCode
                == .unknownTopicOrPartition
        )
        #expect(
            try await self.incremental(broker, .topic, "t", [("retention.ms", 0, "1")], validateOnly: true)?.errorCode
                == KafkaErrorCode.none
        )
        #expect(broker.logs.topic("t")?.configOverrides == ["retention.ms": "5000"])

        // A resource named twice is refused, both times (as Kafka).
        let duplicate = try await roundTrip(
            broker,
            IncrementalAlterConfigsRequest(resources: [
                .init(
                    resourceType: .topic,
                    resourceName: "t",
                    configs: [.init(name: "flush.ms", configOperation: 0, value: "1")]
                ),
                .init(
                    resourceType: .topic,
                    resourceName: "t",
                    configs: [.init(name: "flush.ms", configOperation: 0, value: "2")]
                ),
            ]),
            version: 0
        )
        #expect(duplicate?.responses.map(\.errorCode) == [.invalidRequest, .invalidRequest])
        #expect(broker.logs.topic("t")?.configOverrides == ["retention.ms": "5000"])
    }

    /// AlterConfigs (all its versions) replaces the whole override set; null values are refused.
    @Test(arguments: AlterConfigsRequest.versions)
    func alterConfigsReplacesTheWholeSet(version: Int16) async throws {
        let broker = try await makeBroker()
        try await self.createTopic(broker, "t", configs: ["retention.ms": "5000", "flush.ms": "100"])
        func alter(_ configs: [(String, String?)]) async throws -> KafkaErrorCode? {
            try await roundTrip(
                broker,
                AlterConfigsRequest(resources: [
                    .init(
                        resourceType: .topic,
                        resourceName: "t",
                        configs: configs.map { .init(name: $0.0, value: $0.1) }
                    )
                ]),
                version: version
            )?.responses.first?.errorCode
        }
        #expect(try await alter([("max.message.bytes", "2000")]) == KafkaErrorCode.none)
        #expect(broker.logs.topic("t")?.configOverrides == ["max.message.bytes": "2000"])
        #expect(broker.logs.partition(topic: "t", index: 0)?.config.retentionMs == LogConfig().retentionMs)
        #expect(try await alter([("retention.ms", nil)]) == .invalidRequest)
        #expect(try await alter([("flush.ms", "1"), ("flush.ms", "2")]) == .invalidRequest)
        #expect(broker.logs.topic("t")?.configOverrides == ["max.message.bytes": "2000"])
    }

    /// Dynamic broker configs are stored in the data directory and applied again at the next start.
    @Test func dynamicBrokerConfigsSurviveARestart() async throws {
        let fileSystem = InMemoryFileSystem()
        func open() async throws -> Broker {
            let logs = try await LogManager.open(
                dataDirectory: "/data",
                defaultConfig: LogConfig(),
                fileSystem: fileSystem,
                logger: quietLogger
            )
            return try Broker(configuration: BrokerConfiguration(), logs: logs, logger: quietLogger)
        }
        let first = try await open()
        try await self.createTopic(first, "t")
        #expect(
            try await self.incremental(first, .broker, "0", [("message.max.bytes", 0, "4096")])?.errorCode
                == KafkaErrorCode.none
        )
        #expect(
            try await self.incremental(first, .broker, "", [("log.roll.ms", 0, "60000")])?.errorCode
                == KafkaErrorCode.none
        )
        #expect(first.logs.partition(topic: "t", index: 0)?.config.maxMessageBytes == 4096)
        try await first.logs.close()

        let second = try await open()
        #expect(second.logs.partition(topic: "t", index: 0)?.config.maxMessageBytes == 4096)
        #expect(second.logs.topic("t")?.config.segmentMs == 60_000)
        let entry = try #require(try await self.describe(second, .broker, "", keys: ["log.roll.ms"])?.configs.first)
        #expect(entry.value == "60000" && entry.configSource == .dynamicDefaultBrokerConfig)
        try await second.logs.close()
    }
}
