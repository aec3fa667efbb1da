public import Logging
import Metrics
import NIOCore
public import ServiceLifecycle
import Synchronization
import TernRecords
import TernWire
import Tracing

/// Produces records to Kafka topics: batches per partition, compresses, retries in order and,
/// by default, is idempotent so a retry never writes a record twice.
///
///     let producer = try Producer(configuration: .init(bootstrapServers: ["localhost:9092"]))
///     let written = try await producer.send(ProducerRecord(topic: "orders", key: "42", value: "hello"))
///     try await producer.close()
///
/// `send` waits for the acknowledgement; `enqueue` returns as soon as the record is buffered
/// (suspending while `bufferMemory` is used up) and reports through an optional callback.
public final class Producer: Sendable, Service {
    let core: ProducerCore

    public init(configuration: ProducerConfiguration, logger: Logger = Logger(label: "tern.producer")) throws {
        guard configuration.batchSize > 0, configuration.bufferMemory > 0 else {
            throw TernClientError(.invalidConfiguration, "batchSize and bufferMemory must be positive")
        }
        if configuration.transactionalId != nil && !configuration.idempotent {
            throw TernClientError(
                .invalidConfiguration,
                "a transactional producer is idempotent (leave idempotent = true)"
            )
        }
        if configuration.idempotent && configuration.acks != .all {
            throw TernClientError(
                .invalidConfiguration,
                "an idempotent producer needs acks=all (set idempotent = false)"
            )
        }
        self.core = ProducerCore(
            configuration: configuration,
            cluster: try Cluster(configuration: configuration.client, logger: logger),
            logger: logger
        )
        self.core.start()
    }

    /// Sends a record and waits until the broker acknowledged it (with acks=0: until it is sent).
    ///
    /// With a tracer active when the producer was created (bootstrapped, or bound with
    /// `withTracer`), the record gets a "send" span and its context in its headers (docs/tracing.md).
    @discardableResult
    public func send(_ record: ProducerRecord) async throws -> RecordMetadata {
        guard let tracing = self.core.tracing else { return try await self.sendUntraced(record) }
        var record = record
        let trace = SendTrace.start(&record, tracing: tracing, clientID: self.core.configuration.client.clientId)
        do {
            let written = try await self.sendUntraced(record)
            trace.finish(.success(written), logger: self.core.logger)
            return written
        } catch {
            trace.finish(.failure(error), logger: self.core.logger)
            throw error
        }
    }

    private func sendUntraced(_ record: ProducerRecord) async throws -> RecordMetadata {
        try await withCheckedThrowingContinuation { continuation in
            Task { await self.enqueueOrFail(record, .continuation(continuation)) }
        }
    }

    /// Buffers a record for sending and returns; suspends while the buffer is full. The callback
    /// (if any) runs once the record is acknowledged or has failed for good.
    nonisolated(nonsending) public func enqueue(
        _ record: ProducerRecord,
        onDelivery: (@Sendable (Result<RecordMetadata, any Error>) -> Void)? = nil
    ) async throws {
        // One nil check when no tracer is active; the traced path is apart.
        if let tracing = self.core.tracing {
            return try await self.enqueueTraced(record, tracing: tracing, onDelivery: onDelivery)
        }
        // The common case appends without suspending; only a full buffer, an unknown topic or an
        // error takes the async path.
        // Not `onDelivery.map`: that instantiates generic metadata for the closure type per call.
        let completion: DeliveryCompletion?
        if let onDelivery { completion = .callback(onDelivery) } else { completion = nil }
        if self.core.tryAppend(record, completion: completion) { return }
        try await self.core.append(record, completion: completion)
    }

    nonisolated(nonsending) private func enqueueTraced(
        _ record: ProducerRecord,
        tracing: ClientTracer,
        onDelivery: (@Sendable (Result<RecordMetadata, any Error>) -> Void)?
    ) async throws {
        var record = record
        let trace = SendTrace.start(&record, tracing: tracing, clientID: self.core.configuration.client.clientId)
        let logger = self.core.logger
        let completion = DeliveryCompletion.callback { result in
            trace.finish(result, logger: logger)
            onDelivery?(result)
        }
        do {
            if self.core.tryAppend(record, completion: completion) { return }
            try await self.core.append(record, completion: completion)
        } catch {
            // Not buffered: the callback never runs, so the span ends here.
            trace.finish(.failure(error), logger: logger)
            throw error
        }
    }

    private func enqueueOrFail(_ record: ProducerRecord, _ completion: DeliveryCompletion) async {
        do {
            try await self.core.append(record, completion: completion)
        } catch {
            completion.complete(.failure(error))
        }
    }

    /// Sends everything buffered now and waits until it is acknowledged or failed.
    public func flush() async throws {
        await self.core.flush()
    }

    /// Flushes, then stops and closes the connections. Records enqueued afterwards fail.
    public func close() async throws {
        await self.core.close()
    }

    /// Runs until graceful shutdown, then closes (flushing what is buffered).
    public func run() async throws {
        try? await gracefulShutdown()
        try await self.close()
    }
}

final class ProducerCore: Sendable {
    let configuration: ProducerConfiguration
    let cluster: Cluster
    let logger: Logger
    /// nil without a tracer when the producer was created (docs/tracing.md).
    let tracing = ClientTracer.active()
    let accumulator: Mutex<RecordAccumulator>
    private let wake = WakeSignal()
    private let sender = Mutex<Task<Void, Never>?>(nil)
    let producerIdentity = Mutex<(id: Int64, epoch: Int16)>((-1, -1))
    /// nil unless `transactionalId` is set (Producer+Transactions.swift).
    let transaction: ProducerTransaction?
    private let recordsCounter: Counter
    private let bytesCounter: Counter
    private let errorsCounter: Counter
    private let requestTimer: Metrics.Timer

    init(configuration: ProducerConfiguration, cluster: Cluster, logger: Logger) {
        self.configuration = configuration
        self.cluster = cluster
        self.logger = logger
        self.accumulator = Mutex(
            RecordAccumulator(
                batchSize: configuration.batchSize,
                bufferMemory: configuration.bufferMemory,
                codec: configuration.compression,
                compressionLevel: configuration.compressionLevel,
                partitioner: configuration.partitioner,
                stickyLinger: configuration.stickyPartitioningLinger,
                isTransactional: configuration.transactionalId != nil
            )
        )
        let dimensions = [("client_id", configuration.client.clientId)]
        self.recordsCounter = Counter(label: "tern_client_produced_records_total", dimensions: dimensions)
        self.bytesCounter = Counter(label: "tern_client_produced_bytes_total", dimensions: dimensions)
        self.errorsCounter = Counter(label: "tern_client_produce_errors_total", dimensions: dimensions)
        self.requestTimer = Metrics.Timer(label: "tern_client_produce_request_seconds", dimensions: dimensions)
        self.transaction = configuration.transactionalId == nil ? nil : ProducerTransaction()
    }

    func start() {
        self.sender.withLock { $0 = Task { await self.runSender() } }
    }

    // MARK: Appending

    /// Runs on the caller's executor (`nonisolated(nonsending)`): the common case does not suspend,
    /// and a hop to the global executor per record would cost more than the append itself.
    nonisolated(nonsending) func append(_ record: ProducerRecord, completion: DeliveryCompletion?) async throws {
        if let transaction = self.transaction {
            try transaction.withLock { state throws(TernClientError) in try state.check(.send) }
        }
        if record.estimatedSize > self.configuration.messageMaxBytes {
            throw TernClientError.kafka(
                .messageTooLarge,
                "record of \(record.estimatedSize) bytes exceeds messageMaxBytes (\(self.configuration.messageMaxBytes))"
            )
        }
        let route = self.route(record)
        let timestamp = record.timestamp ?? currentTimeMilliseconds()
        while true {
            switch self.appendOnce(record, route: route, timestamp: timestamp, completion: completion) {
            case nil:
                throw TernClientError(.closed, "producer is closed")
            case .appended:
                return
            case .unknownTopic:
                try await self.learnPartitionCount(of: record.topic)
            case .invalidPartition(let count):
                throw TernClientError(
                    .unknownTopicOrPartition,
                    "partition \(record.partition ?? -1) of topic \"\(record.topic)\" does not exist (it has \(count))"
                )
            case .bufferFull:
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let hasSpace = self.accumulator.withLock { accumulator in
                        if accumulator.isClosing
                            || accumulator.bufferedBytes + record.estimatedSize <= accumulator.bufferMemory
                        {
                            return true
                        }
                        accumulator.spaceWaiters.append(continuation)
                        return false
                    }
                    if hasSpace { continuation.resume() }
                }
            }
        }
    }

    private func learnPartitionCount(of topic: String) async throws {
        let info = try await self.cluster.topic(topic, allowAutoCreate: self.configuration.allowAutoTopicCreation)
        self.accumulator.withLock { $0.learn(topic: topic, partitionCount: info.partitionCount) }
    }

    /// Appends if that needs no waiting; false means: call `append`, which handles everything.
    func tryAppend(_ record: ProducerRecord, completion: DeliveryCompletion?) -> Bool {
        guard record.estimatedSize <= self.configuration.messageMaxBytes else { return false }
        if let transaction = self.transaction, transaction.withLock({ $0.phase != .inTransaction }) { return false }
        let route = self.route(record)
        let timestamp = record.timestamp ?? currentTimeMilliseconds()
        guard case .appended = self.appendOnce(record, route: route, timestamp: timestamp, completion: completion)
        else { return false }
        return true
    }

    /// The partitioner's decision that needs no partition count (the key's hash), made outside the
    /// lock. An explicit partition needs none.
    private func route(_ record: ProducerRecord) -> Partitioner.Route {
        if record.partition != nil { return .sticky }
        let stickyLinger = self.configuration.stickyPartitioningLinger > .zero
        return self.configuration.partitioner.route(forKey: record.key?.readableBytesView, stickyLinger: stickyLinger)
    }

    /// One attempt under the lock (nil: closing); wakes the sender when it opened or closed a batch.
    private func appendOnce(
        _ record: ProducerRecord,
        route: Partitioner.Route,
        timestamp: Int64,
        completion: DeliveryCompletion?
    ) -> RecordAccumulator.AppendOutcome? {
        let outcome: RecordAccumulator.AppendOutcome? = self.accumulator.withLock { accumulator in
            if accumulator.isClosing { return nil }
            return accumulator.append(record, route: route, timestamp: timestamp, completion: completion)
        }
        if case .appended(wakeSender: true) = outcome { self.wake.signal() }
        return outcome
    }

    // MARK: Flush and close

    func flush() async {
        self.accumulator.withLock { $0.flushRequests += 1 }
        self.wake.signal()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = self.accumulator.withLock { accumulator in
                if accumulator.isEmpty { return true }
                accumulator.flushWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        self.accumulator.withLock { $0.flushRequests -= 1 }
    }

    func close() async {
        let alreadyClosing = self.accumulator.withLock { accumulator in
            defer { accumulator.isClosing = true }
            return accumulator.isClosing
        }
        let spaceWaiters = self.accumulator.withLock { accumulator in
            defer { accumulator.spaceWaiters = [] }
            return accumulator.spaceWaiters
        }
        for waiter in spaceWaiters { waiter.resume() }
        self.wake.signal()
        await self.flush()
        if !alreadyClosing {
            let task = self.sender.withLock { $0 }
            self.wake.signal()
            await task?.value
            await self.cluster.close()
        }
    }

    // MARK: Sending

    private func runSender() async {
        await withDiscardingTaskGroup { group in
            while true {
                let (drained, nextDeadline, finished) = self.accumulator.withLock { accumulator in
                    let (batches, deadline) = accumulator.drain(now: .now, linger: self.configuration.linger)
                    let finished = accumulator.isClosing && batches.isEmpty && accumulator.isEmpty
                    return (batches, deadline, finished)
                }
                if finished { return }
                if drained.isEmpty {
                    await self.wake.wait(until: nextDeadline)
                    continue
                }
                var batches = drained
                if self.transaction != nil {
                    batches = await self.addToTransaction(batches)
                    if batches.isEmpty { continue }
                } else if self.configuration.idempotent {
                    do {
                        try await self.ensureProducerId()
                    } catch {
                        for batch in batches { self.retryOrFail(batch, error: error) }
                        continue
                    }
                }
                var byLeader: [Int32: [ProducerBatch]] = [:]
                for batch in batches {
                    do {
                        let leader = try await self.cluster.leader(
                            for: batch.partition,
                            allowAutoCreate: self.configuration.allowAutoTopicCreation
                        )
                        byLeader[leader, default: []].append(batch)
                    } catch {
                        self.retryOrFail(batch, error: error)
                    }
                }
                for (leader, batches) in byLeader {
                    group.addTask { await self.sendBatches(batches, to: leader) }
                }
            }
        }
    }

    /// Idempotent producers without a transactional id: an id from any broker, once.
    private func ensureProducerId() async throws {
        if self.producerIdentity.withLock({ $0.id }) >= 0 { return }
        let connection = try await self.cluster.anyConnection()
        let response = try await connection.send(
            InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: Int32.max)
        )
        guard response.errorCode == .none else {
            throw TernClientError.kafka(response.errorCode, "InitProducerId")
        }
        self.producerIdentity.withLock { $0 = (response.producerId, response.producerEpoch) }
        self.logger.debug(
            "producer id",
            metadata: ["id": "\(response.producerId)", "epoch": "\(response.producerEpoch)"]
        )
    }

    private func sendBatches(_ batches: [ProducerBatch], to leader: Int32) async {
        let identity = self.producerIdentity.withLock { $0 }
        var batches = batches
        var failedToBuild: [(ProducerBatch, any Error)] = []
        var sendable: [ProducerBatch] = []
        for batch in batches {
            if var builder = batch.builder {
                batch.builder = nil
                if self.configuration.idempotent {
                    builder.setProducerState(
                        producerId: identity.id,
                        producerEpoch: identity.epoch,
                        baseSequence: batch.baseSequence
                    )
                }
                do {
                    batch.built = try builder.build()
                } catch {
                    failedToBuild.append((batch, error))
                    continue
                }
            }
            sendable.append(batch)
        }
        for (batch, error) in failedToBuild {
            self.complete(batch, with: .failure(TernClientError(.invalidConfiguration, "cannot build batch: \(error)")))
        }
        batches = sendable
        guard !batches.isEmpty else { return }

        var topics: [String: [ProduceRequest.PartitionProduceData]] = [:]
        var byteCount = 0
        for batch in batches {
            guard let bytes = batch.built else { continue }
            byteCount += bytes.readableBytes
            topics[batch.partition.topic, default: []].append(.init(index: batch.partition.partition, records: bytes))
        }
        let request = ProduceRequest(
            transactionalId: self.configuration.transactionalId,
            acks: self.configuration.acks.wireValue,
            timeoutMs: self.configuration.requestTimeout.wholeMilliseconds,
            topicData: topics.map { ProduceRequest.TopicProduceData(name: $0.key, partitionData: $0.value) }
        )
        let started = ContinuousClock.now
        let connection: BrokerConnection
        do {
            connection = try await self.cluster.connection(toNode: leader)
        } catch {
            for batch in batches { self.retryOrFail(batch, error: error) }
            return
        }
        do {
            let version = try connection.version(for: ProduceRequest.self)
            if self.configuration.acks == .none {
                try await connection.sendWithoutResponse(request, version: version)
                for batch in batches {
                    self.complete(batch, with: .success((baseOffset: -1, logAppendTime: -1)))
                }
                return
            }
            let response = try await connection.send(
                request,
                version: version,
                timeout: self.configuration.requestTimeout + self.configuration.client.requestTimeout
            )
            self.requestTimer.recordNanoseconds(Int64((ContinuousClock.now - started).nanoseconds))
            self.bytesCounter.increment(by: byteCount)
            var answers: [TopicPartition: ProduceResponse.PartitionProduceResponse] = [:]
            for topic in response.responses {
                for partition in topic.partitionResponses {
                    answers[TopicPartition(topic: topic.name, partition: partition.index)] = partition
                }
            }
            for batch in batches {
                guard let answer = answers[batch.partition] else {
                    self.retryOrFail(batch, error: TernClientError(.protocolError, "no answer for \(batch.partition)"))
                    continue
                }
                switch answer.errorCode {
                case .none, .duplicateSequenceNumber:
                    self.complete(
                        batch,
                        with: .success((baseOffset: answer.baseOffset, logAppendTime: answer.logAppendTimeMs))
                    )
                default:
                    let error = TernClientError.kafka(answer.errorCode, "produce to \(batch.partition)")
                    if answer.errorCode == .notLeaderOrFollower || answer.errorCode == .unknownTopicOrPartition
                        || answer.errorCode == .leaderNotAvailable
                    {
                        await self.cluster.invalidate(topic: batch.partition.topic)
                    }
                    self.retryOrFail(batch, error: error)
                }
            }
        } catch {
            await self.cluster.connectionFailed(connection)
            for batch in batches { self.retryOrFail(batch, error: error) }
        }
    }

    /// Puts a batch back for another attempt if the error allows and time remains, else fails it.
    func retryOrFail(_ batch: ProducerBatch, error: any Error) {
        let retriable = (error as? TernClientError)?.isRetriable ?? false
        batch.attempts += 1
        let retryAt = ContinuousClock.now + self.configuration.retryBackoff
        if retriable && retryAt < batch.createdAt + self.configuration.deliveryTimeout
            && !self.accumulator.withLock({ $0.isClosing && $0.flushRequests == 0 })
        {
            self.logger.debug("retrying batch", metadata: ["partition": "\(batch.partition)", "error": "\(error)"])
            let waiters = self.accumulator.withLock { $0.finished(batch, retryAt: retryAt) }
            precondition(waiters.isEmpty)
            self.wake.signal()
            return
        }
        self.errorsCounter.increment(by: Int(batch.recordCount))
        if let transaction = self.transaction {
            // The transaction must be aborted; its epoch changes then (sequences start again).
            let clientError = error as? TernClientError ?? TernClientError(.protocolError, "\(error)")
            transaction.withLock { $0.failed(clientError, sequenceGap: batch.baseSequence >= 0) }
        } else if self.configuration.idempotent && batch.baseSequence >= 0 {
            // The partition's sequence now has a gap the broker would refuse: start over with a
            // new producer id, whose sequences begin at 0.
            self.producerIdentity.withLock { $0 = (-1, -1) }
            self.accumulator.withLock { $0.resetSequences() }
        }
        self.complete(batch, with: .failure(error))
    }

    func complete(
        _ batch: ProducerBatch,
        with result: Result<(baseOffset: Int64, logAppendTime: Int64), any Error>
    ) {
        let (spaceWaiters, flushWaiters) = self.accumulator.withLock { accumulator in
            let spaceWaiters = accumulator.finished(batch, retryAt: nil)
            var flushWaiters: [CheckedContinuation<Void, Never>] = []
            if accumulator.isEmpty {
                flushWaiters = accumulator.flushWaiters
                accumulator.flushWaiters = []
            }
            return (spaceWaiters, flushWaiters)
        }
        if case .success = result { self.recordsCounter.increment(by: Int(batch.recordCount)) }
        for waiter in batch.waiters {
            switch result {
            case .success(let written):
                waiter.completion.complete(
                    .success(
                        RecordMetadata(
                            topic: batch.partition.topic,
                            partition: batch.partition.partition,
                            offset: written.baseOffset < 0 ? -1 : written.baseOffset + Int64(waiter.index),
                            timestamp: written.logAppendTime >= 0 ? written.logAppendTime : waiter.timestamp
                        )
                    )
                )
            case .failure(let error):
                waiter.completion.complete(.failure(error))
            }
        }
        for waiter in spaceWaiters { waiter.resume() }
        for waiter in flushWaiters { waiter.resume() }
        self.wake.signal()
    }
}
