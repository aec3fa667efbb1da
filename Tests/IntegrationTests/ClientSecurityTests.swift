import Foundation
import Testing

/// Tern's own client over TLS and SASL, through `tern` with kcat's `-X` properties, against a
/// real `ternd` (certificates made by openssl in the test, as TLSTests).
@Suite struct ClientSecurityTests {
    private var tern: String { Paths.buildProducts.appendingPathComponent("tern").path }

    private func tern(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
        try await runCommand(self.tern, arguments, input: input.map { Data($0.utf8) }, timeout: .seconds(30))
    }

    /// mTLS required: `tern` with its certificate produces and consumes, verifying the broker's
    /// certificate and its IP address; without a certificate, or without trusting the CA, it is
    /// refused with a message.
    @Test func ternSpeaksTlsWithClientCertificates() async throws {
        let certificates = try await TLSTests.Certificates.make()
        let port = try await freePort()
        let ternd = try await TerndProcess.start(
            port: port,
            environment: [
                "TERN_LISTENERS": "SSL://127.0.0.1:\(port)",
                "TERN_SSL_KEYSTORE_LOCATION": certificates.keystore,
                "TERN_SSL_TRUSTSTORE_LOCATION": certificates.ca,
                "TERN_SSL_CLIENT_AUTH": "required",
            ],
            passesPort: false
        )
        let broker = [
            "-b", "127.0.0.1:\(port)", "-X", "security.protocol=SSL", "-X", "ssl.ca.location=\(certificates.ca)",
        ]
        let withCertificate =
            broker + [
                "-X", "ssl.certificate.location=\(certificates.clientCertificate)", "-X",
                "ssl.key.location=\(certificates.clientKey)",
            ]
        let produced = try await tern(withCertificate + ["-P", "-t", "tls-tern"], input: "a\nb\n")
        #expect(produced.status == 0, "\(produced.stderr)\nlog:\n\(ternd.log)")
        let consumed = try await tern(withCertificate + ["-C", "-t", "tls-tern", "-o", "beginning", "-e", "-q"])
        #expect(consumed.output == "a\nb\n", "\(consumed.stderr)")

        let noCertificate = try await tern(broker + ["-L", "-m", "5"])
        #expect(noCertificate.status != 0, "served without a client certificate: \(noCertificate.output)")
        #expect(noCertificate.stderr.contains("127.0.0.1:\(port)"), "\(noCertificate.stderr)")
        // Without ssl.ca.location the system's CAs do not know the test CA.
        let untrusted = try await tern(
            ["-b", "127.0.0.1:\(port)", "-X", "security.protocol=SSL"] + withCertificate.suffix(4) + ["-L", "-m", "5"]
        )
        #expect(untrusted.status != 0, "trusted a certificate from an unknown CA: \(untrusted.output)")
        #expect(
            untrusted.stderr.contains("certificate") || untrusted.stderr.contains("handshake"),
            "\(untrusted.stderr)"
        )
        try await ternd.stop()
    }

    /// SASL/PLAIN and both SCRAMs over SASL_PLAINTEXT, SCRAM-SHA-512 over SASL_SSL; a wrong
    /// password is reported as an authentication failure, and `tern` exits non-zero.
    @Test func ternAuthenticatesWithSasl() async throws {
        let certificates = try await TLSTests.Certificates.make()
        let saslPort = try await freePort()
        let saslSSLPort = try await freePort()
        let ternd = try await TerndProcess.start(
            port: saslPort,
            environment: [
                "TERN_LISTENERS": "SASL_PLAINTEXT://127.0.0.1:\(saslPort),SASL_SSL://127.0.0.1:\(saslSSLPort)",
                "TERN_SSL_KEYSTORE_LOCATION": certificates.keystore,
                "TERN_SASL_BOOTSTRAP_USERS": "alice:wonderland",
            ],
            passesPort: false
        )
        func sasl(_ mechanism: String, password: String = "wonderland") -> [String] {
            [
                "-X", "sasl.mechanisms=\(mechanism)", "-X", "sasl.username=alice", "-X", "sasl.password=\(password)",
            ]
        }
        let plaintext = ["-b", "127.0.0.1:\(saslPort)", "-X", "security.protocol=SASL_PLAINTEXT"]
        for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
            let produced = try await tern(
                plaintext + sasl(mechanism) + ["-P", "-t", "sasl-tern"],
                input: "\(mechanism)\n"
            )
            #expect(produced.status == 0, "\(mechanism): \(produced.stderr)\nlog:\n\(ternd.log)")
        }
        let overTLS = [
            "-b", "127.0.0.1:\(saslSSLPort)", "-X", "security.protocol=SASL_SSL", "-X",
            "ssl.ca.location=\(certificates.ca)",
        ]
        let consumed = try await tern(
            overTLS + sasl("SCRAM-SHA-512") + ["-C", "-t", "sasl-tern", "-o", "beginning", "-e", "-q"]
        )
        #expect(consumed.output == "PLAIN\nSCRAM-SHA-256\nSCRAM-SHA-512\n", "\(consumed.stderr)")

        let wrong = try await tern(plaintext + sasl("SCRAM-SHA-256", password: "nope") + ["-L", "-m", "5"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("uthentication"), "\(wrong.stderr)")
        let noUser = try await tern(plaintext + ["-L", "-m", "5"])
        #expect(noUser.status != 0 && noUser.stderr.contains("sasl.username"), "\(noUser.stderr)")
        try await ternd.stop()
    }
}
