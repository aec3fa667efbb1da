import NIOSSL
import TernBroker

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension KafkaServer.Configuration {
    /// The listener part of resolved broker settings for their first listener, without TLS (what
    /// TernTestKit serves with).
    public init(settings: BrokerSettings) {
        self.init(
            host: settings.host,
            port: settings.port,
            maximumRequestBytes: settings.maximumRequestBytes,
            connectionsMaxIdleMs: settings.connectionsMaxIdleMs,
            writeTimeoutMs: settings.socketWriteTimeoutMs,
            maximumConnections: settings.maximumConnections,
            maximumConnectionsPerAddress: settings.maximumConnectionsPerAddress,
            connectionsPerAddressOverrides: settings.connectionsPerAddressOverrides
        )
    }

    /// One listener of `settings` (what ternd serves each of `settings.listeners` with); `tls`
    /// from `KafkaServer.makeTLSContext` for an SSL listener.
    public init(settings: BrokerSettings, listener: ListenerSettings, tls: TLSContextBox?) {
        self.init(settings: settings)
        self.host = listener.host
        self.port = listener.port
        self.listenerName = listener.name
        self.advertised = listener.advertised
        self.tls = listener.securityProtocol.usesTLS ? tls : nil
        if self.tls != nil, let settings = settings.tls, settings.clientAuthentication != .none {
            self.certificatePrincipalMapper = settings.principalMapper
        }
        self.saslMechanisms =
            listener.securityProtocol.usesSASL ? listener.saslMechanisms ?? settings.saslMechanisms : nil
    }
}

extension KafkaServer {
    /// The TLS context of the SSL listeners, from PEM files as Kafka's `ssl.keystore.type=PEM`
    /// reads them: the keystore holds the private key and the certificate chain (leaf first).
    public static func makeTLSContext(_ settings: TLSSettings) throws -> NIOSSLContext {
        let keystore: [UInt8]
        do {
            keystore = try readWholeFile(atPath: settings.keystoreLocation)
        } catch {
            throw TLSSetupError("ssl.keystore.location \(settings.keystoreLocation): \(error)")
        }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(keystore)
        } catch {
            throw TLSSetupError("ssl.keystore.location \(settings.keystoreLocation): no PEM certificate: \(error)")
        }
        guard !chain.isEmpty else {
            throw TLSSetupError("ssl.keystore.location \(settings.keystoreLocation) holds no certificate")
        }
        do {
            if let password = settings.keyPassword {
                key = try NIOSSLPrivateKey(bytes: keystore, format: .pem) { setPassphrase in
                    setPassphrase(Array(password.utf8))
                }
            } else {
                key = try NIOSSLPrivateKey(bytes: keystore, format: .pem)
            }
        } catch {
            throw TLSSetupError(
                "ssl.keystore.location \(settings.keystoreLocation): no usable PEM private key "
                    + "(an encrypted one needs ssl.key.password): \(error)"
            )
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        if let truststore = settings.truststoreLocation {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMBytes(readWholeFile(atPath: truststore))
            } catch {
                throw TLSSetupError("ssl.truststore.location \(truststore): \(error)")
            }
            configuration.trustRoots = .certificates(roots)
        }
        switch settings.clientAuthentication {
        case .none: configuration.certificateVerification = .none
        case .requested: configuration.certificateVerification = .optionalVerification
        // Kafka checks client certificates against the truststore, not a host name.
        case .required: configuration.certificateVerification = .noHostnameVerification
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("cannot set up TLS: \(error)")
        }
    }
}

/// Why the TLS settings cannot be used, naming the property to fix.
public struct TLSSetupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// A whole file's bytes, for the small files a broker reads at start (PEM stores, `--config`).
public func readWholeFile(atPath path: String) throws -> [UInt8] {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
        throw FileReadError(description: "cannot read \(path): \(describeErrno("open", errno))")
    }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16 << 10)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else {
            throw FileReadError(description: "cannot read \(path): \(describeErrno("read", errno))")
        }
        if count == 0 { return bytes }
        bytes += chunk[..<count]
    }
}

public struct FileReadError: Error, CustomStringConvertible {
    public var description: String
}
