import Logging
import Synchronization
import TernWire

/// Who sent a request, for its reply: the version and correlation id the response is written
/// with, and what the error log says about the sender.
struct RequestOrigin: Sendable {
    var apiVersion: Int16
    var correlationId: Int32
    var clientId: String?
    /// The peer's `ip:port`.
    var remoteAddress: String
    /// The group the request is about, for group APIs whose responses do not name it.
    var groupId: String?
    /// The listener's advertised address (see `Broker.handle`).
    var advertised: AdvertisedEndpoint?
    /// Who sent it, as ACLs name principals: `User:NAME` after SASL, else `User:ANONYMOUS`.
    var principal = "User:ANONYMOUS"
    /// The peer's IP address (ACLs' host).
    var host = ""

    init(header: RequestHeader, remoteAddress: String, request: KafkaRequest) {
        self.apiVersion = header.apiVersion
        self.correlationId = header.correlationId
        self.clientId = header.clientId
        self.remoteAddress = remoteAddress
        self.groupId = request.groupId
    }

    init(apiVersion: Int16, correlationId: Int32, remoteAddress: String) {
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.remoteAddress = remoteAddress
    }
}

extension KafkaRequest {
    /// The one group a group request is about (nil for the APIs that name several, whose responses
    /// name each).
    var groupId: String? {
        switch self {
        case .joinGroup(let request): request.groupId
        case .syncGroup(let request): request.groupId
        case .heartbeat(let request): request.groupId
        case .leaveGroup(let request): request.groupId
        case .offsetCommit(let request): request.groupId
        case .offsetDelete(let request): request.groupId
        case .offsetFetch(let request): request.groups.isEmpty ? request.groupId : nil
        default: nil
        }
    }
}

/// Which answered error codes are logged: the first of each (client id, API, error code), then at
/// most one line per interval for it (see `LogRateLimiter`).
typealias ErrorLogLimiter = LogRateLimiter<ErrorLogKey>

struct ErrorLogKey: Hashable {
    var clientId: String
    var apiKey: ApiKey
    var errorCode: KafkaErrorCode
}

/// Decides which of a repeated log line's occurrences are written: the first of each key, then at
/// most one per `intervalNs` for it, carrying how many were not written since. A client retrying
/// against a missing topic thus costs one line per 10 s, not one per request.
///
/// Pure (the time is passed in); bounded to `capacity` keys, forgetting those quiet for an
/// interval when full.
public struct LogRateLimiter<Key: Hashable>: Sendable where Key: Sendable {
    private struct Entry: Sendable {
        var loggedAtNs: UInt64
        var suppressed: Int
    }

    public let intervalNs: UInt64
    public let capacity: Int
    private var entries: [Key: Entry] = [:]

    public init(intervalNs: UInt64 = 10_000_000_000, capacity: Int = 4096) {
        self.intervalNs = intervalNs
        self.capacity = capacity
    }

    /// nil: do not log this one. Otherwise log it, with how many were left out since the last line.
    public mutating func admit(_ key: Key, nowNs: UInt64) -> Int? {
        if var entry = self.entries[key] {
            guard nowNs &- entry.loggedAtNs >= self.intervalNs else {
                entry.suppressed += 1
                self.entries[key] = entry
                return nil
            }
            self.entries[key] = Entry(loggedAtNs: nowNs, suppressed: 0)
            return entry.suppressed
        }
        if self.entries.count >= self.capacity {
            let intervalNs = self.intervalNs
            self.entries = self.entries.filter { nowNs &- $0.value.loggedAtNs < intervalNs }
            // Still full of active keys: log without tracking rather than grow without bound.
            if self.entries.count >= self.capacity { return 0 }
        }
        self.entries[key] = Entry(loggedAtNs: nowNs, suppressed: 0)
        return 0
    }
}

/// Logs the error codes of responses (see `ErrorLogLimiter` for how often).
final class ErrorLog: Sendable {
    private let limiter = Mutex(ErrorLogLimiter())
    private let logger: Logger
    private let started = ContinuousClock.now

    init(logger: Logger) {
        self.logger = logger
    }

    /// Codes the group protocol answers in its ordinary course (a first JoinGroup is asked for a
    /// member id; members are told to rejoin during a rebalance): debug, not info.
    private static let routineCodes: Set<KafkaErrorCode> = [.memberIdRequired, .rebalanceInProgress]

    func record(_ code: KafkaErrorCode, resource: String?, apiKey: ApiKey, origin: RequestOrigin) {
        let level: Logger.Level = Self.routineCodes.contains(code) ? .debug : .info
        guard self.logger.logLevel <= level else { return }
        let key = ErrorLogKey(clientId: origin.clientId ?? "", apiKey: apiKey, errorCode: code)
        let elapsed = ContinuousClock.now - self.started
        let nowNs =
            UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
        guard let suppressed = self.limiter.withLock({ $0.admit(key, nowNs: nowNs) }) else { return }
        var metadata: Logger.Metadata = [
            "error": "\(code.name)",
            "api": "\(apiKey.name)",
            "clientId": "\(origin.clientId ?? "")",
            "remote": "\(origin.remoteAddress)",
        ]
        if let resource { metadata["resource"] = "\(resource)" }
        if let group = origin.groupId, group != resource { metadata["group"] = "\(group)" }
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        self.logger.log(level: level, "request answered with an error", metadata: metadata)
    }
}
