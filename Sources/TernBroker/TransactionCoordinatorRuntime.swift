import Logging
import NIOCore
import Synchronization
import TernRecords
import TernStorage
import TernTransactions
import TernWire

/// Runs the pure `TransactionCoordinator` for the broker: applies each transaction request in
/// arrival order, appends the coordinator's records to `__transaction_state` and answers once
/// they are fsynced, then carries out its actions (writing COMMIT/ABORT markers to the
/// transaction's partitions, then recording the transaction complete). A timer aborts timed-out
/// transactions.
///
/// State is rebuilt at startup by replaying `__transaction_state` from its start; transactions
/// left between their Prepare and Complete records get their markers written again.
final class TransactionCoordinatorRuntime: Sendable {
    static let stateTopic = "__transaction_state"

    /// Writes one transaction's markers to all its partitions; true once every one is durable (or
    /// its partition no longer exists), false when it gave up. Provided by the broker.
    typealias MarkerWriter = @Sendable (TransactionMarkers) async -> Bool

    private let coordinator: Mutex<TransactionCoordinator>
    private let stateLog: PartitionLog
    private let logger: Logger
    private let clock: any LogClock
    private let writeMarkers: Mutex<MarkerWriter?>

    /// Appends leave in the order the coordinator produced them: one task appends, a second waits
    /// for their fsyncs in the same order (so concurrent transactions share an fsync).
    private struct QueuedAppend: Sendable {
        var records: [TransactionLogRecord]
        var done: @Sendable (Bool) -> Void
    }
    private let appendQueue: AsyncStream<QueuedAppend>.Continuation
    private let tasks: Mutex<[Task<Void, Never>]>

    private init(coordinator: TransactionCoordinator, stateLog: PartitionLog, clock: any LogClock, logger: Logger) {
        self.coordinator = Mutex(coordinator)
        self.stateLog = stateLog
        self.clock = clock
        self.logger = logger
        self.writeMarkers = Mutex(nil)
        let (appends, appendQueue) = AsyncStream<QueuedAppend>.makeStream()
        self.appendQueue = appendQueue
        let (written, writtenQueue) = AsyncStream<(Int64?, QueuedAppend)>.makeStream()
        let appender = Task { [stateLog, logger] in
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await append in appends {
                        writtenQueue.yield((await Self.write(append.records, to: stateLog, logger: logger), append))
                    }
                    writtenQueue.finish()
                }
                group.addTask {
                    for await (lastOffset, append) in written {
                        guard let lastOffset else {
                            append.done(false)
                            continue
                        }
                        do {
                            try await stateLog.waitUntilDurable(offset: lastOffset)
                            append.done(true)
                        } catch {
                            logger.error("cannot fsync transaction state", metadata: ["error": "\(error)"])
                            append.done(false)
                        }
                    }
                }
            }
        }
        self.tasks = Mutex([appender])
    }

    deinit {
        self.appendQueue.finish()
        self.tasks.withLock { $0.forEach { $0.cancel() } }
    }

    /// Opens `__transaction_state` (creating it on first start) and replays it.
    static func start(
        logs: LogManager,
        configuration: TransactionCoordinatorConfiguration,
        clock: any LogClock = SystemClock(),
        logger: Logger
    ) throws -> TransactionCoordinatorRuntime {
        if logs.topic(Self.stateTopic) == nil {
            try logs.createTopic(Self.stateTopic, partitionCount: 1, configOverrides: ["cleanup.policy": "compact"])
        }
        guard let stateLog = logs.partition(topic: Self.stateTopic, index: 0) else {
            throw StorageError(.unknownTopicOrPartition, "\(Self.stateTopic)-0 is missing")
        }
        let coordinator = try Self.replay(stateLog, configuration: configuration, logger: logger)
        return TransactionCoordinatorRuntime(coordinator: coordinator, stateLog: stateLog, clock: clock, logger: logger)
    }

    private static func replay(
        _ stateLog: PartitionLog,
        configuration: TransactionCoordinatorConfiguration,
        logger: Logger
    ) throws -> TransactionCoordinator {
        var coordinator = TransactionCoordinator(configuration: configuration)
        var offset = stateLog.logStartOffset
        var replayed = 0
        while offset < stateLog.logEndOffset {
            let read = try stateLog.read(from: offset, maxBytes: 8 << 20)
            let batches = try RecordBatch.split(read.records).batches
            guard let last = batches.last else { break }
            for batch in batches {
                for record in try batch.records(decompressionLimit: 64 << 20) where record.offset >= offset {
                    guard let key = record.key else { continue }
                    if try Self.apply(key: key, value: record.value, to: &coordinator) { replayed += 1 }
                }
            }
            offset = last.nextOffset
        }
        logger.info(
            "replayed transaction coordinator state",
            metadata: ["records": "\(replayed)", "transactionalIds": "\(coordinator.transactions.count)"]
        )
        return coordinator
    }

    /// Replays one record; false when Kafka's loader would skip it (a key version it does not
    /// know). Its own function: a typed `do`/`catch where` inside `replay`'s loops hung the
    /// compiler (SIL AllocBoxToStack, Swift 6.3).
    private static func apply(
        key: ByteBuffer,
        value: ByteBuffer?,
        to coordinator: inout TransactionCoordinator
    ) throws(InternalRecordError) -> Bool {
        do {
            try coordinator.replay(key: key, value: value)
            return true
        } catch  where error.code == .unknownKeyVersion {
            return false
        }
    }

    /// The largest producer id the coordinator holds (new ids must be above it).
    var largestProducerId: Int64 {
        self.coordinator.withLock { coordinator in
            coordinator.transactions.values.map { max($0.producerId, $0.previousProducerId) }.max() ?? -1
        }
    }

    /// Connects the marker writer, rewrites the markers of transactions a restart left between
    /// Prepare and Complete, and starts the timeout checks.
    func run(markerWriter: @escaping MarkerWriter, abortCheckIntervalMs: Int64) {
        self.writeMarkers.withLock { $0 = markerWriter }
        let pending = self.coordinator.withLock { $0.pendingCompletions() }
        for markers in pending { Task { await self.complete(markers) } }
        let checker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(abortCheckIntervalMs))
                guard !Task.isCancelled, let self else { return }
                _ = await self.perform { coordinator, nowMs in coordinator.tick(nowMs: nowMs) }
            }
        }
        self.tasks.withLock { $0.append(checker) }
    }

    /// Reads coordinator state (DescribeTransactions, ListTransactions, the produce path's check).
    func read<T>(_ body: (TransactionCoordinator) -> T) -> T {
        self.coordinator.withLock { body($0) }
    }

    /// Applies one event in arrival order; once its records are durable, writes the markers of
    /// the transactions it ended and records them complete, then answers with its response (nil
    /// when the records could not be written: the caller answers with COORDINATOR_NOT_AVAILABLE,
    /// which clients retry). Kafka answers EndTxn once the Prepare record is durable and writes
    /// the markers to the partitions' brokers afterwards, so the producer's next AddPartitionsToTxn
    /// meets CONCURRENT_TRANSACTIONS and backs off; here the markers are local appends, cheaper
    /// than that round of retries, and the next transaction starts at once. The outcome is
    /// decided either way: a crash before the markers rewrites them at the next start.
    func perform(
        _ event: (inout TransactionCoordinator, Int64) -> TransactionResult
    ) async -> TransactionResponse? {
        let nowMs = self.clock.nowMs
        let (durable, signal) = AsyncStream<Bool>.makeStream()
        let result: TransactionResult = self.coordinator.withLock { coordinator -> TransactionResult in
            let result = event(&coordinator, nowMs)
            if !result.records.isEmpty {
                // Queued under the lock, so records keep the coordinator's order.
                self.appendQueue.yield(
                    QueuedAppend(records: result.records) { ok in
                        signal.yield(ok)
                        signal.finish()
                    }
                )
            }
            return result
        }
        if !result.records.isEmpty {
            var written = false
            for await ok in durable { written = ok }
            guard written else {
                self.recoverAfterFailedAppend()
                return nil
            }
        }
        for markers in result.markers { await self.complete(markers) }
        return result.response
    }

    /// Writes the markers, then records the transaction complete. If they cannot be written, the
    /// transaction stays in Prepare and the next start writes them.
    private func complete(_ markers: TransactionMarkers) async {
        guard let writer = self.writeMarkers.withLock({ $0 }) else { return }
        guard await writer(markers) else { return }
        _ = await self.perform { coordinator, nowMs in
            coordinator.markersWritten(
                transactionalId: markers.transactionalId,
                producerId: markers.producerId,
                producerEpoch: markers.producerEpoch,
                nowMs: nowMs
            )
        }
    }

    /// The coordinator got ahead of its log: rebuild it from what the log holds, as Kafka reloads
    /// the partition.
    private func recoverAfterFailedAppend() {
        do {
            let configuration = self.coordinator.withLock { $0.configuration }
            let reloaded = try Self.replay(self.stateLog, configuration: configuration, logger: self.logger)
            self.coordinator.withLock { $0 = reloaded }
        } catch {
            self.logger.error("cannot reload transaction state", metadata: ["error": "\(error)"])
        }
    }

    /// Appends the records as one batch without waiting for its fsync; the batch's last offset, or
    /// nil when the append failed.
    private static func write(_ records: [TransactionLogRecord], to log: PartitionLog, logger: Logger) async -> Int64? {
        do {
            var builder = RecordBatchBuilder()
            let nowMs = SystemClock().nowMs
            for record in records {
                builder.append(key: record.encodeKey(), value: record.encodeValue(), timestampMs: nowMs)
            }
            return try await log.append(try builder.build(), durability: .none).lastOffset
        } catch {
            logger.error("cannot write transaction state", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
