/// What every Tern client (producer, consumer, admin) needs to reach a cluster.
public struct ClientConfiguration: Sendable {
    /// `host:port` pairs (port 9092 when omitted). Any one of them is enough; the rest of the
    /// cluster is learnt from metadata.
    public var bootstrapServers: [String]
    /// Sent in every request header; brokers show it in logs and metrics.
    public var clientId: String = "tern"
    /// How long a request waits for its answer before the connection is dropped.
    public var requestTimeout: Duration = .seconds(30)
    /// How long a TCP connect may take.
    public var connectTimeout: Duration = .seconds(10)
    /// Cached metadata older than this is refreshed before it is used.
    public var metadataMaxAge: Duration = .seconds(300)
    /// Wait before reconnecting to a broker after a failure; doubles per failure up to
    /// `reconnectBackoffMax`.
    public var reconnectBackoff: Duration = .milliseconds(50)
    public var reconnectBackoffMax: Duration = .seconds(1)
    /// Largest response frame accepted (Fetch responses are bounded by `fetchMaxBytes` anyway).
    public var maximumResponseBytes: Int = 128 * 1024 * 1024
    /// TLS to every broker (Kafka's `security.protocol` SSL or SASL_SSL); nil: plaintext.
    public var tls: ClientTLS?
    /// SASL authentication on every connection (SASL_PLAINTEXT, or SASL_SSL with `tls`).
    public var sasl: ClientSASL?

    public init(bootstrapServers: [String]) {
        self.bootstrapServers = bootstrapServers
    }

    /// `"a:9092,b:9093"` as Kafka's `bootstrap.servers` writes it.
    public init(bootstrapServers: String) {
        self.init(bootstrapServers: bootstrapServers.split(separator: ",").map { String($0).trimmed })
    }
}

/// TLS settings, named after librdkafka's `ssl.*` properties.
public struct ClientTLS: Sendable, Equatable {
    /// `ssl.ca.location`: PEM file of the CA certificates that verify brokers; nil: the system's.
    public var caLocation: String?
    /// `ssl.certificate.location` and `ssl.key.location`: this client's certificate chain and
    /// private key (PEM), for brokers that ask for one (mTLS).
    public var certificateLocation: String?
    public var keyLocation: String?
    /// `ssl.key.password`: passphrase of an encrypted private key.
    public var keyPassword: String?
    /// `enable.ssl.certificate.verification`: false accepts any broker certificate.
    public var verifiesCertificate = true
    /// `ssl.endpoint.identification.algorithm=https`: the certificate must name the broker's
    /// host (or IP address); `none` checks only the chain.
    public var verifiesHostname = true

    public init(caLocation: String? = nil) {
        self.caLocation = caLocation
    }
}

/// SASL settings, named after librdkafka's `sasl.*` properties.
public struct ClientSASL: Sendable, Equatable {
    public enum Mechanism: String, Sendable, CaseIterable {
        case plain = "PLAIN"
        case scramSha256 = "SCRAM-SHA-256"
        case scramSha512 = "SCRAM-SHA-512"
    }

    public var mechanism: Mechanism
    public var username: String
    public var password: String

    public init(mechanism: Mechanism, username: String, password: String) {
        self.mechanism = mechanism
        self.username = username
        self.password = password
    }
}

struct BrokerAddress: Hashable, Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    /// Parses `host`, `host:port`, `[v6]:port`.
    init(parsing text: String, defaultPort: Int = 9092) throws(TernClientError) {
        var text = Substring(text.trimmed)
        if let schemeEnd = text.firstRange(of: "://") { text = text[schemeEnd.upperBound...] }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            self.host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            self.port = rest.hasPrefix(":") ? Int(rest.dropFirst()) ?? -1 : defaultPort
        } else if let colon = text.lastIndex(of: ":") {
            self.host = String(text[..<colon])
            self.port = Int(text[text.index(after: colon)...]) ?? -1
        } else {
            self.host = String(text)
            self.port = defaultPort
        }
        guard !self.host.isEmpty, (1...65535).contains(self.port) else {
            throw TernClientError(.invalidConfiguration, "invalid broker address \"\(text)\" (expected host:port)")
        }
    }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
}

extension String {
    var trimmed: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
