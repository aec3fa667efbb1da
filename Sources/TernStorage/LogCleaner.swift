import CoreMetrics
import Logging
import Metrics
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The broker-wide settings of the log cleaner (Kafka's `log.cleaner.*`).
public struct LogCleanerConfig: Sendable, Hashable {
    /// `log.cleaner.enable`.
    public var isEnabled = true
    /// `log.cleaner.threads`.
    public var threadCount = 1
    /// `log.cleaner.io.max.bytes.per.second`: reads plus writes of all cleaner threads.
    public var ioMaxBytesPerSecond: Double = .greatestFiniteMagnitude
    /// `log.cleaner.dedupe.buffer.size`: the offset maps' memory, split among the threads.
    public var dedupeBufferBytes = 128 * 1024 * 1024
    /// `log.cleaner.backoff.ms`: how long a thread sleeps when no partition needs cleaning.
    public var backoffMs: Int64 = 15_000

    public init() {}
}

/// Metric names of the log cleaner; docs/operations.md lists every metric.
public enum LogCleanerMetricNames {
    public static let bytesCleaned = "tern_log_cleaner_bytes_cleaned_total"
    public static let runs = "tern_log_cleaner_runs_total"
    public static let seconds = "tern_log_cleaner_seconds_total"
    public static let lastCleanRatio = "tern_log_cleaner_last_clean_ratio"
}

/// The arithmetic of the cleaner's I/O cap (Kafka's `Throttler`), without a clock: bytes are
/// charged to a window; a charge that puts the window over the rate answers how long to sleep so
/// that it is back under it. A window is replaced by a fresh one once it has lasted a second and
/// is not over the rate, so an idle spell lets one charge through, not a burst.
struct CleanerRateWindow: Hashable, Sendable {
    let bytesPerSecond: Double
    private(set) var startSeconds: Double
    private(set) var bytes: Double = 0

    init(bytesPerSecond: Double, startSeconds: Double) {
        precondition(bytesPerSecond > 0)
        self.bytesPerSecond = bytesPerSecond
        self.startSeconds = startSeconds
    }

    /// Charges `bytes` at `nowSeconds`; returns the seconds to sleep (0 when under the rate).
    mutating func charge(bytes: Int, nowSeconds: Double) -> Double {
        self.bytes += Double(bytes)
        let elapsed = nowSeconds - self.startSeconds
        let wait = self.bytes / self.bytesPerSecond - elapsed
        if elapsed >= 1 && wait <= 0 {
            self.startSeconds = nowSeconds
            self.bytes = 0
        }
        return max(0, wait)
    }
}

/// Caps the cleaner's I/O rate: every byte read or written is charged to a `CleanerRateWindow`,
/// and the charging thread sleeps as long as it says (at most a second per charge). Shared by all
/// cleaner threads. Thread-safe.
final class CleanerThrottle: Sendable {
    private static let origin = ContinuousClock.now
    private let window: Mutex<CleanerRateWindow>

    init(bytesPerSecond: Double) {
        self.window = Mutex(CleanerRateWindow(bytesPerSecond: bytesPerSecond, startSeconds: Self.nowSeconds()))
    }

    private static func nowSeconds() -> Double {
        let elapsed = ContinuousClock.now - Self.origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func charge(bytes: Int) {
        let sleepSeconds = self.window.withLock { $0.charge(bytes: bytes, nowSeconds: Self.nowSeconds()) }
        if sleepSeconds > 0 { usleep(UInt32(min(sleepSeconds, 1) * 1_000_000)) }
    }
}

/// The log cleaner (Kafka's `LogCleaner`): background threads that compact the partitions whose
/// `cleanup.policy` contains `compact`, each time picking the one with the highest dirty ratio at
/// or above its `min.cleanable.dirty.ratio` (or overdue by `max.compaction.lag.ms` or a passed
/// tombstone delete horizon) and running one `PartitionLog.clean` pass on it.
///
/// Off the hot path: its threads are its own (not Swift's cooperative pool, not NIO's event
/// loops) and take a partition's lock only to snapshot and to swap segments; fsyncs run outside it.
///
/// Thread-safety: all methods may be called from any thread. `shutdown` stops the threads (a pass
/// in progress stops at its next check) and joins them.
public final class LogCleaner: @unchecked Sendable {
    // @unchecked: `threads`, `isShutDown`, `isWoken` are only touched with `mutex` held.
    static let cleanedSuffix = ".cleaned"
    static let swapSuffix = ".swap"

    public let config: LogCleanerConfig
    private let partitions: @Sendable () -> [PartitionLog]
    private let clock: any LogClock
    private let logger: Logger
    private let onCleaned: @Sendable () -> Void
    private let throttle: CleanerThrottle?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []
    private var isShutDown = false
    private var isWoken = false
    private let stopping = Atomic<Bool>(false)
    /// Partitions being cleaned, and those left alone after a failed pass until a monotonic
    /// instant (not the log clock: a retry delay is real time, and a test's clock may stand still).
    private let busy = Mutex<(inProgress: Set<TopicPartition>, skipUntil: [TopicPartition: ContinuousClock.Instant])>(
        ([], [:])
    )

    private let bytesCleaned = Counter(label: LogCleanerMetricNames.bytesCleaned)
    private let runs = Counter(label: LogCleanerMetricNames.runs)
    private let seconds = FloatingPointCounter(label: LogCleanerMetricNames.seconds)
    private let lastCleanRatio = Gauge(label: LogCleanerMetricNames.lastCleanRatio)
    private let completedPasses = Atomic<Int>(0)

    /// - Parameters:
    ///   - partitions: The partitions to consider, asked for on every round.
    ///   - onCleaned: Called after each pass that moved a partition's clean/dirty boundary (the
    ///     manager persists the cleaner checkpoint).
    init(
        config: LogCleanerConfig,
        clock: any LogClock,
        logger: Logger,
        partitions: @escaping @Sendable () -> [PartitionLog],
        onCleaned: @escaping @Sendable () -> Void
    ) {
        self.config = config
        self.clock = clock
        self.logger = logger
        self.partitions = partitions
        self.onCleaned = onCleaned
        self.throttle =
            config.ioMaxBytesPerSecond < .greatestFiniteMagnitude
            ? CleanerThrottle(bytesPerSecond: config.ioMaxBytesPerSecond) : nil
        pthread_mutex_init(self.mutex, nil)
        pthread_cond_init(self.condition, nil)
    }

    deinit {
        pthread_cond_destroy(self.condition)
        pthread_mutex_destroy(self.mutex)
        self.condition.deallocate()
        self.mutex.deallocate()
    }

    /// Passes completed since start (for tests and `/metrics`-free checks).
    public var passCount: Int { self.completedPasses.load(ordering: .relaxed) }

    /// Starts `threadCount` threads.
    func start() {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        guard self.threads.isEmpty, !self.isShutDown else { return }
        for _ in 0..<max(1, self.config.threadCount) {
            self.threads.append(startThread { self.runThread() })
        }
    }

    /// Makes sleeping threads look for work now (after a config change, or in tests).
    public func wakeUp() {
        pthread_mutex_lock(self.mutex)
        self.isWoken = true
        pthread_cond_broadcast(self.condition)
        pthread_mutex_unlock(self.mutex)
    }

    /// Stops and joins the threads; blocks until a pass in progress has stopped.
    func shutdown() {
        self.stopping.store(true, ordering: .releasing)
        pthread_mutex_lock(self.mutex)
        self.isShutDown = true
        let threads = self.threads
        self.threads = []
        pthread_cond_broadcast(self.condition)
        pthread_mutex_unlock(self.mutex)
        for thread in threads { pthread_join(thread, nil) }
    }

    private func runThread() {
        let budget = max(OffsetMap.slotByteCount, self.config.dedupeBufferBytes / max(1, self.config.threadCount))
        while !self.stopping.load(ordering: .acquiring) {
            if self.cleanFilthiest(offsetMapBudgetBytes: budget) { continue }
            pthread_mutex_lock(self.mutex)
            if !self.isShutDown && !self.isWoken {
                var deadline = timespec()
                clock_gettime(CLOCK_REALTIME, &deadline)
                let backoffMs = max(1, min(self.config.backoffMs, 86_400_000))
                let nanoseconds = Int(deadline.tv_nsec) + Int(backoffMs % 1000) * 1_000_000
                deadline.tv_sec += Int(backoffMs / 1000) + nanoseconds / 1_000_000_000
                deadline.tv_nsec = nanoseconds % 1_000_000_000
                _ = pthread_cond_timedwait(self.condition, self.mutex, &deadline)
            }
            self.isWoken = false
            pthread_mutex_unlock(self.mutex)
        }
    }

    /// One round: cleans the dirtiest cleanable partition not being cleaned by another thread.
    /// Returns whether it cleaned one. Errors are logged; the partition is then left alone for
    /// `log.cleaner.backoff.ms`.
    @discardableResult
    func cleanFilthiest(offsetMapBudgetBytes: Int) -> Bool {
        let nowMs = self.clock.nowMs
        let candidates = self.partitions().compactMap { $0.cleaningCandidate(nowMs: nowMs) }.filter(\.isCleanable)
        let chosen = self.busy.withLock { busy -> CleaningCandidate? in
            let eligible = candidates.filter { candidate in
                let topicPartition = candidate.log.topicPartition
                return !busy.inProgress.contains(topicPartition)
                    && busy.skipUntil[topicPartition].map { $0 <= ContinuousClock.now } ?? true
            }
            guard
                let best = eligible.max(by: {
                    ($0.isOverdue ? 1 : 0, $0.dirtyRatio) < ($1.isOverdue ? 1 : 0, $1.dirtyRatio)
                })
            else { return nil }
            busy.inProgress.insert(best.log.topicPartition)
            return best
        }
        guard let chosen else { return false }
        let log = chosen.log
        defer { _ = self.busy.withLock { $0.inProgress.remove(log.topicPartition) } }
        let start = ContinuousClock.now
        do {
            let result = try log.clean(
                nowMs: nowMs,
                offsetMapBudgetBytes: offsetMapBudgetBytes,
                throttle: self.throttle,
                shouldStop: { self.stopping.load(ordering: .relaxed) }
            )
            let elapsed = ContinuousClock.now - start
            let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            self.runs.increment()
            self.bytesCleaned.increment(by: Int(result.bytesRead))
            self.seconds.increment(by: elapsedSeconds)
            if result.bytesRead > 0 {
                self.lastCleanRatio.record(1 - Double(result.bytesWritten) / Double(result.bytesRead))
            }
            self.completedPasses.add(1, ordering: .relaxed)
            self.logger.info(
                "cleaned partition",
                metadata: [
                    "partition": "\(log.topicPartition)", "dirtyRatio": "\(chosen.dirtyRatio)",
                    "bytesRead": "\(result.bytesRead)", "bytesWritten": "\(result.bytesWritten)",
                    "recordsKept": "\(result.recordsKept)/\(result.recordsRead)",
                    "firstDirtyOffset": "\(result.firstDirtyOffset)", "seconds": "\(elapsedSeconds)",
                ]
            )
            self.onCleaned()
            return true
        } catch {
            if error.code != .closed {
                self.logger.error(
                    "log cleaning failed; retrying after log.cleaner.backoff.ms",
                    metadata: ["partition": "\(log.topicPartition)", "error": "\(error)"]
                )
            }
            let retryAt = ContinuousClock.now + .milliseconds(self.config.backoffMs)
            self.busy.withLock { $0.skipUntil[log.topicPartition] = retryAt }
            return false
        }
    }
}
