import Foundation
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
                key client.key
                openssl req -new -key client.key -out client.csr -subj '/CN=alice'
                openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.crt \
                    -days 2 2>/dev/null
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

    private func startTernd(_ certificates: Certificates, clientAuth: String) async throws -> (
        TerndProcess, plaintextPort: Int, sslPort: Int
    ) {
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
            ],
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
