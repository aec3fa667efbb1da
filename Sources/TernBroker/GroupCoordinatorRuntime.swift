import Logging
import NIOCore
import Synchronization
import TernCoordinator
import TernRecords
import TernStorage
import TernWire

/// Runs the pure `GroupCoordinator` for the broker: applies each group request in arrival order,
/// answers it (at once, or later when the rebalance it waits for completes), appends the
/// coordinator's records to `__consumer_offsets` and releases the responses that depend on them
/// only once those records are fsynced, and turns the coordinator's timers into tasks.
///
/// State is rebuilt at startup by replaying `__consumer_offsets` from its start.
final class GroupCoordinatorRuntime: Sendable {
    static let offsetsTopic = "__consumer_offsets"

    /// A response that may arrive later than the request that asked for it.
    ///
    /// While it is parked (waiting for other members: a JoinGroup or SyncGroup in a rebalance),
    /// cancelling the task that awaits `value` drops it: `value` returns nil at once, and the
    /// response the coordinator produces later is thrown away. That is what the transport does
    /// when the connection closes or the broker shuts down, so a dead client's request does not
    /// hold either until a session times out. Once its response only waits for records to be
    /// fsynced (`awaitingDurability`), it is answered even if cancelled: the wait is bounded by
    /// the disk, and the records are appended either way.
    final class PendingResponse: Sendable {
        private struct State {
            var response: CoordinatorResponse?
            var awaitingDurability = false
            var dropped = false
            var waiters: [CheckedContinuation<CoordinatorResponse?, Never>] = []
        }
        private let state = Mutex(State())

        func fulfil(_ response: CoordinatorResponse) {
            let waiters = self.state.withLock { state -> [CheckedContinuation<CoordinatorResponse?, Never>] in
                guard state.response == nil, !state.dropped else { return [] }
                state.response = response
                defer { state.waiters.removeAll() }
                return state.waiters
            }
            waiters.forEach { $0.resume(returning: response) }
        }

        /// The response no longer depends on other members, only on an append's fsync.
        func markAwaitingDurability() {
            self.state.withLock { $0.awaitingDurability = true }
        }

        /// Drops the request if it is still parked; a no-op once it is answered or only waits for
        /// durability.
        func dropIfParked() {
            let waiters = self.state.withLock { state -> [CheckedContinuation<CoordinatorResponse?, Never>] in
                guard state.response == nil, !state.awaitingDurability, !state.dropped else { return [] }
                state.dropped = true
                defer { state.waiters.removeAll() }
                return state.waiters
            }
            waiters.forEach { $0.resume(returning: nil) }
        }

        /// The response, or nil if the awaiting task was cancelled while the request was parked.
        var value: CoordinatorResponse? {
            get async {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let ready = self.state.withLock { state -> CoordinatorResponse?? in
                            if let response = state.response { return .some(response) }
                            if state.dropped { return .some(nil) }
                            state.waiters.append(continuation)
                            return .none
                        }
                        if case .some(let ready) = ready { continuation.resume(returning: ready) }
                    }
                } onCancel: {
                    self.dropIfParked()
                }
            }
        }
    }

    private struct State {
        var coordinator: GroupCoordinator
        var pending: [RequestTicket: PendingResponse] = [:]
        var timers: [TimerKey: Task<Void, Never>] = [:]
        var nextTicket: UInt64 = 0
    }

    private let state: Mutex<State>
    private let offsetsLog: PartitionLog
    private let logs: LogManager
    private let logger: Logger
    private let clock: any LogClock
    /// Records to append and the responses released once they are durable.
    private struct QueuedAppend: Sendable {
        var records: [CoordinatorRecord]
        var responses: [(PendingResponse, CoordinatorResponse)]
        /// TxnOffsetCommit's records go in a transactional batch of their producer.
        var transactionalProducer: TransactionalProducer?
    }

    /// Appends leave in the order the coordinator produced them, one at a time.
    private let appendQueue: AsyncStream<QueuedAppend>.Continuation
    private let appender: Task<Void, Never>
    /// Runs `expireOffsets` every `offsets.retention.check.interval.ms`.
    private let expiry = Mutex<Task<Void, Never>?>(nil)

    private init(
        coordinator: GroupCoordinator,
        offsetsLog: PartitionLog,
        logs: LogManager,
        clock: any LogClock,
        logger: Logger
    ) {
        self.state = Mutex(State(coordinator: coordinator))
        self.offsetsLog = offsetsLog
        self.logs = logs
        self.clock = clock
        self.logger = logger
        let (appends, appendQueue) = AsyncStream<QueuedAppend>.makeStream()
        self.appendQueue = appendQueue
        // Appends are written in order as soon as they are queued; a second task waits for their
        // fsyncs in the same order, so commits that arrive meanwhile share one fsync (group commit).
        let (written, writtenQueue) = AsyncStream<(Int64?, KafkaErrorCode?, QueuedAppend)>.makeStream()
        self.appender = Task { [offsetsLog, logger] in
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await append in appends {
                        let (lastOffset, failure) = await Self.write(
                            append.records,
                            producer: append.transactionalProducer,
                            to: offsetsLog,
                            logger: logger
                        )
                        writtenQueue.yield((lastOffset, failure, append))
                    }
                    writtenQueue.finish()
                }
                group.addTask {
                    for await (lastOffset, writeFailure, append) in written {
                        var failure = writeFailure
                        if let lastOffset, failure == nil {
                            do {
                                try await offsetsLog.waitUntilDurable(offset: lastOffset)
                            } catch {
                                logger.error("cannot fsync group coordinator records", metadata: ["error": "\(error)"])
                                failure = .coordinatorNotAvailable
                            }
                        }
                        for (pending, response) in append.responses {
                            pending.fulfil(failure.map { Self.failed(response, $0) } ?? response)
                        }
                    }
                }
            }
        }
    }

    deinit {
        self.appendQueue.finish()
        self.appender.cancel()
        self.expiry.withLock { $0?.cancel() }
    }

    /// Expires old offsets now (the periodic check calls it); their tombstones are appended in
    /// order with everything else.
    func expireOffsets() {
        let nowMs = self.clock.nowMs
        let result = self.state.withLock { $0.coordinator.expireOffsets(nowMs: nowMs) }
        let tombstones = result.appends.reduce(0) { $0 + $1.records.count }
        if tombstones > 0 {
            self.logger.info("expired committed offsets", metadata: ["tombstones": "\(tombstones)"])
        }
        self.execute(result)
    }

    private func startExpiryChecks(intervalMs: Int64) {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(intervalMs))
                guard !Task.isCancelled, let self else { return }
                self.expireOffsets()
            }
        }
        self.expiry.withLock { $0 = task }
    }

    /// Opens the offsets topic (creating it on first start) and replays it into a new coordinator.
    static func start(
        logs: LogManager,
        configuration: GroupCoordinatorConfiguration,
        clock: any LogClock = SystemClock(),
        logger: Logger
    ) throws -> GroupCoordinatorRuntime {
        if logs.topic(Self.offsetsTopic) == nil {
            try logs.createTopic(Self.offsetsTopic, partitionCount: 1, configOverrides: ["cleanup.policy": "compact"])
        }
        guard let offsetsLog = logs.partition(topic: Self.offsetsTopic, index: 0) else {
            throw StorageError(.unknownTopicOrPartition, "\(Self.offsetsTopic)-0 is missing")
        }
        var coordinator = GroupCoordinator(configuration: configuration)
        var offset = offsetsLog.logStartOffset
        var replayed = 0
        while offset < offsetsLog.logEndOffset {
            let read = try offsetsLog.read(from: offset, maxBytes: 8 << 20)
            let batches = try RecordBatch.split(read.records).batches
            guard let last = batches.last else { break }
            for batch in batches {
                if batch.attributes.isControl {
                    // A transaction's marker: its offsets become committed, or are dropped.
                    if let marker = ControlRecord(of: batch) {
                        coordinator.completeTransaction(producerId: batch.producerId, commit: marker.kind == .commit)
                    }
                    continue
                }
                for record in try batch.records(decompressionLimit: 64 << 20) where record.offset >= offset {
                    guard let key = record.key else { continue }
                    if batch.attributes.isTransactional {
                        try coordinator.replayTransactional(key: key, value: record.value, producerId: batch.producerId)
                    } else {
                        try coordinator.replay(key: key, value: record.value)
                    }
                    replayed += 1
                }
            }
            offset = last.nextOffset
        }
        logger.info("replayed group coordinator state", metadata: ["records": "\(replayed)"])
        // Restored members get their session timers, so those that do not come back are removed.
        let sessions = coordinator.restoredSessions(nowMs: clock.nowMs)
        let runtime = GroupCoordinatorRuntime(
            coordinator: coordinator,
            offsetsLog: offsetsLog,
            logs: logs,
            clock: clock,
            logger: logger
        )
        runtime.execute(sessions)
        runtime.startExpiryChecks(intervalMs: configuration.offsetsRetentionCheckIntervalMs)
        return runtime
    }

    /// Applies one event now, in the caller's order, and returns the response to wait for.
    func submit(
        _ event: (inout GroupCoordinator, RequestTicket, Int64) -> CoordinatorResult
    ) -> PendingResponse {
        let nowMs = self.clock.nowMs
        let pending = PendingResponse()
        let result = self.state.withLock { state in
            let ticket = RequestTicket(state.nextTicket)
            state.nextTicket &+= 1
            state.pending[ticket] = pending
            return event(&state.coordinator, ticket, nowMs)
        }
        self.execute(result)
        return pending
    }

    /// Reads coordinator state that needs no response bookkeeping (OffsetFetch, DescribeGroups…).
    func read<T>(_ body: (GroupCoordinator) -> T) -> T {
        self.state.withLock { body($0.coordinator) }
    }

    private func execute(_ result: CoordinatorResult) {
        let immediate = self.state.withLock { state -> [(PendingResponse, CoordinatorResponse)] in
            for timer in result.timers {
                let timerKey: TimerKey
                switch timer {
                case .schedule(let key, _), .cancel(let key): timerKey = key
                }
                state.timers.removeValue(forKey: timerKey)?.cancel()
                if case .schedule(let key, let atMs) = timer {
                    let delayMs = max(0, atMs - self.clock.nowMs)
                    state.timers[key] = Task { [weak self] in
                        try? await Task.sleep(for: .milliseconds(delayMs))
                        guard !Task.isCancelled, let self else { return }
                        self.fire(key)
                    }
                }
            }
            // Enqueued under the lock, so appends keep the coordinator's order across events.
            for append in result.appends {
                let responses = append.responsesAfterAppend.compactMap { ticketed in
                    state.pending.removeValue(forKey: ticketed.ticket).map { ($0, ticketed.response) }
                }
                for (pending, _) in responses { pending.markAwaitingDurability() }
                self.appendQueue.yield(
                    QueuedAppend(
                        records: append.records,
                        responses: responses,
                        transactionalProducer: append.transactionalProducer
                    )
                )
            }
            return result.responses.compactMap { ticketed in
                state.pending.removeValue(forKey: ticketed.ticket).map { ($0, ticketed.response) }
            }
        }
        for (pending, response) in immediate { pending.fulfil(response) }
    }

    /// Appends the records as one batch (without waiting for its fsync); returns the batch's last
    /// offset, or the error code to answer with if the append failed.
    private static func write(
        _ records: [CoordinatorRecord],
        producer: TransactionalProducer?,
        to log: PartitionLog,
        logger: Logger
    ) async -> (lastOffset: Int64?, failure: KafkaErrorCode?) {
        guard !records.isEmpty else { return (nil, nil) }
        do {
            // Kafka writes a transactional offset commit with the producer's id and epoch and no
            // sequence, so the marker on this partition decides the offsets' fate.
            var builder: RecordBatchBuilder
            if let producer {
                builder = RecordBatchBuilder(
                    isTransactional: true,
                    producerId: producer.producerId,
                    producerEpoch: producer.producerEpoch
                )
            } else {
                builder = RecordBatchBuilder()
            }
            let nowMs = SystemClock().nowMs
            for record in records {
                builder.append(key: record.encodeKey(), value: record.encodeValue(), timestampMs: nowMs)
            }
            let result = try await log.append(try builder.build(), durability: .none)
            return (result.lastOffset, nil)
        } catch {
            logger.error("cannot write group coordinator records", metadata: ["error": "\(error)"])
            return (nil, .coordinatorNotAvailable)
        }
    }

    /// The response a client gets when the records its answer depended on could not be written.
    private static func failed(_ response: CoordinatorResponse, _ code: KafkaErrorCode) -> CoordinatorResponse {
        switch response {
        case .offsetCommit(var commit):
            for topic in commit.topics.indices {
                for partition in commit.topics[topic].partitions.indices {
                    commit.topics[topic].partitions[partition].errorCode = code
                }
            }
            return .offsetCommit(commit)
        case .syncGroup(var sync):
            sync.errorCode = code
            sync.assignment = ByteBuffer()
            return .syncGroup(sync)
        case .joinGroup(var join):
            join.errorCode = code
            return .joinGroup(join)
        case .heartbeat(var heartbeat):
            heartbeat.errorCode = code
            return .heartbeat(heartbeat)
        case .leaveGroup(var leave):
            leave.errorCode = code
            return .leaveGroup(leave)
        case .deleteGroup(let groupId, _):
            return .deleteGroup(groupId: groupId, errorCode: code)
        case .deleteOffsets(_, let partitions):
            return .deleteOffsets(errorCode: code, partitions: partitions.mapValues { _ in code })
        case .txnOffsetCommit(let partitions):
            return .txnOffsetCommit(partitions: partitions.mapValues { _ in code })
        }
    }

    /// Writes a transaction's marker to the offsets partition (durably), then commits or drops the
    /// offsets its TxnOffsetCommits left pending; false when the marker could not be written.
    func completeTransaction(
        producerId: Int64,
        producerEpoch: Int16,
        coordinatorEpoch: Int32,
        commit: Bool
    ) async -> Bool {
        do {
            _ = try await self.offsetsLog.appendTransactionMarker(
                producerId: producerId,
                producerEpoch: producerEpoch,
                coordinatorEpoch: coordinatorEpoch,
                commit: commit,
                durability: .fsync
            )
        } catch {
            self.logger.error(
                "cannot write a transaction marker to \(Self.offsetsTopic)",
                metadata: ["producerId": "\(producerId)", "error": "\(error)"]
            )
            return false
        }
        self.state.withLock { $0.coordinator.completeTransaction(producerId: producerId, commit: commit) }
        return true
    }

    private func fire(_ key: TimerKey) {
        let nowMs = self.clock.nowMs
        let result = self.state.withLock { state in
            state.timers.removeValue(forKey: key)
            return state.coordinator.timerFired(key, nowMs: nowMs)
        }
        self.execute(result)
    }
}
