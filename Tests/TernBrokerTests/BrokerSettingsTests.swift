import TernCoordinator
import TernStorage
import TernTransactions
import Testing

@testable import TernBroker

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

    /// Every key DescribeConfigs documents can be set (a key missing from the recognised ones was
    /// refused in a properties file and its TERN_ variable ignored).
    @Test func everyDocumentedKeyIsRecognised() throws {
        #expect(Set(BrokerSettings.staticKeyCatalogue.keys).subtracting(BrokerSettings.recognisedKeys).isEmpty)
        let environment = BrokerSettings.properties(fromEnvironment: [
            "TERN_OFFSETS_RETENTION_MINUTES": "2", "TERN_OFFSETS_RETENTION_CHECK_INTERVAL_MS": "500",
            "TERN_TRANSACTION_MAX_TIMEOUT_MS": "60000", "TERN_TRANSACTIONAL_ID_EXPIRATION_MS": "70000",
            "TERN_TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS": "250",
        ])
        let broker = try BrokerSettings.resolve([environment]).broker
        #expect(broker.groupCoordinator.offsetsRetentionMs == 120_000)
        #expect(broker.groupCoordinator.offsetsRetentionCheckIntervalMs == 500)
        #expect(broker.transactionCoordinator.transactionMaxTimeoutMs == 60_000)
        #expect(broker.transactionCoordinator.transactionalIdExpirationMs == 70_000)
        #expect(broker.transactionAbortCheckIntervalMs == 250)
        let defaults = try BrokerSettings.resolve([]).broker
        #expect(defaults.groupCoordinator.offsetsRetentionMs == 7 * 24 * 3_600_000)
        #expect(defaults.groupCoordinator.offsetsRetentionCheckIntervalMs == 600_000)
    }

    @Test(arguments: [
        ["no.such.setting": "1"], ["offsets.retention.minutes": "0"], ["num.partitions": "0"], ["port": "many"],
        ["auto.create.topics.enable": "maybe"],
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

    @Test func withoutListenersOnePlaintextListenerOnHostAndPort() throws {
        let settings = try BrokerSettings.resolve([["port": "9192", "advertised.host": "broker.example"]])
        #expect(
            settings.listeners == [
                ListenerSettings(
                    name: "PLAINTEXT",
                    securityProtocol: .plaintext,
                    host: "127.0.0.1",
                    port: 9192,
                    advertisedHost: "broker.example",
                    advertisedPort: 9192
                )
            ]
        )
        #expect(settings.tls == nil)
    }

    /// `listener.name.NAME.sasl.enabled.mechanisms` (also as TERN_LISTENER_NAME_NAME_SASL_ENABLED_MECHANISMS)
    /// narrows one SASL listener; the others keep `sasl.enabled.mechanisms`.
    @Test func perListenerSaslMechanisms() throws {
        let listeners = "SASL_PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9093,PLAINTEXT://127.0.0.1:9094"
        let base = [
            "listeners": listeners, "ssl.keystore.location": "/k.pem", "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256",
        ]
        let fromFile = try BrokerSettings.resolve([
            base.merging(["listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-512"]) { $1 }
        ])
        #expect(fromFile.listeners.map(\.saslMechanisms) == [nil, [.scramSha512], nil])
        #expect(fromFile.saslMechanisms == [.plain, .scramSha256])
        let environment = BrokerSettings.properties(fromEnvironment: [
            "TERN_LISTENER_NAME_SASL_PLAINTEXT_SASL_ENABLED_MECHANISMS": "SCRAM-SHA-256,SCRAM-SHA-512"
        ])
        #expect(environment == ["listener.name.sasl_plaintext.sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512"])
        let fromEnvironment = try BrokerSettings.resolve([base, environment])
        #expect(fromEnvironment.listeners.map(\.saslMechanisms) == [[.scramSha256, .scramSha512], nil, nil])
        for (key, message) in [
            ("listener.name.other.sasl.enabled.mechanisms", "there is no listener OTHER"),
            ("listener.name.plaintext.sasl.enabled.mechanisms", "not a SASL listener"),
        ] {
            let error = #expect(throws: BrokerSettings.Error.self) {
                try BrokerSettings.resolve([base.merging([key: "PLAIN"]) { $1 }])
            }
            #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        }
        let bad = #expect(throws: BrokerSettings.Error.self) {
            try BrokerSettings.resolve([
                base.merging(["listener.name.sasl_ssl.sasl.enabled.mechanisms": "GSSAPI"]) { $1 }
            ])
        }
        #expect(bad?.description.contains("GSSAPI is not supported") == true)
        #expect(throws: BrokerSettings.Error.self) {
            try BrokerSettings.resolve([base.merging(["listener.name.sasl_ssl.no.such.key": "1"]) { $1 }])
        }
    }

    @Test func listenersAdvertisedListenersAndTheProtocolMap() throws {
        let settings = try BrokerSettings.resolve([
            [
                "listeners": "PLAINTEXT://127.0.0.1:9092, INTERNAL://[::1]:9094,SSL://10.0.0.5:9093",
                "advertised.listeners": "SSL://kafka.example:443",
                "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,INTERNAL:SSL,SSL:SSL",
                "ssl.keystore.location": "/etc/tern/keystore.pem", "ssl.truststore.location": "/etc/tern/ca.pem",
                "ssl.client.auth": "required", "ssl.key.password": "secret",
            ]
        ])
        #expect(settings.listeners.map(\.name) == ["PLAINTEXT", "INTERNAL", "SSL"])
        #expect(settings.listeners.map(\.securityProtocol) == [.plaintext, .ssl, .ssl])
        #expect(settings.listeners.map(\.host) == ["127.0.0.1", "::1", "10.0.0.5"])
        #expect(
            settings.listeners.map(\.advertised) == [
                AdvertisedEndpoint(host: "127.0.0.1", port: 9092), AdvertisedEndpoint(host: "::1", port: 9094),
                AdvertisedEndpoint(host: "kafka.example", port: 443),
            ]
        )
        #expect(settings.host == "127.0.0.1" && settings.port == 9092)
        #expect(
            settings.tls
                == TLSSettings(
                    keystoreLocation: "/etc/tern/keystore.pem",
                    keyPassword: "secret",
                    truststoreLocation: "/etc/tern/ca.pem",
                    clientAuthentication: .required
                )
        )
    }

    @Test(arguments: [
        (["listeners": "PLAINTEXT//127.0.0.1:9092"], "expected NAME://host:port"),
        (["listeners": "PLAINTEXT://127.0.0.1"], "expected NAME://host:port"),
        (["listeners": "PLAINTEXT://127.0.0.1:70000"], "expected NAME://host:port"),
        (["listeners": "INTERNAL://127.0.0.1:9092"], "INTERNAL has no security protocol"),
        (["listeners": "PLAINTEXT://:9092,PLAINTEXT://:9093"], "PLAINTEXT is given twice"),
        (["listeners": "SASL_SSL://:9093"], "needs ssl.keystore.location"),
        (["sasl.enabled.mechanisms": "GSSAPI"], "GSSAPI is not supported"),
        (["sasl.bootstrap.users": "alice"], "expected user:password pairs"),
        (["authorizer.class.name": "com.example.MyAuthorizer"], "built-in authorizer answers to"),
        (["super.users": "admin"], "is not a principal"),
        (["allow.everyone.if.no.acl.found": "maybe"], "expected true or false"),
        (["listeners": "SSL://:9093"], "needs ssl.keystore.location"),
        (["listeners": "PLAINTEXT://:9092", "port": "9092"], "port (--port) and listeners are both set"),
        (["advertised.listeners": "PLAINTEXT://a:1"], "advertised.listeners is set but listeners is not"),
        (["listeners": "PLAINTEXT://:9092", "advertised.listeners": "SSL://a:1"], "SSL is not in listeners"),
        (["listeners": "PLAINTEXT://:9092", "advertised.listeners": "PLAINTEXT://0.0.0.0:1"], "needs a host"),
        (["listeners": "X://:9092", "listener.security.protocol.map": "X:TLS"], "expected NAME:PROTOCOL"),
        (
            ["listeners": "SSL://:9093", "ssl.keystore.location": "/k.pem", "ssl.client.auth": "required"],
            "needs ssl.truststore.location"
        ),
        (["listeners": "SSL://:9093", "ssl.keystore.location": "/k.jks", "ssl.keystore.type": "JKS"], "only PEM"),
        (["listeners": "SSL://:9093", "ssl.keystore.location": "/k.pem", "ssl.client.auth": "maybe"], "expected none"),
    ])
    func badListenerSettingsAreRefused(properties: [String: String], message: String) {
        do {
            _ = try BrokerSettings.resolve([properties])
            Issue.record("\(properties) was accepted")
        } catch {
            #expect(error.description.contains(message), "\(properties): \(error.description)")
        }
    }

    @Test func theAuthorizerIsOnlyOnWithKafkasClassName() throws {
        #expect(try BrokerSettings.resolve([["super.users": "User:admin"]]).broker.authorizer == nil)
        let settings = try BrokerSettings.resolve([
            [
                "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
                "super.users": "User:admin; User:ops",
                "allow.everyone.if.no.acl.found": "true",
            ]
        ])
        #expect(
            settings.broker.authorizer
                == Authorizer(superUsers: ["User:admin", "User:ops"], allowEveryoneIfNoAclFound: true)
        )
    }

    @Test func aListenerOnEveryInterfaceAdvertisesTheHostName() throws {
        let settings = try BrokerSettings.resolve([["listeners": "PLAINTEXT://0.0.0.0:9092"]])
        #expect(settings.listeners[0].host == "0.0.0.0")
        #expect(!settings.listeners[0].advertisedHost.isEmpty && settings.listeners[0].advertisedHost != "0.0.0.0")
    }

    @Test func malformedPropertiesLinesAreRefused() {
        #expect(throws: BrokerSettings.Error.self) { try BrokerSettings.parseProperties("just words") }
    }
}
