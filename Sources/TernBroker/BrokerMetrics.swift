import CoreMetrics
import Metrics
import Synchronization
import TernWire

/// Metric names of the broker layer; docs/operations.md lists every metric.
public enum BrokerMetricNames {
    public static let requests = "tern_requests_total"
    public static let requestDuration = "tern_request_duration_seconds"
    public static let requestErrors = "tern_request_errors_total"
    public static let rejectedRequests = "tern_requests_rejected_total"
    public static let connectionsOpen = "tern_connections_open"
    public static let connectionsAccepted = "tern_connections_accepted_total"
    public static let slowConnectionsClosed = "tern_connections_closed_slow_total"
    public static let rebalances = "tern_group_rebalances_total"
}

/// The broker's request and connection metrics, through swift-metrics.
///
/// Everything a request touches is resolved up front: one slot per API key holds its counter and
/// latency timer, so a request costs an array index, an atomic add and a histogram record, never a
/// string or a dictionary. Error counters are made on the first error of each (API, code) pair; a
/// response without errors only compares codes with zero.
public final class BrokerMetrics: Sendable {
    private struct ApiSlot: Sendable {
        var requests: Counter
        var duration: Metrics.Timer
    }

    /// Indexed by API key; nil for keys the broker does not serve.
    private let slots: [ApiSlot?]
    private let errors = Mutex<[Int32: Counter]>([:])
    private let rejected = Counter(label: BrokerMetricNames.rejectedRequests)
    private let connectionsOpen = Meter(label: BrokerMetricNames.connectionsOpen)
    private let connectionsAccepted = Counter(label: BrokerMetricNames.connectionsAccepted)
    private let slowConnectionsClosed = Counter(label: BrokerMetricNames.slowConnectionsClosed)
    private let rebalances = Counter(label: BrokerMetricNames.rebalances)

    public init(apiKeys: [ApiKey] = Broker.advertisedApis.map(\.apiKey)) {
        let maximumKey = Int(apiKeys.map(\.rawValue).max() ?? 0)
        var slots = [ApiSlot?](repeating: nil, count: maximumKey + 1)
        for key in apiKeys where key.rawValue >= 0 {
            let dimensions = [("api", key.name)]
            slots[Int(key.rawValue)] = ApiSlot(
                requests: Counter(label: BrokerMetricNames.requests, dimensions: dimensions),
                duration: Metrics.Timer(label: BrokerMetricNames.requestDuration, dimensions: dimensions)
            )
        }
        self.slots = slots
    }

    /// A request was answered (or, for acks=0, handled) `nanoseconds` after it was read.
    public func requestCompleted(apiKey: Int16, nanoseconds: Int64) {
        guard apiKey >= 0, Int(apiKey) < self.slots.count, let slot = self.slots[Int(apiKey)] else { return }
        slot.requests.increment()
        slot.duration.recordNanoseconds(nanoseconds)
    }

    /// A request the broker could not serve (unsupported API or version, undecodable): Kafka closes
    /// the connection.
    public func requestRejected() {
        self.rejected.increment()
    }

    public func connectionOpened() {
        self.connectionsAccepted.increment()
        self.connectionsOpen.increment()
    }

    public func connectionClosed() {
        self.connectionsOpen.decrement()
    }

    /// A connection was closed because its client stopped reading (`socket.write.timeout.ms`).
    public func slowConnectionClosed() {
        self.slowConnectionsClosed.increment()
    }

    func rebalanceCompleted() {
        self.rebalances.increment()
    }

    /// Counts one error code of a response (codes other than NONE only).
    func countError(_ code: KafkaErrorCode, apiKey: ApiKey) {
        guard code != .none else { return }
        let key = Int32(apiKey.rawValue) << 16 | Int32(UInt16(bitPattern: code.rawValue))
        let counter = self.errors.withLock { errors in
            if let counter = errors[key] { return counter }
            let counter = Counter(
                label: BrokerMetricNames.requestErrors,
                dimensions: [("api", apiKey.name), ("error", code.name)]
            )
            errors[key] = counter
            return counter
        }
        counter.increment()
    }
}
