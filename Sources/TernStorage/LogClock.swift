import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wall-clock time for the log: append timestamps (LogAppendTime), segment age (`segment.ms`) and
/// retention (`retention.ms`). Injected so tests can move time by hand.
public protocol LogClock: Sendable {
    /// Milliseconds since the Unix epoch.
    var nowMs: Int64 { get }
}

/// The system's real-time clock.
public struct SystemClock: LogClock {
    public init() {}

    public var nowMs: Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

/// A clock that moves only when told to. Thread-safe.
public final class ManualClock: LogClock {
    private let currentMs: Atomic<Int64>

    public init(nowMs: Int64 = 1_700_000_000_000) {
        self.currentMs = Atomic(nowMs)
    }

    public var nowMs: Int64 { self.currentMs.load(ordering: .relaxed) }

    public func set(nowMs: Int64) {
        self.currentMs.store(nowMs, ordering: .relaxed)
    }

    public func advance(byMs deltaMs: Int64) {
        self.currentMs.add(deltaMs, ordering: .relaxed)
    }
}
