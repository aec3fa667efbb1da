import Logging
import Synchronization
import TernBroker

/// Kafka's `max.connections`, `max.connections.per.ip` and `max.connections.per.ip.overrides`:
/// counts open connections in all and per client address, and refuses a new one over a limit.
///
/// Kafka blocks `accept` while `max.connections` is reached, so the client sees a connected socket
/// that does not answer until its request times out; Tern closes the new connection at once (as it
/// does for the per-address limit, which Kafka also enforces by closing), so the client sees the
/// refusal and backs off. The check runs once per accepted connection, never per request.
final class ConnectionLimiter: Sendable {
    struct Limits: Sendable, Equatable {
        var maximumConnections: Int
        var maximumConnectionsPerAddress: Int
        /// Per-address limits that replace `maximumConnectionsPerAddress`, keyed by IP address.
        var addressOverrides: [String: Int]

        static let unlimited = Limits(
            maximumConnections: .max,
            maximumConnectionsPerAddress: .max,
            addressOverrides: [:]
        )

        func limit(for address: String) -> Int {
            self.addressOverrides[address] ?? self.maximumConnectionsPerAddress
        }
    }

    enum Refusal: Equatable, CustomStringConvertible {
        case tooManyConnections(limit: Int)
        case tooManyFromAddress(address: String, limit: Int)

        /// The setting that refused it.
        var limitName: String {
            switch self {
            case .tooManyConnections: "max.connections"
            case .tooManyFromAddress: "max.connections.per.ip"
            }
        }

        var description: String {
            switch self {
            case .tooManyConnections(let limit): "max.connections (\(limit)) reached"
            case .tooManyFromAddress(let address, let limit):
                "max.connections.per.ip (\(limit)) reached for \(address)"
            }
        }
    }

    private struct State {
        var total = 0
        var byAddress: [String: Int] = [:]
    }

    let limits: Limits
    private let state = Mutex(State())

    init(limits: Limits) {
        self.limits = limits
    }

    /// Counts a new connection from `address`, or says why it must be refused (then nothing is
    /// counted). Every admitted connection must be `release`d exactly once.
    func admit(address: String) -> Refusal? {
        let limits = self.limits
        return self.state.withLock { state -> Refusal? in
            if state.total >= limits.maximumConnections {
                return .tooManyConnections(limit: limits.maximumConnections)
            }
            let limit = limits.limit(for: address)
            let fromAddress = state.byAddress[address, default: 0]
            if fromAddress >= limit {
                return .tooManyFromAddress(address: address, limit: limit)
            }
            state.total += 1
            state.byAddress[address] = fromAddress + 1
            return nil
        }
    }

    func release(address: String) {
        self.state.withLock { state in
            state.total -= 1
            let remaining = state.byAddress[address, default: 1] - 1
            state.byAddress[address] = remaining > 0 ? remaining : nil
        }
    }

    var openConnections: Int { self.state.withLock { $0.total } }
}

/// The `refusing connection` warning, at most once a second per kind of refusal (with the count of
/// those held back): a flood of refused connections must not flood the log.
final class RefusalLog: Sendable {
    private let logger: Logger
    private let limiter = Mutex(LogRateLimiter<String>(intervalNs: 1_000_000_000, capacity: 16))
    private let started = ContinuousClock.now

    init(logger: Logger) {
        self.logger = logger
    }

    func refused(_ refusal: ConnectionLimiter.Refusal, remote: String) {
        let elapsed = (ContinuousClock.now - self.started).components
        let nowNs = UInt64(elapsed.seconds) * 1_000_000_000 + UInt64(elapsed.attoseconds / 1_000_000_000)
        guard let suppressed = self.limiter.withLock({ $0.admit(refusal.limitName, nowNs: nowNs) }) else { return }
        var metadata: Logger.Metadata = ["remote": "\(remote)", "reason": "\(refusal)"]
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        self.logger.warning("refusing connection", metadata: metadata)
    }
}
