import NIOCore
import TernWire
import Testing

extension DescribeConfigsRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            resources: [
                Resource(
                    resourceType: .topic,
                    resourceName: "orders",
                    configurationKeys: ["cleanup.policy", "retention.ms"]
                ),
                Resource(resourceType: .broker, resourceName: "1", configurationKeys: nil),
                Resource(resourceType: .brokerLogger, resourceName: "1", configurationKeys: []),
            ],
            includeSynonyms: version >= 1,
            includeDocumentation: version >= 3
        )
    }
}

extension DescribeConfigsResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: 70,
            results: [
                Result(
                    errorCode: .none,
                    errorMessage: nil,
                    resourceType: .topic,
                    resourceName: "orders",
                    configs: [
                        Config(
                            name: "cleanup.policy",
                            value: "compact",
                            readOnly: true,
                            isDefault: version == 0,
                            configSource: version >= 1 ? .topicConfig : .notReported,
                            isSensitive: false,
                            synonyms: version >= 1
                                ? [
                                    Synonym(name: "cleanup.policy", value: "compact", source: .topicConfig),
                                    Synonym(name: "log.cleanup.policy", value: nil, source: .defaultConfig),
                                ] : [],
                            configType: version >= 3 ? 7 : 0,
                            documentation: version >= 3 ? "The cleanup policy." : nil
                        ),
                        Config(
                            name: "sasl.jaas.config",
                            value: nil,
                            readOnly: false,
                            isDefault: false,
                            configSource: version >= 1 ? .staticBrokerConfig : .notReported,
                            isSensitive: true,
                            configType: version >= 3 ? 9 : 0,
                            documentation: nil
                        ),
                    ]
                ),
                Result(
                    errorCode: .unknownTopicOrPartition,
                    errorMessage: "Topic missing does not exist",
                    resourceType: .topic,
                    resourceName: "missing",
                    configs: []
                ),
            ]
        )
    }
}

@Suite struct DescribeConfigsTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(DescribeConfigsRequest.self)
        try expectRoundTripAtEveryVersion(DescribeConfigsResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenDataApis.bodies
        try expectGolden(
            DescribeConfigsRequest(resources: [.init(resourceType: .topic, resourceName: "orders")]),
            version: 0,
            golden["describe_configs_request_v0"]
        )
        try expectGolden(
            DescribeConfigsRequest(
                resources: [
                    .init(resourceType: .topic, resourceName: "orders", configurationKeys: ["cleanup.policy"]),
                    .init(resourceType: .broker, resourceName: "1"),
                ],
                includeSynonyms: true,
                includeDocumentation: true
            ),
            version: 3,
            golden["describe_configs_request_v3"]
        )
        try expectGolden(
            DescribeConfigsResponse(
                results: [
                    .init(
                        resourceType: .topic,
                        resourceName: "orders",
                        configs: [
                            .init(
                                name: "cleanup.policy",
                                value: "delete",
                                readOnly: false,
                                isDefault: true,
                                isSensitive: false
                            )
                        ]
                    )
                ]
            ),
            version: 0,
            golden["describe_configs_response_v0"]
        )
        try expectGolden(
            DescribeConfigsResponse(
                throttleTimeMs: 4,
                results: [
                    .init(
                        resourceType: .topic,
                        resourceName: "orders",
                        configs: [
                            .init(
                                name: "cleanup.policy",
                                value: "compact",
                                readOnly: false,
                                configSource: .topicConfig,
                                isSensitive: false,
                                synonyms: [
                                    .init(name: "cleanup.policy", value: "compact", source: .topicConfig),
                                    .init(name: "log.cleanup.policy", value: "delete", source: .defaultConfig),
                                ],
                                configType: 7,
                                documentation: "The cleanup policy."
                            ),
                            .init(
                                name: "sasl.jaas.config",
                                value: nil,
                                readOnly: true,
                                configSource: .staticBrokerConfig,
                                isSensitive: true,
                                configType: 9
                            ),
                        ]
                    ),
                    .init(
                        errorCode: .unknownTopicOrPartition,
                        errorMessage: "Topic missing does not exist",
                        resourceType: .topic,
                        resourceName: "missing",
                        configs: []
                    ),
                ]
            ),
            version: 3,
            golden["describe_configs_response_v3"]
        )
    }

    /// v0 carries `isDefault` where v1+ carry `configSource` (plus synonyms): the same byte
    /// position, a different meaning. Each reads back as its default in the other version.
    @Test func isDefaultIsVersionZeroOnly() throws {
        let config = DescribeConfigsResponse.Config(
            name: "a",
            value: "b",
            readOnly: false,
            isDefault: true,
            configSource: .defaultConfig,
            isSensitive: false
        )
        let response = DescribeConfigsResponse(
            results: [.init(resourceType: .topic, resourceName: "t", configs: [config])]
        )
        let v0 = try DescribeConfigsResponse.decode(response.encoded(version: 0), version: 0)
        #expect(v0.results[0].configs[0].isDefault)
        #expect(v0.results[0].configs[0].configSource == .notReported)
        let v1 = try DescribeConfigsResponse.decode(response.encoded(version: 1), version: 1)
        #expect(v1.results[0].configs[0].isDefault == false)
        #expect(v1.results[0].configs[0].configSource == .defaultConfig)
        // v1 adds one int8 source and an empty synonyms array (4 bytes) in place of the bool.
        #expect(response.encoded(version: 1).readableBytes == response.encoded(version: 0).readableBytes + 4)
    }

    /// Null configuration keys ask for every key; an empty list asks for none.
    @Test func nullAndEmptyKeysStayDistinct() throws {
        let request = DescribeConfigsRequest.sample(version: 3)
        let decoded = try DescribeConfigsRequest.decode(request.encoded(version: 3), version: 3)
        #expect(decoded.resources[1].configurationKeys == nil)
        #expect(decoded.resources[2].configurationKeys == [])
        #expect(ConfigResourceType(rawValue: 2) == .topic)
        #expect(ConfigSource.dynamicBrokerConfig.description == "DYNAMIC_BROKER_CONFIG")
    }
}
