import Foundation
import TernClient
import Testing

/// Kafka listeners and TLS through a real `ternd`, driven by kcat (librdkafka with OpenSSL): a
/// PLAINTEXT and an SSL listener side by side, each advertising itself, and mutual TLS.
@Suite struct TLSTests {
    /// A CA, a server certificate for 127.0.0.1 (its key and chain in one PEM keystore, as Kafka's
    /// `ssl.keystore.type=PEM` takes it) and a client certificate, made with openssl.
    struct Certificates {
        let directory: URL
        var ca: String { self.directory.appendingPathComponent("ca.pem").path }
        var keystore: String { self.directory.appendingPathComponent("server-keystore.pem").path }
        var clientCertificate: String { self.directory.appendingPathComponent("client.crt").path }
        var clientKey: String { self.directory.appendingPathComponent("client.key").path }
        /// Client certificate `name` (client: CN=alice,OU=eng,O=Acme; bob: CN=Bob,OU=eng,O=Acme;
        /// mallory: CN=mallory,O=Elsewhere) and its key.
        func client(_ name: String) -> (certificate: String, key: String) {
            (
                self.directory.appendingPathComponent("\(name).crt").path,
                self.directory.appendingPathComponent("\(name).key").path
            )
        }

        static func make() async throws -> Certificates {
            let directory = try Paths.temporaryDirectory()
            let script = """
                set -e
                cd '\(directory.path)'
                key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
                key ca.key
                openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj '/CN=Tern test CA'
                key server.key
                openssl req -new -key server.key -out server.csr -subj '/CN=localhost'
                printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > server.ext
                openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt \
                    -days 2 -extfile server.ext 2>/dev/null
                cat server.key server.crt > server-keystore.pem
                client() {
                    key "$1.key"
                    openssl req -new -key "$1.key" -out "$1.csr" -subj "$2"
                    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.crt" \
                        -days 2 2>/dev/null
                }
                client client '/O=Acme/OU=eng/CN=alice'
                client bob '/O=Acme/OU=eng/CN=Bob'
                client mallory '/O=Elsewhere/CN=mallory'
                """
            let result = try await runCommand("/bin/sh", ["-c", script], timeout: .seconds(30))
            guard result.status == 0 else { throw TestFailure("openssl failed: \(result.stderr)") }
            return Certificates(directory: directory)
        }
    }

    private func kcat(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
        try await runCommand(
            "/usr/bin/kcat",
            arguments,
            input: input.map { Data($0.utf8) },
            timeout: .seconds(30)
        )
    }

    private func startTernd(
        _ certificates: Certificates,
        clientAuth: String,
        environment extra: [String: String] = [:]
    ) async throws -> (TerndProcess, plaintextPort: Int, sslPort: Int) {
        let plaintextPort = try await freePort()
        let sslPort = try await freePort()
        let ternd = try await TerndProcess.start(
            port: plaintextPort,
            environment: [
                "TERN_LISTENERS": "PLAINTEXT://127.0.0.1:\(plaintextPort),SSL://127.0.0.1:\(sslPort)",
                "TERN_SSL_KEYSTORE_TYPE": "PEM",
                "TERN_SSL_KEYSTORE_LOCATION": certificates.keystore,
                "TERN_SSL_TRUSTSTORE_TYPE": "PEM",
                "TERN_SSL_TRUSTSTORE_LOCATION": certificates.ca,
                "TERN_SSL_CLIENT_AUTH": clientAuth,
            ].merging(extra) { $1 },
            passesPort: false
        )
        return (ternd, plaintextPort, sslPort)
    }

    private func sslOptions(_ certificates: Certificates, clientCertificate: Bool) -> [String] {
        var options = ["-X", "security.protocol=ssl", "-X", "ssl.ca.location=\(certificates.ca)"]
        if clientCertificate {
            options += [
                "-X", "ssl.certificate.location=\(certificates.clientCertificate)",
                "-X", "ssl.key.location=\(certificates.clientKey)",
            ]
        }
        return options
    }

    /// Records written over TLS are read over plaintext and back; each listener's Metadata names
    /// its own port; a plaintext client on the TLS port gets nothing and the broker serves on.
    @Test func plaintextAndSslListenersSideBySide() async throws {
        let certificates = try await Certificates.make()
        let (ternd, plaintextPort, sslPort) = try await startTernd(certificates, clientAuth: "none")
        let ssl = ["-b", "127.0.0.1:\(sslPort)"] + sslOptions(certificates, clientCertificate: false)
        let plaintext = ["-b", "127.0.0.1:\(plaintextPort)"]

        let produced = try await kcat(ssl + ["-P", "-t", "secure"], input: "one\ntwo\nthree\n")
        #expect(produced.status == 0, "\(produced.stderr)\nlog:\n\(ternd.log)")
        let overPlaintext = try await kcat(plaintext + ["-C", "-t", "secure", "-o", "beginning", "-e", "-q"])
        #expect(overPlaintext.output == "one\ntwo\nthree\n", "\(overPlaintext.stderr)")
        let overTLS = try await kcat(ssl + ["-C", "-t", "secure", "-o", "beginning", "-e", "-q"])
        #expect(overTLS.output == "one\ntwo\nthree\n", "\(overTLS.stderr)")

        let sslMetadata = try await kcat(ssl + ["-L", "-t", "secure"])
        #expect(sslMetadata.output.contains("at 127.0.0.1:\(sslPort)"), "\(sslMetadata.output)")
        let plaintextMetadata = try await kcat(plaintext + ["-L", "-t", "secure"])
        #expect(plaintextMetadata.output.contains("at 127.0.0.1:\(plaintextPort)"), "\(plaintextMetadata.output)")

        // Plaintext Kafka on the TLS port: the handshake fails, the client gets no metadata.
        let wrong = try await kcat(["-b", "127.0.0.1:\(sslPort)", "-L", "-m", "3"])
        #expect(wrong.status != 0, "a plaintext client got metadata from the SSL listener: \(wrong.output)")
        // A TLS client that does not trust the broker's CA is refused by its own verification.
        let untrusted = try await kcat(
            ["-b", "127.0.0.1:\(sslPort)", "-X", "security.protocol=ssl", "-L", "-m", "3"]
        )
        #expect(untrusted.status != 0, "an untrusted server certificate was accepted: \(untrusted.output)")
        let after = try await kcat(ssl + ["-C", "-t", "secure", "-o", "beginning", "-e", "-q"])
        #expect(after.output == "one\ntwo\nthree\n", "the broker stopped serving TLS: \(after.stderr)")
        try await ternd.stop()
    }

    /// `ssl.client.auth=required`: a client without a certificate the truststore verifies is
    /// refused during the handshake; with one, it produces and consumes.
    @Test func requiredClientCertificates() async throws {
        let certificates = try await Certificates.make()
        let (ternd, _, sslPort) = try await startTernd(certificates, clientAuth: "required")
        let broker = ["-b", "127.0.0.1:\(sslPort)"]

        let anonymous = try await kcat(
            broker + sslOptions(certificates, clientCertificate: false) + ["-L", "-m", "3"]
        )
        #expect(anonymous.status != 0, "a client without a certificate got metadata: \(anonymous.output)")

        let authenticated = broker + sslOptions(certificates, clientCertificate: true)
        let produced = try await kcat(authenticated + ["-P", "-t", "mtls"], input: "hello\n")
        #expect(produced.status == 0, "\(produced.stderr)\nlog:\n\(ternd.log)")
        let consumed = try await kcat(authenticated + ["-C", "-t", "mtls", "-o", "beginning", "-e", "-q"])
        #expect(consumed.output == "hello\n", "\(consumed.stderr)")
        try await ternd.stop()
    }

    /// The client certificate is the principal (`ssl.principal.mapping.rules` turns its subject
    /// into a user, lower-cased): ACLs let alice write the topic and not bob, whose certificate
    /// is as valid; a certificate no rule maps is refused, and the broker serves on.
    @Test func certificateSubjectsBecomePrincipalsThroughTheMappingRules() async throws {
        let certificates = try await Certificates.make()
        let (ternd, plaintextPort, sslPort) = try await startTernd(
            certificates,
            clientAuth: "required",
            environment: [
                "TERN_SSL_PRINCIPAL_MAPPING_RULES": "RULE:^CN=([^,]*),OU=eng,O=Acme$/$1/L",
                "TERN_AUTHORIZER_CLASS_NAME": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                // The plaintext listener's anonymous clients administer.
                "TERN_SUPER_USERS": "User:ANONYMOUS",
            ]
        )
        let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: ["127.0.0.1:\(plaintextPort)"]))
        try await admin.createTopic("mtls-acl", partitions: 1)
        try await admin.createAcls(
            [AclOperation.write, .describe].map {
                AclBinding(
                    resourceType: .topic,
                    resourceName: "mtls-acl",
                    principal: "User:alice",
                    operation: $0,
                    permission: .allow
                )
            }
        )
        await admin.close()
        func ssl(_ name: String) -> [String] {
            let (certificate, key) = certificates.client(name)
            return [
                "-b", "127.0.0.1:\(sslPort)", "-X", "security.protocol=ssl", "-X", "ssl.ca.location=\(certificates.ca)",
                "-X", "ssl.certificate.location=\(certificate)", "-X", "ssl.key.location=\(key)",
            ]
        }
        let alice = try await kcat(ssl("client") + ["-P", "-t", "mtls-acl"], input: "from alice\n")
        #expect(alice.status == 0, "\(alice.stderr)\nlog:\n\(ternd.log)")
        let bob = try await kcat(
            ssl("bob") + ["-P", "-t", "mtls-acl", "-X", "message.timeout.ms=5000"],
            input: "from bob\n"
        )
        #expect(bob.status != 0, "bob (User:bob) wrote without an ACL: \(bob.stderr)")
        #expect(bob.stderr.contains("uthoriz"), "\(bob.stderr)")
        let mallory = try await kcat(ssl("mallory") + ["-L", "-m", "3"])
        #expect(mallory.status != 0, "a certificate no rule maps got metadata: \(mallory.output)")
        #expect(ternd.log.contains("maps to no user"), "log:\n\(ternd.log)")
        #expect(ternd.log.contains("CN=mallory,O=Elsewhere"), "log:\n\(ternd.log)")
        let read = try await kcat([
            "-b", "127.0.0.1:\(plaintextPort)", "-C", "-t", "mtls-acl", "-o", "beginning", "-e", "-q",
        ])
        #expect(read.output == "from alice\n", "\(read.stderr)")
        try await ternd.stop()
    }

    /// SIGHUP reloads the keystore: new connections get the new certificate (signed by another
    /// CA here, so each client sees which one it got), a connection opened before keeps working,
    /// and a keystore that does not load leaves the last good one in use.
    @Test func sighupReloadsTheCertificateForNewConnections() async throws {
        let certificates = try await Certificates.make()
        let directory = certificates.directory.path
        let made = try await runCommand(
            "/bin/sh",
            [
                "-c",
                """
                set -e
                cd '\(directory)'
                openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out ca2.key 2>/dev/null
                openssl req -x509 -new -key ca2.key -out ca2.pem -days 2 -subj '/CN=Second CA'
                openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out server2.key 2>/dev/null
                openssl req -new -key server2.key -out server2.csr -subj '/CN=localhost'
                openssl x509 -req -in server2.csr -CA ca2.pem -CAkey ca2.key -CAcreateserial -out server2.crt \
                    -days 2 -extfile server.ext 2>/dev/null
                cat server2.key server2.crt > second-keystore.pem
                cp server-keystore.pem live-keystore.pem
                """,
            ],
            timeout: .seconds(30)
        )
        #expect(made.status == 0, "\(made.stderr)")
        let live = certificates.directory.appendingPathComponent("live-keystore.pem").path
        let secondCA = certificates.directory.appendingPathComponent("ca2.pem").path
        let plaintextPort = try await freePort()
        let sslPort = try await freePort()
        let ternd = try await TerndProcess.start(
            port: plaintextPort,
            environment: [
                "TERN_LISTENERS": "PLAINTEXT://127.0.0.1:\(plaintextPort),SSL://127.0.0.1:\(sslPort)",
                "TERN_SSL_KEYSTORE_LOCATION": live,
            ],
            passesPort: false
        )
        func metadata(trusting ca: String) async throws -> Bool {
            let result = try await kcat([
                "-b", "127.0.0.1:\(sslPort)", "-X", "security.protocol=ssl", "-X", "ssl.ca.location=\(ca)", "-L", "-m",
                "5",
            ])
            return result.status == 0
        }
        func reload(expecting line: String) async throws {
            let before = ternd.log.components(separatedBy: line).count
            kill(ternd.process.processIdentifier, SIGHUP)
            let deadline = ContinuousClock.now + .seconds(20)
            while ternd.log.components(separatedBy: line).count == before, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(ternd.log.components(separatedBy: line).count > before, "no \"\(line)\":\n\(ternd.log)")
        }
        #expect(try await metadata(trusting: certificates.ca))
        #expect(try await !metadata(trusting: secondCA))

        // A consumer connected over TLS before the reload.
        let produced = try await kcat(["-b", "127.0.0.1:\(plaintextPort)", "-P", "-t", "reload"], input: "before\n")
        #expect(produced.status == 0, "\(produced.stderr)")
        let consumer = Process()
        consumer.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        consumer.arguments = [
            "-b", "127.0.0.1:\(sslPort)", "-X", "security.protocol=ssl", "-X", "ssl.ca.location=\(certificates.ca)",
            "-C", "-t", "reload", "-o", "beginning", "-c", "2", "-q",
        ]
        let output = Pipe()
        consumer.standardOutput = output
        consumer.standardError = FileHandle.nullDevice
        try consumer.run()
        defer { if consumer.isRunning { kill(consumer.processIdentifier, SIGKILL) } }
        try await Task.sleep(for: .seconds(1))

        try FileManager.default.removeItem(atPath: live)
        try FileManager.default.copyItem(
            atPath: certificates.directory.appendingPathComponent("second-keystore.pem").path,
            toPath: live
        )
        try await reload(expecting: "reloaded TLS certificates")
        #expect(try await metadata(trusting: secondCA), "log:\n\(ternd.log)")
        #expect(try await !metadata(trusting: certificates.ca))

        // The consumer's connection survived: it gets a record written after the reload.
        let after = try await kcat(["-b", "127.0.0.1:\(plaintextPort)", "-P", "-t", "reload"], input: "after\n")
        #expect(after.status == 0, "\(after.stderr)")
        let deadline = ContinuousClock.now + .seconds(20)
        while consumer.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!consumer.isRunning, "the consumer from before the reload did not get its second record")
        if consumer.isRunning { kill(consumer.processIdentifier, SIGKILL) }
        let consumed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(consumed == "before\nafter\n")

        // A broken keystore: the reload fails, the last good certificate stays.
        try "not a keystore".write(toFile: live, atomically: true, encoding: .utf8)
        try await reload(expecting: "cannot reload TLS certificates")
        #expect(try await metadata(trusting: secondCA))
        try await ternd.stop()
    }

    /// `http.ssl.*`: the admin listener serves /health and /metrics over HTTPS (plain HTTP gets
    /// nothing), and with `http.ssl.client.auth=required` only to clients with a certificate.
    @Test func theAdminListenerServesHTTPS() async throws {
        let certificates = try await Certificates.make()
        let ternd = try await TerndProcess.start(environment: [
            "TERN_HTTP_SSL_KEYSTORE_LOCATION": certificates.keystore,
            "TERN_HTTP_SSL_TRUSTSTORE_LOCATION": certificates.ca,
            "TERN_HTTP_SSL_CLIENT_AUTH": "required",
        ])
        let (certificate, key) = certificates.client("client")
        let script = """
            import ssl, sys, urllib.request
            def get(scheme, path, certificate):
                context = ssl.create_default_context(cafile="\(certificates.ca)")
                if certificate: context.load_cert_chain("\(certificate)", "\(key)")
                try:
                    with urllib.request.urlopen(f"{scheme}://127.0.0.1:\(ternd.httpPort){path}", context=context, timeout=10) as response:
                        return response.status, response.read().decode()
                except Exception as error:
                    return None, repr(error)
            live = get("https", "/health/live", True)
            metrics = get("https", "/metrics", True)
            anonymous = get("https", "/health/live", False)
            plain = get("http", "/health/live", False)
            print(live[0], metrics[0], anonymous[0], plain[0])
            ok = live[0] == 200 and metrics[0] == 200 and "tern_" in metrics[1] and anonymous[0] is None and plain[0] is None
            sys.exit(0 if ok else 1)
            """
        let result = try await runCommand(Paths.python, ["-c", script], timeout: .seconds(60))
        #expect(result.status == 0, "\(result.output)\n\(result.stderr)\nlog:\n\(ternd.log)")
        try await ternd.stop()
        // A keystore that does not load stops ternd before it binds, naming the property family.
        let broken = try await TerndProcess.start(
            environment: ["TERN_HTTP_SSL_KEYSTORE_LOCATION": "/nonexistent/keystore.pem"],
            waitUntilAccepting: false
        )
        try await broken.waitForExit()
        #expect(broken.process.terminationStatus != 0)
        #expect(broken.log.contains("http.ssl"), "log:\n\(broken.log)")
    }

    /// Without TLS, SIGHUP has nothing to reload and is not fatal.
    @Test func sighupWithoutTLSIsIgnored() async throws {
        try await withTernd { ternd in
            kill(ternd.process.processIdentifier, SIGHUP)
            let deadline = ContinuousClock.now + .seconds(20)
            while !ternd.log.contains("nothing to reload"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(ternd.log.contains("nothing to reload"), "log:\n\(ternd.log)")
            #expect(ternd.process.isRunning)
            #expect(await acceptsConnections(port: ternd.port))
        }
    }

    /// confluent-kafka, kafka-python and aiokafka over mutual TLS: each produces and reads back
    /// as alice (its certificate's principal, allowed by the ACLs), and is refused as bob.
    @Test(arguments: ["confluent", "kafka-python", "aiokafka"])
    func pythonClientsOverMutualTLS(client: String) async throws {
        let certificates = try await Certificates.make()
        let (ternd, plaintextPort, sslPort) = try await startTernd(
            certificates,
            clientAuth: "required",
            environment: [
                "TERN_SSL_PRINCIPAL_MAPPING_RULES": "RULE:^CN=([^,]*),OU=eng,O=Acme$/$1/L",
                "TERN_AUTHORIZER_CLASS_NAME": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "TERN_SUPER_USERS": "User:ANONYMOUS",
            ]
        )
        let topic = "mtls-\(client)"
        let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: ["127.0.0.1:\(plaintextPort)"]))
        try await admin.createTopic(topic, partitions: 1)
        var bindings = [AclOperation.write, .describe, .read].map {
            AclBinding(
                resourceType: .topic,
                resourceName: topic,
                principal: "User:alice",
                operation: $0,
                permission: .allow
            )
        }
        bindings.append(
            AclBinding(
                resourceType: .group,
                resourceName: "*",
                principal: "User:alice",
                operation: .read,
                permission: .allow
            )
        )
        try await admin.createAcls(bindings)
        await admin.close()
        let bootstrap = "127.0.0.1:\(sslPort)"
        func script(_ name: String) -> String {
            let (certificate, key) = certificates.client(name)
            let ca = certificates.ca
            switch client {
            case "confluent":
                return """
                    from confluent_kafka import Producer, Consumer
                    options = {"bootstrap.servers": "\(bootstrap)", "security.protocol": "SSL", "ssl.ca.location": "\(ca)",
                               "ssl.certificate.location": "\(certificate)", "ssl.key.location": "\(key)"}
                    producer = Producer({**options, "message.timeout.ms": 10000})
                    errors = []
                    producer.produce("\(topic)", b"hello", on_delivery=lambda error, message: errors.append(error))
                    producer.flush(20)
                    # (KafkaError compares itself to None as to an int: test identity.)
                    if len(errors) != 1 or errors[0] is not None: raise SystemExit(f"produce failed: {errors}")
                    consumer = Consumer({**options, "group.id": "g-\(name)", "auto.offset.reset": "earliest"})
                    consumer.subscribe(["\(topic)"])
                    message = consumer.poll(20)
                    consumer.close()
                    if message is None or message.error() or message.value() != b"hello": raise SystemExit(f"read {message}")
                    """
            case "kafka-python":
                return """
                    from kafka import KafkaProducer, KafkaConsumer
                    options = dict(bootstrap_servers="\(bootstrap)", security_protocol="SSL", ssl_cafile="\(ca)",
                                   ssl_certfile="\(certificate)", ssl_keyfile="\(key)", ssl_check_hostname=False)
                    producer = KafkaProducer(max_block_ms=10000, **options)
                    producer.send("\(topic)", b"hello").get(timeout=20)
                    producer.close()
                    consumer = KafkaConsumer("\(topic)", auto_offset_reset="earliest", consumer_timeout_ms=10000, **options)
                    values = [message.value for message in consumer]
                    consumer.close()
                    if values != [b"hello"]: raise SystemExit(f"read {values}")
                    """
            default:
                return """
                    import asyncio
                    from aiokafka import AIOKafkaProducer, AIOKafkaConsumer
                    from aiokafka.helpers import create_ssl_context
                    context = create_ssl_context(cafile="\(ca)", certfile="\(certificate)", keyfile="\(key)")
                    context.check_hostname = False
                    options = dict(bootstrap_servers="\(bootstrap)", security_protocol="SSL", ssl_context=context)
                    async def main():
                        producer = AIOKafkaProducer(**options)
                        await producer.start()
                        try:
                            await producer.send_and_wait("\(topic)", b"hello")
                        finally:
                            await producer.stop()
                        consumer = AIOKafkaConsumer("\(topic)", auto_offset_reset="earliest", **options)
                        await consumer.start()
                        try:
                            message = await asyncio.wait_for(consumer.getone(), 20)
                        finally:
                            await consumer.stop()
                        if message.value != b"hello": raise SystemExit(f"read {message}")
                    asyncio.run(asyncio.wait_for(main(), 60))
                    """
            }
        }
        let alice = try await runCommand(Paths.python, ["-c", script("client")], timeout: .seconds(90))
        #expect(alice.status == 0, "\(alice.output)\n\(alice.stderr)\nlog:\n\(ternd.log.suffix(3000))")
        let bob = try await runCommand(Paths.python, ["-c", script("bob")], timeout: .seconds(90))
        #expect(bob.status != 0, "bob wrote and read without an ACL: \(bob.output)")
        #expect((bob.output + bob.stderr).lowercased().contains("authoriz"), "\(bob.output)\n\(bob.stderr)")
        try await ternd.stop()
    }

    /// Mapping rules that are not Kafka's syntax stop ternd at start, naming the property.
    @Test func badMappingRulesStopTernd() async throws {
        let certificates = try await Certificates.make()
        let ternd = try await TerndProcess.start(
            environment: [
                "TERN_LISTENERS": "SSL://127.0.0.1:0",
                "TERN_SSL_KEYSTORE_LOCATION": certificates.keystore,
                "TERN_SSL_TRUSTSTORE_LOCATION": certificates.ca,
                "TERN_SSL_CLIENT_AUTH": "required",
                "TERN_SSL_PRINCIPAL_MAPPING_RULES": "RULE:^CN=(.*)$/$1/Lower",
            ],
            waitUntilAccepting: false,
            passesPort: false
        )
        try await ternd.waitForExit()
        #expect(ternd.process.terminationStatus != 0)
        #expect(ternd.log.contains("ssl.principal.mapping.rules"), "log:\n\(ternd.log)")
    }

    /// A keystore that is not there stops ternd at start with a message naming the property.
    @Test func aMissingKeystoreStopsTerndWithItsName() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        let result = try await runCommand(
            Paths.ternd,
            ["--data-dir", dataDirectory.path, "--http-port", "0"],
            environment: [
                "TERN_LISTENERS": "SSL://127.0.0.1:0",
                "TERN_SSL_KEYSTORE_LOCATION": "/nonexistent/keystore.pem",
            ],
            timeout: .seconds(20)
        )
        #expect(result.status != 0)
        #expect(result.stderr.contains("ssl.keystore.location /nonexistent/keystore.pem"), "\(result.stderr)")
    }
}
