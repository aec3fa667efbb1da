import TernStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One Kafka listener, as Kafka's `listeners`, `advertised.listeners` and
/// `listener.security.protocol.map` describe it (docs/security.md).
public struct ListenerSettings: Sendable, Equatable {
    /// Kafka's security protocols. SASL is not served yet: a listener using it is refused at start.
    public enum SecurityProtocol: String, Sendable, CaseIterable {
        case plaintext = "PLAINTEXT"
        case ssl = "SSL"
        case saslPlaintext = "SASL_PLAINTEXT"
        case saslSsl = "SASL_SSL"

        public var usesTLS: Bool { self == .ssl || self == .saslSsl }
        public var usesSASL: Bool { self == .saslPlaintext || self == .saslSsl }
    }

    /// The listener's name (`PLAINTEXT`, `SSL`, `INTERNAL`, …).
    public var name: String
    public var securityProtocol: SecurityProtocol
    /// Address to bind; `0.0.0.0` for every interface.
    public var host: String
    public var port: Int
    /// What Metadata tells clients that connected on this listener.
    public var advertisedHost: String
    public var advertisedPort: Int32
    /// `listener.name.NAME.sasl.enabled.mechanisms`: this SASL listener's mechanisms; nil: the
    /// broker's `sasl.enabled.mechanisms`.
    public var saslMechanisms: [SaslMechanism]?

    public init(
        name: String,
        securityProtocol: SecurityProtocol,
        host: String,
        port: Int,
        advertisedHost: String,
        advertisedPort: Int32,
        saslMechanisms: [SaslMechanism]? = nil
    ) {
        self.name = name
        self.securityProtocol = securityProtocol
        self.host = host
        self.port = port
        self.advertisedHost = advertisedHost
        self.advertisedPort = advertisedPort
        self.saslMechanisms = saslMechanisms
    }

    public var advertised: AdvertisedEndpoint {
        AdvertisedEndpoint(host: self.advertisedHost, port: self.advertisedPort)
    }
}

/// The host and port a broker tells clients to connect to (Metadata, FindCoordinator,
/// DescribeCluster): the advertised address of the listener the request came in on.
public struct AdvertisedEndpoint: Sendable, Hashable {
    public var host: String
    public var port: Int32

    public init(host: String, port: Int32) {
        self.host = host
        self.port = port
    }
}

/// TLS for the listeners whose protocol is SSL or SASL_SSL, with Kafka's property names. Only the
/// PEM store type is read (Kafka 2.7+ accepts it too): the keystore is one PEM file holding the
/// private key and the certificate chain, the truststore the CA certificates.
public struct TLSSettings: Sendable, Equatable {
    /// `ssl.client.auth`: whether clients must present a certificate the truststore verifies.
    public enum ClientAuthentication: String, Sendable {
        case none
        case requested
        case required
    }

    /// `ssl.keystore.location`.
    public var keystoreLocation: String
    /// `ssl.key.password` (or `ssl.keystore.password`): the passphrase of an encrypted private key.
    public var keyPassword: String?
    /// `ssl.truststore.location`: CA certificates that verify client certificates.
    public var truststoreLocation: String?
    public var clientAuthentication: ClientAuthentication
    /// `ssl.principal.mapping.rules`: the user a client certificate's subject stands for.
    public var principalMapper: SslPrincipalMapper

    public init(
        keystoreLocation: String,
        keyPassword: String? = nil,
        truststoreLocation: String? = nil,
        clientAuthentication: ClientAuthentication = .none,
        principalMapper: SslPrincipalMapper = .default
    ) {
        self.keystoreLocation = keystoreLocation
        self.keyPassword = keyPassword
        self.truststoreLocation = truststoreLocation
        self.clientAuthentication = clientAuthentication
        self.principalMapper = principalMapper
    }
}

extension BrokerSettings {
    /// Keys whose values DescribeConfigs never returns (Kafka's PASSWORD type).
    public static let sensitiveKeys: Set<String> = [
        "ssl.keystore.password", "ssl.key.password", "ssl.truststore.password", "sasl.bootstrap.users",
        "http.ssl.key.password",
    ]

    static let listenerKeyCatalogue: [String: (type: LogConfig.ValueType, documentation: String)] = [
        "listeners": (.list, "Kafka listeners as NAME://host:port, comma-separated (replaces host and port)."),
        "advertised.listeners": (.list, "What Metadata tells clients of each listener, NAME://host:port."),
        "listener.security.protocol.map": (.list, "NAME:PROTOCOL pairs (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)."),
        "ssl.keystore.type": (.string, "PEM (the only type read)."),
        "ssl.keystore.location": (.string, "PEM file with the private key and certificate chain."),
        "ssl.keystore.password": (.string, "Passphrase of an encrypted private key (as ssl.key.password)."),
        "ssl.key.password": (.string, "Passphrase of an encrypted private key."),
        "ssl.truststore.type": (.string, "PEM (the only type read)."),
        "ssl.truststore.location": (.string, "PEM file with the CA certificates that verify client certificates."),
        "ssl.truststore.password": (.string, "Not used for PEM truststores."),
        "ssl.client.auth": (.string, "none, requested or required: client certificates (mTLS)."),
        "http.ssl.keystore.location": (.string, "PEM key and certificate chain: the admin listener serves HTTPS."),
        "http.ssl.key.password": (.string, "Passphrase of an encrypted admin listener key."),
        "http.ssl.truststore.location": (.string, "PEM CA certificates that verify admin clients' certificates."),
        "http.ssl.client.auth": (.string, "none, requested or required: client certificates on the admin listener."),
        "ssl.principal.mapping.rules": (
            .string, "RULE:pattern/replacement/[LU] and DEFAULT rules: the user of a client certificate's subject."
        ),
        "sasl.enabled.mechanisms": (
            .list, "SASL mechanisms of the SASL listeners: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512."
        ),
        "sasl.bootstrap.users": (.list, "user:password pairs created at start when absent (salted, never stored)."),
        "authorizer.class.name": (.string, "Kafka's StandardAuthorizer or AclAuthorizer class name turns ACLs on."),
        "super.users": (.string, "Principals allowed everything, semicolon-separated (User:admin;User:ops)."),
        "allow.everyone.if.no.acl.found": (.boolean, "Whether a resource without any ACL is open to everyone."),
    ]

    /// `listeners`, `advertised.listeners`, `listener.security.protocol.map` and the `ssl.*` keys.
    /// Without `listeners`: one PLAINTEXT listener on `host`/`port`, advertised as
    /// `advertised.host`/`advertised.port` (or `host`/`port`).
    static func resolveListeners(
        _ merged: [String: String],
        into settings: inout BrokerSettings
    ) throws(Error) {
        // SASL users and the authorizer apply whatever the listeners (PLAINTEXT clients are
        // User:ANONYMOUS to the authorizer).
        try resolveSasl(merged, into: &settings)
        try resolveAuthorizer(merged, into: &settings)
        try resolveAdminTLS(merged, into: &settings)
        guard let value = merged["listeners"] else {
            settings.listeners = [
                ListenerSettings(
                    name: "PLAINTEXT",
                    securityProtocol: .plaintext,
                    host: settings.host,
                    port: settings.port,
                    advertisedHost: settings.broker.advertisedHost,
                    advertisedPort: settings.broker.advertisedPort
                )
            ]
            if merged["advertised.listeners"] != nil {
                throw Error(description: "advertised.listeners is set but listeners is not")
            }
            return
        }
        for legacy in ["host", "port", "advertised.host", "advertised.port"] where merged[legacy] != nil {
            let flag = legacy == "port" ? " (--port)" : legacy == "host" ? " (--host)" : ""
            throw Error(description: "\(legacy)\(flag) and listeners are both set: give every listener in listeners")
        }
        var protocols: [String: ListenerSettings.SecurityProtocol] = [:]
        for securityProtocol in ListenerSettings.SecurityProtocol.allCases {
            protocols[securityProtocol.rawValue] = securityProtocol
        }
        if let map = merged["listener.security.protocol.map"] {
            protocols = [:]
            for entry in map.split(separator: ",") {
                let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
                guard parts.count == 2, !parts[0].isEmpty,
                    let securityProtocol = ListenerSettings.SecurityProtocol(rawValue: parts[1].uppercased())
                else {
                    throw Error(
                        description: "listener.security.protocol.map: expected NAME:PROTOCOL with PROTOCOL one of "
                            + "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; got \"\(entry)\""
                    )
                }
                protocols[parts[0].uppercased()] = securityProtocol
            }
        }
        var listeners: [ListenerSettings] = []
        for endpoint in try parseEndpoints(value, key: "listeners") {
            guard let securityProtocol = protocols[endpoint.name] else {
                throw Error(
                    description: "listeners: \(endpoint.name) has no security protocol; name it after one "
                        + "(PLAINTEXT, SSL, …) or map it in listener.security.protocol.map"
                )
            }
            guard !listeners.contains(where: { $0.name == endpoint.name }) else {
                throw Error(description: "listeners: \(endpoint.name) is given twice")
            }
            let bindsEverywhere = endpoint.host.isEmpty || endpoint.host == "0.0.0.0" || endpoint.host == "::"
            listeners.append(
                ListenerSettings(
                    name: endpoint.name,
                    securityProtocol: securityProtocol,
                    host: endpoint.host.isEmpty ? "0.0.0.0" : endpoint.host,
                    port: endpoint.port,
                    // Kafka advertises the machine's name for a listener on every interface.
                    advertisedHost: bindsEverywhere ? Self.hostName() : endpoint.host,
                    advertisedPort: Int32(endpoint.port)
                )
            )
        }
        if let advertised = merged["advertised.listeners"] {
            for endpoint in try parseEndpoints(advertised, key: "advertised.listeners") {
                guard let index = listeners.firstIndex(where: { $0.name == endpoint.name }) else {
                    throw Error(description: "advertised.listeners: \(endpoint.name) is not in listeners")
                }
                guard !endpoint.host.isEmpty, endpoint.host != "0.0.0.0" else {
                    throw Error(description: "advertised.listeners: \(endpoint.name) needs a host clients can reach")
                }
                listeners[index].advertisedHost = endpoint.host
                listeners[index].advertisedPort = Int32(endpoint.port)
            }
        }
        // listener.name.NAME.sasl.enabled.mechanisms, for a SASL listener that exists.
        for key in merged.keys.sorted() where isListenerPrefixedKey(key) {
            let rest = key.dropFirst("listener.name.".count)
            let name = String(rest[..<rest.firstIndex(of: ".")!]).uppercased()
            guard let index = listeners.firstIndex(where: { $0.name == name }) else {
                throw Error(description: "\(key): there is no listener \(name) in listeners")
            }
            guard listeners[index].securityProtocol.usesSASL else {
                throw Error(description: "\(key): listener \(name) is not a SASL listener")
            }
            listeners[index].saslMechanisms = try parseMechanisms(merged[key]!, key: key)
        }
        settings.listeners = listeners
        settings.host = listeners[0].host
        settings.port = listeners[0].port
        settings.broker.advertisedHost = listeners[0].advertisedHost
        settings.broker.advertisedPort = listeners[0].advertisedPort

        guard listeners.contains(where: { $0.securityProtocol.usesTLS }) else { return }
        for key in ["ssl.keystore.type", "ssl.truststore.type"] {
            if let type = merged[key], type.uppercased() != "PEM" {
                throw Error(description: "\(key)=\(type): only PEM is supported")
            }
        }
        guard let keystore = merged["ssl.keystore.location"] else {
            throw Error(
                description: "an SSL listener needs ssl.keystore.location (a PEM file: key and certificate chain)"
            )
        }
        var tls = try tlsSettings(
            merged,
            prefix: "ssl.",
            keystore: keystore,
            keyPassword: merged["ssl.key.password"] ?? merged["ssl.keystore.password"]
        )
        if let rules = merged["ssl.principal.mapping.rules"] {
            do {
                tls.principalMapper = try SslPrincipalMapper(rules: rules)
            } catch {
                throw Error(description: error.description)
            }
        }
        settings.tls = tls
    }

    /// The keystore, truststore and client-auth keys under `prefix` (`ssl.` for the Kafka
    /// listeners, `http.ssl.` for the admin listener), checked alike.
    private static func tlsSettings(
        _ merged: [String: String],
        prefix: String,
        keystore: String,
        keyPassword: String?
    ) throws(Error) -> TLSSettings {
        var tls = TLSSettings(
            keystoreLocation: keystore,
            keyPassword: keyPassword,
            truststoreLocation: merged[prefix + "truststore.location"]
        )
        if let value = merged[prefix + "client.auth"] {
            guard let mode = TLSSettings.ClientAuthentication(rawValue: value.lowercased()) else {
                throw Error(description: "\(prefix)client.auth=\(value): expected none, requested or required")
            }
            tls.clientAuthentication = mode
        }
        if tls.clientAuthentication != .none && tls.truststoreLocation == nil {
            throw Error(
                description: "\(prefix)client.auth=\(tls.clientAuthentication.rawValue) needs "
                    + "\(prefix)truststore.location (the CA certificates that verify clients)"
            )
        }
        return tls
    }

    /// `http.ssl.*`: HTTPS on the admin listener, with the Kafka listeners' PEM conventions.
    private static func resolveAdminTLS(_ merged: [String: String], into settings: inout BrokerSettings) throws(Error) {
        guard let keystore = merged["http.ssl.keystore.location"] else {
            for key in ["http.ssl.truststore.location", "http.ssl.client.auth", "http.ssl.key.password"]
            where merged[key] != nil {
                throw Error(description: "\(key) needs http.ssl.keystore.location (HTTPS on the admin listener)")
            }
            return
        }
        settings.httpTLS = try tlsSettings(
            merged,
            prefix: "http.ssl.",
            keystore: keystore,
            keyPassword: merged["http.ssl.key.password"]
        )
    }

    /// Kafka's listener-prefixed form of a key: `listener.name.<listener, lower-case>.<key>`.
    static let listenerPrefixedKeys: Set<String> = ["sasl.enabled.mechanisms"]

    /// Whether `key` is a listener-prefixed form of one of `listenerPrefixedKeys` (the listener is
    /// checked when the listeners are resolved).
    static func isListenerPrefixedKey(_ key: String) -> Bool {
        guard key.hasPrefix("listener.name.") else { return false }
        let rest = key.dropFirst("listener.name.".count)
        guard let dot = rest.firstIndex(of: ".") else { return false }
        return listenerPrefixedKeys.contains(String(rest[rest.index(after: dot)...]))
    }

    private static func parseMechanisms(_ value: String, key: String) throws(Error) -> [SaslMechanism] {
        var mechanisms: [SaslMechanism] = []
        for name in value.split(separator: ",").map({ $0.trimmingSpaces().uppercased() }) where !name.isEmpty {
            guard let mechanism = SaslMechanism(rawValue: name) else {
                throw Error(
                    description: "\(key): \(name) is not supported (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are)"
                )
            }
            mechanisms.append(mechanism)
        }
        guard !mechanisms.isEmpty else { throw Error(description: "\(key) is empty") }
        return mechanisms
    }

    /// `sasl.enabled.mechanisms` and `sasl.bootstrap.users`.
    private static func resolveSasl(_ merged: [String: String], into settings: inout BrokerSettings) throws(Error) {
        if let value = merged["sasl.enabled.mechanisms"] {
            settings.saslMechanisms = try parseMechanisms(value, key: "sasl.enabled.mechanisms")
        }
        if let value = merged["sasl.bootstrap.users"] {
            for entry in value.split(separator: ",") {
                let parts = entry.trimmingSpaces().split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw Error(description: "sasl.bootstrap.users: expected user:password pairs")
                }
                settings.broker.saslBootstrapUsers.append((String(parts[0]), String(parts[1])))
            }
        }
    }

    /// Kafka's authorizer class names, either of which turns ACL enforcement on.
    static let authorizerClassNames: Set<String> = [
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer",
    ]

    /// `authorizer.class.name`, `super.users` and `allow.everyone.if.no.acl.found`.
    private static func resolveAuthorizer(_ merged: [String: String], into settings: inout BrokerSettings) throws(Error)
    {
        let className = merged["authorizer.class.name"]?.trimmingSpaces() ?? ""
        var authorizer = Authorizer()
        if let value = merged["super.users"] {
            for principal in value.split(separator: ";").map({ $0.trimmingSpaces() }) where !principal.isEmpty {
                guard principal.contains(":") else {
                    throw Error(description: "super.users: \(principal) is not a principal (User:name)")
                }
                authorizer.superUsers.insert(principal)
            }
        }
        if let value = merged["allow.everyone.if.no.acl.found"] {
            switch value.lowercased() {
            case "true": authorizer.allowEveryoneIfNoAclFound = true
            case "false": authorizer.allowEveryoneIfNoAclFound = false
            default: throw Error(description: "allow.everyone.if.no.acl.found=\(value): expected true or false")
            }
        }
        guard !className.isEmpty else { return }
        guard Self.authorizerClassNames.contains(className) else {
            throw Error(
                description: "authorizer.class.name=\(className): Tern's built-in authorizer answers to "
                    + Self.authorizerClassNames.sorted().joined(separator: " or ")
            )
        }
        settings.broker.authorizer = authorizer
    }

    /// `NAME://host:port` entries; `[v6]` hosts allowed, an empty host means every interface.
    private static func parseEndpoints(_ value: String, key: String) throws(Error) -> [(
        name: String, host: String, port: Int
    )] {
        var endpoints: [(name: String, host: String, port: Int)] = []
        for entry in value.split(separator: ",") {
            let entry = entry.trimmingSpaces()
            let parts = entry.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw Error(description: "\(key): expected NAME://host:port, got \"\(entry)\"")
            }
            let name = parts[0].uppercased()
            let address = parts[1]
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
                (0...65535).contains(port), !name.isEmpty
            else {
                throw Error(description: "\(key): expected NAME://host:port, got \"\(entry)\"")
            }
            var host = String(address[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            endpoints.append((name, host, port))
        }
        guard !endpoints.isEmpty else { throw Error(description: "\(key) is empty") }
        return endpoints
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
