import TernBroker
import TernStorage
import Testing

@Suite struct BrokerSettingsTests {
    @Test func defaultsAreKafkas() throws {
        let settings = try BrokerSettings.resolve([])
        #expect(settings.dataDirectory == "./tern-data")
        #expect(settings.host == "127.0.0.1" && settings.port == 9092)
        #expect(settings.maximumRequestBytes == 104_857_600)
        #expect(settings.broker.defaultPartitionCount == 1)
        #expect(settings.broker.autoCreateTopics)
        #expect(settings.broker.defaultLogConfig.segmentBytes == 1 << 30)
        #expect(settings.broker.defaultLogConfig.maxMessageBytes == 1_048_588)
    }

    /// Flags beat environment variables, which beat the properties file.
    @Test func layersOverrideInOrder() throws {
        let file = try BrokerSettings.parseProperties(
            """
            # a comment
            ! another
            num.partitions = 3
            port=9000
            log.retention.hours=2
            log.segment.bytes: 1048576
            """
        )
        let environment = BrokerSettings.properties(fromEnvironment: [
            "TERN_PORT": "9100", "TERN_AUTO_CREATE_TOPICS_ENABLE": "false", "PATH": "/bin", "TERN_NOT_A_KEY": "1",
        ])
        let flags = ["port": "9200", "log.dirs": "/srv/tern,/unused"]
        let settings = try BrokerSettings.resolve([file, environment, flags])
        #expect(settings.port == 9200)
        #expect(settings.broker.advertisedPort == 9200)
        #expect(settings.broker.defaultPartitionCount == 3)
        #expect(!settings.broker.autoCreateTopics)
        #expect(settings.dataDirectory == "/srv/tern")
        #expect(settings.broker.defaultLogConfig.retentionMs == 7_200_000)
        #expect(settings.broker.defaultLogConfig.segmentBytes == 1_048_576)
        #expect(try BrokerSettings.resolve([file, environment]).port == 9100)
        #expect(try BrokerSettings.resolve([file]).port == 9000)
    }

    @Test(arguments: [
        ["no.such.setting": "1"], ["num.partitions": "0"], ["port": "many"], ["auto.create.topics.enable": "maybe"],
        ["log.retention.ms": "-5"], ["log.message.timestamp.type": "Whenever"], ["connections.max.idle.ms": "0"],
        ["connections.max.idle.ms": "soon"],
    ])
    func badValuesAreRefusedWithTheirName(properties: [String: String]) {
        let error = #expect(throws: BrokerSettings.Error.self) { try BrokerSettings.resolve([properties]) }
        #expect(error?.description.contains(String(properties.keys.first!.split(separator: ".").last!)) == true)
    }

    /// `connections.max.idle.ms`: Kafka's 10 minutes by default; -1 turns it off; also from
    /// `TERN_CONNECTIONS_MAX_IDLE_MS`.
    @Test func connectionLimits() throws {
        let defaults = try BrokerSettings.resolve([])
        #expect(defaults.maximumConnections == .max && defaults.maximumConnectionsPerAddress == .max)
        let set = try BrokerSettings.resolve([
            [
                "max.connections": "500", "max.connections.per.ip": "20",
                "max.connections.per.ip.overrides": "127.0.0.1:200, ::1:50",
            ]
        ])
        #expect(set.maximumConnections == 500 && set.maximumConnectionsPerAddress == 20)
        #expect(set.connectionsPerAddressOverrides == ["127.0.0.1": 200, "::1": 50])
        for bad in ["127.0.0.1", "127.0.0.1:x", ":5", "127.0.0.1:-1"] {
            #expect(throws: BrokerSettings.Error.self) {
                try BrokerSettings.resolve([["max.connections.per.ip.overrides": bad]])
            }
        }
        #expect(throws: BrokerSettings.Error.self) { try BrokerSettings.resolve([["max.connections": "-1"]]) }
    }

    @Test func connectionsMaxIdleMs() throws {
        #expect(try BrokerSettings.resolve([]).connectionsMaxIdleMs == 600_000)
        #expect(try BrokerSettings.resolve([["connections.max.idle.ms": "-1"]]).connectionsMaxIdleMs == -1)
        let environment = BrokerSettings.properties(fromEnvironment: ["TERN_CONNECTIONS_MAX_IDLE_MS": "1500"])
        #expect(try BrokerSettings.resolve([environment]).connectionsMaxIdleMs == 1500)
    }

    @Test func malformedPropertiesLinesAreRefused() {
        #expect(throws: BrokerSettings.Error.self) { try BrokerSettings.parseProperties("just words") }
    }
}
