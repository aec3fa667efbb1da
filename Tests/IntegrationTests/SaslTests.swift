import Foundation
import NIOCore
import TernWire
import Testing

/// SASL listeners through a real `ternd`, driven by kcat (librdkafka) and kafka-python: PLAIN
/// and both SCRAM mechanisms over SASL_PLAINTEXT, SCRAM over SASL_SSL, and the refusals.
@Suite struct SaslTests {
    private func kcat(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
        try await runCommand("/usr/bin/kcat", arguments, input: input.map { Data($0.utf8) }, timeout: .seconds(30))
    }

    private func sasl(_ mechanism: String, user: String = "alice", password: String = "wonderland") -> [String] {
        ["-X", "sasl.mechanisms=\(mechanism)", "-X", "sasl.username=\(user)", "-X", "sasl.password=\(password)"]
    }

    /// A broker with a PLAINTEXT listener, a SASL_PLAINTEXT one and, given certificates, a
    /// SASL_SSL one; users alice and admin from `sasl.bootstrap.users`.
    private func startTernd(
        certificates: TLSTests.Certificates? = nil,
        dataDirectory: URL? = nil,
        bootstrapUsers: String = "alice:wonderland,admin:s3cr=t",
        environment extra: [String: String] = [:]
    ) async throws -> (TerndProcess, plaintext: Int, sasl: Int, saslSSL: Int?) {
        let plaintext = try await freePort()
        let saslPort = try await freePort()
        var listeners = "PLAINTEXT://127.0.0.1:\(plaintext),SASL_PLAINTEXT://127.0.0.1:\(saslPort)"
        var environment = ["TERN_SASL_BOOTSTRAP_USERS": bootstrapUsers]
        var saslSSL: Int?
        if let certificates {
            let port = try await freePort()
            listeners += ",SASL_SSL://127.0.0.1:\(port)"
            environment["TERN_SSL_KEYSTORE_LOCATION"] = certificates.keystore
            saslSSL = port
        }
        environment["TERN_LISTENERS"] = listeners
        environment.merge(extra) { $1 }
        let ternd = try await TerndProcess.start(
            dataDirectory: dataDirectory,
            port: plaintext,
            environment: environment,
            passesPort: false
        )
        return (ternd, plaintext, saslPort, saslSSL)
    }

    @Test(arguments: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
    func kcatAuthenticatesOverSaslPlaintext(mechanism: String) async throws {
        let (ternd, plaintext, saslPort, _) = try await startTernd()
        let broker = ["-b", "127.0.0.1:\(saslPort)", "-X", "security.protocol=SASL_PLAINTEXT"]
        let topic = "sasl-\(mechanism.lowercased())"
        let produced = try await kcat(broker + sasl(mechanism) + ["-P", "-t", topic], input: "a\nb\n")
        #expect(produced.status == 0, "\(produced.stderr)\nlog:\n\(ternd.log)")
        let consumed = try await kcat(broker + sasl(mechanism) + ["-C", "-t", topic, "-o", "beginning", "-e", "-q"])
        #expect(consumed.output == "a\nb\n", "\(consumed.stderr)")
        // A password with '=' in it (a SCRAM saslname escapes only the user name).
        let admin = try await kcat(broker + sasl(mechanism, user: "admin", password: "s3cr=t") + ["-L", "-t", topic])
        #expect(admin.status == 0 && admin.output.contains("at 127.0.0.1:\(saslPort)"), "\(admin.stderr)")
        let overPlaintext = try await kcat(
            ["-b", "127.0.0.1:\(plaintext)", "-C", "-t", topic, "-o", "beginning", "-e", "-q"]
        )
        #expect(overPlaintext.output == "a\nb\n")
        try await ternd.stop()
    }

    /// A wrong password, an unknown user and a disabled mechanism are refused (librdkafka
    /// reports the failure) while an authenticated client keeps working; the broker logs each
    /// failure without the password.
    @Test func refusalsLeaveOthersServed() async throws {
        let (ternd, _, saslPort, _) = try await startTernd()
        let broker = ["-b", "127.0.0.1:\(saslPort)", "-X", "security.protocol=SASL_PLAINTEXT"]
        for (mechanism, user, password) in [
            ("SCRAM-SHA-256", "alice", "wrong"), ("SCRAM-SHA-512", "mallory", "wonderland"),
            ("PLAIN", "alice", "wrong"), ("PLAIN", "mallory", "x"),
        ] {
            let refused = try await kcat(broker + sasl(mechanism, user: user, password: password) + ["-L", "-m", "5"])
            #expect(refused.status != 0, "\(mechanism) \(user)/\(password) was accepted: \(refused.output)")
            #expect(
                refused.stderr.contains("Authentication failed") || refused.stderr.contains("SASL"),
                "\(refused.stderr)"
            )
        }
        let good = try await kcat(broker + sasl("SCRAM-SHA-256") + ["-P", "-t", "still"], input: "ok\n")
        #expect(good.status == 0, "\(good.stderr)")
        #expect(ternd.log.contains("SASL authentication failed"), "log:\n\(ternd.log)")
        #expect(!ternd.log.contains("wonderland"), "a password reached the log")
        try await ternd.stop()
    }

    /// A client that skips the handshake gets no answer: its connection is closed. ApiVersions
    /// is answered before authentication; a SaslHandshake on the PLAINTEXT listener is
    /// ILLEGAL_SASL_STATE.
    @Test func requestsBeforeAuthenticationCloseTheConnection() async throws {
        let (ternd, plaintext, saslPort, _) = try await startTernd()
        try await withRawConnection(port: saslPort) { connection in
            let versions = try await connection.send(ApiVersionsRequest(), version: 3)
            #expect(versions.errorCode == .none)
            #expect(versions.apiKeys.contains { $0.apiKey == .saslAuthenticate })
            var frame = ByteBuffer()
            MetadataRequest(topics: []).writeFrame(to: &frame, version: 4, correlationId: 99, clientId: "skipper")
            try await connection.writeRaw(frame)
            #expect(await connection.closedWithoutResponse())
        }
        try await withRawConnection(port: saslPort) { connection in
            let handshake = try await connection.send(SaslHandshakeRequest(mechanism: "GSSAPI"), version: 1)
            #expect(handshake.errorCode == .unsupportedSaslMechanism)
            #expect(Set(handshake.mechanisms) == ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
            #expect(await connection.closedWithoutResponse())
        }
        try await withRawConnection(port: plaintext) { connection in
            let handshake = try await connection.send(SaslHandshakeRequest(mechanism: "PLAIN"), version: 1)
            #expect(handshake.errorCode == .illegalSaslState)
        }
        try await ternd.stop()
    }

    /// SCRAM over TLS, and users kept across a restart: the data directory holds salted
    /// credentials, not the passwords.
    @Test func scramOverSaslSslAndUsersSurviveARestart() async throws {
        let certificates = try await TLSTests.Certificates.make()
        let dataDirectory = try Paths.temporaryDirectory()
        let (first, _, _, saslSSL) = try await startTernd(certificates: certificates, dataDirectory: dataDirectory)
        let tls = [
            "-b", "127.0.0.1:\(saslSSL!)", "-X", "security.protocol=SASL_SSL", "-X",
            "ssl.ca.location=\(certificates.ca)",
        ]
        let produced = try await kcat(tls + sasl("SCRAM-SHA-512") + ["-P", "-t", "secured"], input: "x\n")
        #expect(produced.status == 0, "\(produced.stderr)\nlog:\n\(first.log)")
        try await first.stop()
        let stored = try String(
            contentsOf: dataDirectory.appendingPathComponent("sasl-credentials"),
            encoding: .utf8
        )
        #expect(stored.contains("alice") && !stored.contains("wonderland"))

        // No bootstrap users this time: alice comes from the data directory.
        let (second, _, _, saslSSL2) = try await startTernd(
            certificates: certificates,
            dataDirectory: dataDirectory,
            bootstrapUsers: "admin:other"
        )
        let tls2 = [
            "-b", "127.0.0.1:\(saslSSL2!)", "-X", "security.protocol=SASL_SSL", "-X",
            "ssl.ca.location=\(certificates.ca)",
        ]
        let consumed = try await kcat(
            tls2 + sasl("SCRAM-SHA-256") + ["-C", "-t", "secured", "-o", "beginning", "-e", "-q"]
        )
        #expect(consumed.output == "x\n", "\(consumed.stderr)\nlog:\n\(second.log)")
        // An existing user keeps its password: the bootstrap entry does not overwrite it.
        let admin = try await kcat(tls2 + sasl("PLAIN", user: "admin", password: "other") + ["-L", "-m", "5"])
        #expect(admin.status != 0, "sasl.bootstrap.users overwrote an existing user's password")
        try await second.stop()
    }

    /// kafka-python with SASL/PLAIN and SCRAM-SHA-256 (its own SCRAM implementation).
    @Test(arguments: ["PLAIN", "SCRAM-SHA-256"])
    func kafkaPythonAuthenticates(mechanism: String) async throws {
        let (ternd, _, saslPort, _) = try await startTernd()
        let script = """
            import sys
            from kafka import KafkaProducer, KafkaConsumer
            options = dict(bootstrap_servers="127.0.0.1:\(saslPort)", security_protocol="SASL_PLAINTEXT",
                           sasl_mechanism="\(mechanism)", sasl_plain_username="alice", sasl_plain_password="wonderland")
            producer = KafkaProducer(**options)
            producer.send("py-sasl", b"hello").get(timeout=20)
            producer.close()
            consumer = KafkaConsumer("py-sasl", auto_offset_reset="earliest", consumer_timeout_ms=10000, **options)
            values = [message.value for message in consumer]
            consumer.close()
            print(values)
            sys.exit(0 if values == [b"hello"] else 1)
            """
        let result = try await runCommand(Paths.python, ["-c", script], timeout: .seconds(60))
        #expect(result.status == 0, "\(result.output)\n\(result.stderr)\nlog:\n\(ternd.log)")
        try await ternd.stop()
    }
    /// KIP-368, `connections.max.reauth.ms`: SaslAuthenticate announces the session's lifetime; a
    /// connection that does not re-authenticate in time is closed at its next request; one that
    /// does goes on, but may not become another user; confluent-kafka re-authenticates by itself
    /// and produces and consumes across several lifetimes.
    @Test func sessionsExpireAndClientsReauthenticate() async throws {
        // Long enough that a loaded machine's stalls fit inside it; the waits below are measured.
        let lifetime = Duration.seconds(4)
        let (ternd, _, saslPort, _) = try await startTernd(environment: [
            "TERN_CONNECTIONS_MAX_REAUTH_MS": "4000", "TERN_LOG_LEVEL": "debug",
        ])
        func plain(_ user: String, _ password: String) -> SaslAuthenticateRequest {
            SaslAuthenticateRequest(authBytes: ByteBuffer(bytes: [0] + Array(user.utf8) + [0] + Array(password.utf8)))
        }
        func authenticate(_ connection: RawConnection, as user: String, _ password: String) async throws
            -> SaslAuthenticateResponse
        {
            let handshake = try await connection.send(SaslHandshakeRequest(mechanism: "PLAIN"), version: 1)
            #expect(handshake.errorCode == .none)
            return try await connection.send(plain(user, password), version: 2)
        }
        try await withRawConnection(port: saslPort) { connection in
            let authenticated = try await authenticate(connection, as: "alice", "wonderland")
            #expect(authenticated.errorCode == .none)
            #expect(authenticated.sessionLifetimeMs == 4000)
            #expect(try await connection.send(MetadataRequest(topics: []), version: 4).brokers.count == 1)
            try await Task.sleep(for: lifetime + .milliseconds(300))
            var frame = ByteBuffer()
            MetadataRequest(topics: []).writeFrame(to: &frame, version: 4, correlationId: 9, clientId: "late")
            try await connection.writeRaw(frame)
            #expect(await connection.closedWithoutResponse(), "an expired session was served")
        }
        try await withRawConnection(port: saslPort) { connection in
            let start = ContinuousClock.now
            #expect(try await authenticate(connection, as: "alice", "wonderland").errorCode == .none)
            try await Task.sleep(for: lifetime / 2)
            // Re-authenticated before the end: the session goes on past the first lifetime.
            #expect(try await authenticate(connection, as: "alice", "wonderland").sessionLifetimeMs == 4000)
            let renewed = ContinuousClock.now
            let pastFirst = start + lifetime + .milliseconds(500)
            if pastFirst > ContinuousClock.now { try await Task.sleep(until: pastFirst) }
            if ContinuousClock.now - renewed < lifetime - .milliseconds(200) {
                #expect(try await connection.send(MetadataRequest(topics: []), version: 4).brokers.count == 1)
            }
            // Becoming another user is refused, and the connection closed.
            let other = try await authenticate(connection, as: "admin", "s3cr=t")
            #expect(other.errorCode == .saslAuthenticationFailed)
            #expect(await connection.closedWithoutResponse())
        }
        let script = """
            import sys, time
            from confluent_kafka import Producer, Consumer
            options = {"bootstrap.servers": "127.0.0.1:\(saslPort)", "security.protocol": "SASL_PLAINTEXT",
                       "sasl.mechanisms": "SCRAM-SHA-256", "sasl.username": "alice", "sasl.password": "wonderland"}
            producer = Producer(options)
            consumer = Consumer({**options, "group.id": "reauth", "auto.offset.reset": "earliest"})
            consumer.subscribe(["reauth"])
            sent, received, errors = 0, [], []
            deadline = time.monotonic() + 9
            while time.monotonic() < deadline:
                producer.produce("reauth", b"%d" % sent, on_delivery=lambda e, m: e is not None and errors.append(str(e)))
                sent += 1
                producer.poll(0)
                message = consumer.poll(0.3)
                if message is not None and message.error() is None: received.append(message.value())
            producer.flush(20)
            end = time.monotonic() + 20
            while len(received) < sent and time.monotonic() < end:
                message = consumer.poll(0.5)
                if message is not None and message.error() is None: received.append(message.value())
            consumer.close()
            print(sent, len(received), errors)
            sys.exit(0 if not errors and sorted(received, key=int) == [b"%d" % i for i in range(sent)] else 1)
            """
        let result = try await runCommand(Paths.python, ["-c", script], timeout: .seconds(90))
        #expect(result.status == 0, "\(result.output)\n\(result.stderr)\nlog:\n\(ternd.log.suffix(3000))")
        #expect(ternd.log.contains("SASL re-authentication succeeded"), "confluent-kafka never re-authenticated")
        try await ternd.stop()
    }

    /// `listener.name.sasl_plaintext.sasl.enabled.mechanisms`: that listener offers only SCRAM-SHA-512
    /// (PLAIN is refused there with Kafka's error), the SASL_SSL one keeps every mechanism.
    @Test func aListenerOffersOnlyItsOwnMechanisms() async throws {
        let certificates = try await TLSTests.Certificates.make()
        let plaintext = try await freePort()
        let saslPort = try await freePort()
        let saslSSL = try await freePort()
        let ternd = try await TerndProcess.start(
            port: plaintext,
            environment: [
                "TERN_LISTENERS":
                    "PLAINTEXT://127.0.0.1:\(plaintext),SASL_PLAINTEXT://127.0.0.1:\(saslPort),SASL_SSL://127.0.0.1:\(saslSSL)",
                "TERN_SSL_KEYSTORE_LOCATION": certificates.keystore,
                "TERN_SASL_BOOTSTRAP_USERS": "alice:wonderland",
                "TERN_LISTENER_NAME_SASL_PLAINTEXT_SASL_ENABLED_MECHANISMS": "SCRAM-SHA-512",
            ],
            passesPort: false
        )
        let overSasl = ["-b", "127.0.0.1:\(saslPort)", "-X", "security.protocol=sasl_plaintext", "-L", "-m", "5"]
        let plain = try await kcat(overSasl + sasl("PLAIN"))
        #expect(plain.status != 0, "PLAIN was accepted on a SCRAM-SHA-512 listener: \(plain.output)")
        #expect(plain.stderr.contains("SCRAM-SHA-512"), "the refusal names the offered mechanism: \(plain.stderr)")
        let scram = try await kcat(overSasl + sasl("SCRAM-SHA-512"))
        #expect(scram.status == 0, "\(scram.stderr)\nlog:\n\(ternd.log)")
        let overSSL = [
            "-b", "127.0.0.1:\(saslSSL)", "-X", "security.protocol=sasl_ssl", "-X",
            "ssl.ca.location=\(certificates.ca)",
            "-L", "-m", "5",
        ]
        let plainOverSSL = try await kcat(overSSL + sasl("PLAIN"))
        #expect(plainOverSSL.status == 0, "\(plainOverSSL.stderr)")
        try await ternd.stop()
    }

    /// aiokafka over SASL_SSL (its own SCRAM, Python's ssl module) with every mechanism: produce,
    /// then consume in a group.
    @Test(arguments: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
    func aiokafkaAuthenticatesOverSaslSsl(mechanism: String) async throws {
        let certificates = try await TLSTests.Certificates.make()
        let (ternd, _, _, saslSSL) = try await startTernd(certificates: certificates)
        let port = try #require(saslSSL)
        let topic = "aio-sasl-\(mechanism.lowercased())"
        let script = """
            import asyncio, sys
            from aiokafka import AIOKafkaProducer, AIOKafkaConsumer
            from aiokafka.helpers import create_ssl_context
            options = dict(bootstrap_servers="127.0.0.1:\(port)", security_protocol="SASL_SSL",
                           ssl_context=create_ssl_context(cafile="\(certificates.ca)"),
                           sasl_mechanism="\(mechanism)", sasl_plain_username="alice", sasl_plain_password="wonderland")
            async def main():
                producer = AIOKafkaProducer(**options)
                await producer.start()
                await producer.send_and_wait("\(topic)", b"hello")
                await producer.stop()
                consumer = AIOKafkaConsumer("\(topic)", group_id="aio-sasl", auto_offset_reset="earliest", **options)
                await consumer.start()
                message = await asyncio.wait_for(consumer.getone(), 30)
                await consumer.stop()
                return message.value
            value = asyncio.run(asyncio.wait_for(main(), 60))
            print(value)
            sys.exit(0 if value == b"hello" else 1)
            """
        let result = try await runCommand(Paths.python, ["-c", script], timeout: .seconds(90))
        #expect(result.status == 0, "\(result.output)\n\(result.stderr)\nlog:\n\(ternd.log)")
        // A wrong password is refused.
        let refused = try await runCommand(
            Paths.python,
            [
                "-c",
                script.replacingOccurrences(
                    of: "sasl_plain_password=\"wonderland\"",
                    with: "sasl_plain_password=\"nope\""
                ),
            ],
            timeout: .seconds(90)
        )
        #expect(refused.status != 0, "a wrong password authenticated: \(refused.output)")
        try await ternd.stop()
    }
}
