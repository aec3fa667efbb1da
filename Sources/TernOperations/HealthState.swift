import Synchronization

/// What the probes report: the broker's lifecycle phase, set by `ternd` as it starts and stops.
///
/// - `/health/live`: 200 whenever the process answers.
/// - `/health/startup`: 503 until the broker was ready once, then 200 for good (Kubernetes stops
///   probing startup after its first success and hands over to the liveness probe).
/// - `/health/ready`: 200 only while ready: data directory loaded, recovery done, Kafka listener
///   bound, not shutting down, and the degradation check (`setDegradationCheck`, e.g. failed
///   partition logs) finds nothing. Otherwise 503 with a JSON reason.
public final class HealthState: Sendable {
    public enum Phase: Sendable, Hashable {
        case starting(reason: String)
        case ready
        case draining(reason: String)
    }

    /// An HTTP answer: status code and a JSON body.
    public struct Answer: Sendable, Hashable {
        public var status: Int
        public var body: String
    }

    private struct State {
        var phase: Phase = .starting(reason: "starting")
        var wasReady = false
        var degradation: (@Sendable () -> String?)?
    }

    private let state = Mutex(State())

    public init() {}

    public var phase: Phase { self.state.withLock { $0.phase } }

    /// Still starting; `reason` says what it is doing (shown by the probes).
    public func starting(_ reason: String) {
        self.state.withLock { state in
            if case .starting = state.phase { state.phase = .starting(reason: reason) }
        }
    }

    public func ready() {
        self.state.withLock { state in
            guard case .starting = state.phase else { return }
            state.phase = .ready
            state.wasReady = true
        }
    }

    /// While ready, `check` is asked at each readiness probe; a reason it returns makes the probe
    /// answer 503 "degraded" with that reason.
    public func setDegradationCheck(_ check: @escaping @Sendable () -> String?) {
        self.state.withLock { $0.degradation = check }
    }

    /// Shutting down: readiness fails from now on, whatever came before.
    public func draining(_ reason: String) {
        self.state.withLock { $0.phase = .draining(reason: reason) }
    }

    public var liveness: Answer { Answer(status: 200, body: #"{"status":"alive"}"#) }

    public var readiness: Answer {
        let (phase, degradation) = self.state.withLock { ($0.phase, $0.degradation) }
        switch phase {
        case .ready:
            if let reason = degradation?() { return Self.unavailable("degraded", reason) }
            return Answer(status: 200, body: #"{"status":"ready"}"#)
        case .starting(let reason): return Self.unavailable("starting", reason)
        case .draining(let reason): return Self.unavailable("draining", reason)
        }
    }

    public var startup: Answer {
        let (phase, wasReady) = self.state.withLock { ($0.phase, $0.wasReady) }
        if wasReady { return Answer(status: 200, body: #"{"status":"started"}"#) }
        switch phase {
        case .starting(let reason): return Self.unavailable("starting", reason)
        case .draining(let reason): return Self.unavailable("draining", reason)
        case .ready: return Answer(status: 200, body: #"{"status":"started"}"#)
        }
    }

    private static func unavailable(_ status: String, _ reason: String) -> Answer {
        Answer(status: 503, body: #"{"status":"\#(status)","reason":"\#(JSON.escape(reason))"}"#)
    }
}

enum JSON {
    /// The body of a JSON string literal for `text` (RFC 8259 escapes; other characters as UTF-8).
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
