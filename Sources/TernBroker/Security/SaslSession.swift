import FoundationEssentials
import Synchronization
import TernScram

/// The SASL mechanisms Tern serves.
public enum SaslMechanism: String, Sendable, CaseIterable {
    case plain = "PLAIN"
    case scramSha256 = "SCRAM-SHA-256"
    case scramSha512 = "SCRAM-SHA-512"

    var scram: ScramMechanism? {
        switch self {
        case .plain: nil
        case .scramSha256: .sha256
        case .scramSha512: .sha512
        }
    }
}

/// One connection's SASL authentication on a SASL listener, made by the transport when the
/// connection is accepted and passed with each of its requests (`Broker.handle`). Until it is
/// authenticated, the connection may send only ApiVersions, SaslHandshake and SaslAuthenticate.
public final class SaslSession: Sendable {
    enum State: Sendable {
        case awaitingHandshake
        case awaitingPlain
        case scram(ScramServerExchange, sentServerFirst: Bool)
        case authenticated(user: String)
    }

    let enabledMechanisms: [SaslMechanism]
    let state = Mutex(State.awaitingHandshake)
    /// KIP-368: when the authentication ends (nil: never), and, during a re-authentication, the
    /// user and mechanism it must keep.
    let lifetime = Mutex<(expiresAt: ContinuousClock.Instant?, reauthenticating: (String, SaslMechanism)?)>((nil, nil))
    /// The mechanism of the current or last authentication.
    let mechanism = Mutex<SaslMechanism?>(nil)

    public init(enabledMechanisms: [SaslMechanism]) {
        self.enabledMechanisms = enabledMechanisms
    }

    /// Whether the authentication's lifetime (`connections.max.reauth.ms`) has run out.
    var hasExpired: Bool {
        self.lifetime.withLock { $0.expiresAt.map { ContinuousClock.now >= $0 } ?? false }
    }

    /// The authenticated user name (Kafka's principal `User:NAME`), nil before.
    public var user: String? {
        self.state.withLock { state in
            if case .authenticated(let user) = state { return user }
            return nil
        }
    }
}

/// Users' salted SCRAM credentials, persisted in the data directory (`sasl-credentials`, JSON),
/// never a password. PLAIN authenticates against the SCRAM-SHA-512 credential (or SCRAM-SHA-256
/// when that is all a user has), as Redpanda does.
public final class ScramCredentialStore: Sendable {
    static let fileName = "sasl-credentials"
    private let credentials: Mutex<[String: [ScramMechanism: ScramCredential]]>
    private let logs: DataFileAccess?

    init(files: DataFileAccess?) throws {
        self.logs = files
        var loaded: [String: [ScramMechanism: ScramCredential]] = [:]
        if let bytes = try files?.read() {
            do {
                loaded = try JSONDecoder().decode([String: [ScramMechanism: ScramCredential]].self, from: Data(bytes))
            } catch {
                throw SaslFailure("the data directory's \(Self.fileName) cannot be read: \(error)")
            }
        }
        self.credentials = Mutex(loaded)
    }

    func credential(user: String, mechanism: ScramMechanism) -> ScramCredential? {
        self.credentials.withLock { $0[user]?[mechanism] }
    }

    /// PLAIN: whether `password` is `user`'s.
    func verify(user: String, password: String) -> Bool {
        let stored = self.credentials.withLock { $0[user] }
        guard let stored else { return false }
        if let credential = stored[.sha512] { return credential.matches(password: password, mechanism: .sha512) }
        if let credential = stored[.sha256] { return credential.matches(password: password, mechanism: .sha256) }
        return false
    }

    var users: [String] { self.credentials.withLock { $0.keys.sorted() } }

    /// Sets `user`'s credentials for every SCRAM mechanism from `password` (fresh salts), and
    /// persists them before returning.
    func setPassword(_ password: String, for user: String, iterations: Int = ScramMechanism.minimumIterations) throws {
        var entry: [ScramMechanism: ScramCredential] = [:]
        for mechanism in ScramMechanism.allCases {
            entry[mechanism] = ScramCredential.make(
                password: password,
                mechanism: mechanism,
                salt: ScramCredential.randomSalt(),
                iterations: iterations
            )
        }
        try self.credentials.withLock { credentials in
            var updated = credentials
            updated[user] = entry
            try self.persist(updated)
            credentials = updated
        }
    }

    /// Each user's mechanisms and their iteration counts (DescribeUserScramCredentials).
    var described: [String: [ScramMechanism: Int]] {
        self.credentials.withLock { $0.mapValues { $0.mapValues(\.iterations) } }
    }

    /// AlterUserScramCredentials: deletions then upsertions, persisted before returning (and
    /// nothing changed when the file cannot be written). A user left without credentials is gone.
    func alter(
        deleting deletions: [(user: String, mechanism: ScramMechanism)],
        upserting upsertions: [(user: String, mechanism: ScramMechanism, credential: ScramCredential)]
    ) throws {
        try self.credentials.withLock { credentials in
            var updated = credentials
            for (user, mechanism) in deletions {
                updated[user]?[mechanism] = nil
                if updated[user]?.isEmpty == true { updated[user] = nil }
            }
            for (user, mechanism, credential) in upsertions { updated[user, default: [:]][mechanism] = credential }
            try self.persist(updated)
            credentials = updated
        }
    }

    private func persist(_ snapshot: [String: [ScramMechanism: ScramCredential]]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try self.logs?.write(Array(try encoder.encode(snapshot)))
    }
}
