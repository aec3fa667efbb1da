public import Logging
import Metrics
import NIOCore
public import ServiceLifecycle
import Synchronization
import TernRecords
import TernWire
import Tracing

/// Reads records, as an `AsyncSequence`, from assigned partitions or as a member of a consumer
/// group.
///
///     let consumer = try Consumer(configuration: .init(
///         bootstrapServers: ["localhost:9092"], mode: .group(id: "billing", topics: ["orders"])))
///     for try await record in consumer {
///         print(record.offset, record.valueString ?? "null")
///     }
///
/// Fetching runs ahead of delivery up to `maxPrefetchBytesPerPartition` per partition; records
/// are decoded (and decompressed) as they are delivered. Iterate from one task at a time.
public final class Consumer: Sendable, Service, AsyncSequence {
    public typealias Element = ConsumerRecord

    let core: ConsumerCore
    /// Assignments, revocations and ends of partitions, as they happen.
    public let events: AsyncStream<ConsumerEvent>

    public init(configuration: ConsumerConfiguration, logger: Logger = Logger(label: "tern.consumer")) throws {
        let (events, continuation) = AsyncStream.makeStream(
            of: ConsumerEvent.self,
            bufferingPolicy: .bufferingNewest(10_000)
        )
        self.events = events
        self.core = try ConsumerCore(configuration: configuration, events: continuation, logger: logger)
        self.core.start()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let core: ConsumerCore
        var cursor = ConsumerCore.Cursor()

        public mutating func next() async throws -> ConsumerRecord? {
            try await self.next(isolation: nil)
        }

        /// Runs on the caller's executor, so iterating does not hop executors per record.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> ConsumerRecord? {
            // Asking for the next record ends the previous one's "process" span, as OpenTelemetry's
            // kafka-python instrumentation does.
            if let span = self.cursor.processSpan {
                span.end()
                self.cursor.processSpan = nil
            }
            // Most records come from the current chunk, without suspending.
            if let chunk = self.cursor.chunk, let record = try self.core.nextRecord(in: chunk, &self.cursor) {
                return record
            }
            return try await self.core.next(&self.cursor)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(core: self.core)
    }

    /// Commits the position of every assigned partition (the offset after the last delivered record).
    public func commit() async throws {
        try await self.core.commitPositions()
    }

    /// Commits these offsets (the next offset to read, as Kafka means it).
    public func commit(_ offsets: [TopicPartition: Int64]) async throws {
        try await self.core.commit(offsets)
    }

    /// Commits in the background; failures are logged.
    public func commitAsync() {
        let core = self.core
        Task {
            do { try await core.commitPositions() } catch {
                core.logger.warning("commit failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Moves a partition's position; records fetched before are dropped.
    public func seek(_ partition: TopicPartition, to spec: OffsetSpec) async throws {
        try await self.core.seek(partition, to: spec)
    }

    /// Stops fetching these partitions (already fetched records are still delivered).
    public func pause(_ partitions: [TopicPartition]) { self.core.setPaused(partitions, true) }
    public func resume(_ partitions: [TopicPartition]) { self.core.setPaused(partitions, false) }

    /// The group's committed offsets for these partitions (partitions without one are left out).
    public func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        guard let group = self.core.configuration.groupId else {
            throw TernClientError(.invalidConfiguration, "committed offsets need a group id")
        }
        return try await self.core.cluster.fetchCommittedOffsets(group: group, partitions: partitions)
    }

    /// The next offset to be delivered for a partition, if assigned and known.
    public func position(_ partition: TopicPartition) -> Int64? { self.core.position(partition) }

    /// The consumer's place in its group, for `Producer.sendOffsetsToTransaction`: the group's
    /// coordinator refuses offsets of a transaction whose member has left the generation. In
    /// assign mode (or between generations) the generation is -1 and the member id empty, which
    /// coordinators accept unchecked.
    public func groupMetadata() throws -> ConsumerGroupMetadata {
        guard let groupId = self.core.configuration.groupId else {
            throw TernClientError(.invalidConfiguration, "group metadata needs a group id")
        }
        guard let identity = self.core.group?.identity else { return ConsumerGroupMetadata(groupId: groupId) }
        return ConsumerGroupMetadata(groupId: groupId, generationId: identity.generation, memberId: identity.memberId)
    }

    /// The partitions currently assigned.
    public func assignment() -> [TopicPartition] { self.core.assignment() }

    /// Commits (with auto-commit on), leaves the group and closes connections. The record sequence
    /// then ends.
    public func close() async throws {
        try await self.core.close()
    }

    /// Runs until graceful shutdown, then closes.
    public func run() async throws {
        try? await gracefulShutdown()
        try await self.close()
    }
}

final class ConsumerCore: Sendable {
    let configuration: ConsumerConfiguration
    let cluster: Cluster
    let logger: Logger
    /// nil without a tracer when the consumer was created (docs/tracing.md).
    let tracing = ClientTracer.active()
    let events: AsyncStream<ConsumerEvent>.Continuation
    let state = Mutex(FetchState())
    private let fetchWake = WakeSignal()
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let lastCommitted = Mutex<[TopicPartition: Int64]>([:])
    let group: GroupMembershipDriver?
    private let recordsCounter: Counter
    private let bytesCounter: Counter

    init(
        configuration: ConsumerConfiguration,
        events: AsyncStream<ConsumerEvent>.Continuation,
        logger: Logger
    ) throws {
        self.configuration = configuration
        self.cluster = try Cluster(configuration: configuration.client, logger: logger)
        self.logger = logger
        self.events = events
        let dimensions = [("client_id", configuration.client.clientId)]
        self.recordsCounter = Counter(label: "tern_client_consumed_records_total", dimensions: dimensions)
        self.bytesCounter = Counter(label: "tern_client_fetched_bytes_total", dimensions: dimensions)
        switch configuration.mode {
        case .assign(let specs):
            self.group = nil
            self.state.withLock { state in
                for (partition, spec) in specs {
                    if case .offset(let offset) = spec, offset >= 0 {
                        state.assign(
                            partition,
                            at: offset,
                            reset: nil,
                            fetchBytes: configuration.maxPartitionFetchBytes
                        )
                    } else {
                        state.assign(partition, at: nil, reset: spec, fetchBytes: configuration.maxPartitionFetchBytes)
                    }
                }
                state.hasAssignment = true
            }
            events.yield(.assigned(specs.keys.sorted()))
        case .group(let id, let topics):
            guard !id.isEmpty else { throw TernClientError(.invalidConfiguration, "group id must not be empty") }
            guard !topics.isEmpty else { throw TernClientError(.invalidConfiguration, "a group consumer needs topics") }
            self.group = try GroupMembershipDriver(
                groupId: id,
                topics: topics,
                configuration: configuration,
                cluster: self.cluster,
                logger: logger
            )
        }
    }

    func start() {
        var tasks = [Task { await self.runFetcher() }]
        if let group = self.group {
            tasks.append(Task { await group.run(consumer: self) })
        }
        if self.configuration.enableAutoCommit && self.configuration.groupId != nil {
            tasks.append(Task { await self.runAutoCommit() })
        }
        self.tasks.withLock { $0 = tasks }
    }

    // MARK: Delivery

    /// The iterator's place inside the current chunk.
    struct Cursor {
        var chunk: FetchState.Chunk?
        var batches: RecordBatchReader?
        var records: RecordReader?
        var fetchOffset: Int64 = 0
        var timestampType: TimestampType = .createTime
        /// read_committed: what the chunk's answer said is aborted.
        var abortedFilter: AbortedTransactionFilter?
        /// Records delivered from this chunk, counted into the metrics when it is done.
        var delivered = 0
        /// The last delivered record's "process" span, ended when the next record is asked for.
        var processSpan: (any Span)?
    }

    nonisolated(nonsending) func next(_ cursor: inout Cursor) async throws -> ConsumerRecord? {
        while true {
            if let chunk = cursor.chunk {
                if let record = try self.nextRecord(in: chunk, &cursor) { return record }
                self.finishChunk(chunk)
                if cursor.delivered > 0 { self.recordsCounter.increment(by: cursor.delivered) }
                cursor = Cursor(processSpan: cursor.processSpan)
            }
            // Take the next chunk, or wait for one.
            enum Step {
                case chunk(FetchState.Chunk)
                case finished
                case wait
            }
            let step = self.state.withLock { state -> Step in
                if let chunk = state.popChunk() { return .chunk(chunk) }
                if state.isClosed || state.failure != nil || (self.configuration.stopAtEnd && state.allAtEnd) {
                    return .finished
                }
                return .wait
            }
            let chunk: FetchState.Chunk
            switch step {
            case .chunk(let next):
                chunk = next
            case .finished:
                if let failure = self.state.withLock({ $0.failure }) { throw failure }
                return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.chunkHead < state.chunks.count || state.isClosed || state.failure != nil
                            || (self.configuration.stopAtEnd && state.allAtEnd)
                        {
                            return true
                        }
                        state.iteratorWaiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
                continue
            }
            switch chunk.content {
            case .records(let bytes, let fetchOffset, let aborted):
                cursor.chunk = chunk
                cursor.batches = RecordBatchReader(bytes)
                cursor.fetchOffset = fetchOffset
                cursor.abortedFilter = aborted.map(AbortedTransactionFilter.init)
            case .end(let offset):
                let reached = self.state.withLock { state -> Bool in
                    guard let partition = state.partitions[chunk.partition], partition.delivery === chunk.delivery,
                        partition.position >= offset
                    else { return false }
                    state.atEnd.insert(chunk.partition)
                    return true
                }
                if reached {
                    self.events.yield(.partitionEOF(chunk.partition, offset: offset))
                }
            }
        }
    }

    func nextRecord(in chunk: FetchState.Chunk, _ cursor: inout Cursor) throws -> ConsumerRecord? {
        while true {
            if cursor.records != nil {
                let record: Record?
                do {
                    record = try cursor.records!.next()
                } catch {
                    throw TernClientError(.corruptRecord, "bad record in \(chunk.partition): \(error)")
                }
                if let record {
                    if record.offset < cursor.fetchOffset { continue }
                    // Lock-free: a seek or revocation retires the cursor and the chunk is dropped.
                    guard chunk.delivery.isCurrent.load(ordering: .relaxed) else { return nil }
                    chunk.delivery.position.store(record.offset + 1, ordering: .relaxed)
                    cursor.delivered += 1
                    var delivered = ConsumerRecord(
                        topic: chunk.partition.topic,
                        partition: chunk.partition.partition,
                        offset: record.offset,
                        timestamp: record.timestampMs,
                        timestampType: cursor.timestampType,
                        key: record.key,
                        value: record.value,
                        headers: record.headers
                    )
                    if let tracing = self.tracing {
                        cursor.processSpan = ProcessTrace.start(
                            &delivered,
                            tracing: tracing,
                            groupID: self.configuration.groupId,
                            clientID: self.configuration.client.clientId,
                            logger: self.logger
                        )
                    }
                    return delivered
                }
                cursor.records = nil
            }
            let batch: RecordBatch?
            do {
                batch = try cursor.batches?.next()
            } catch {
                throw TernClientError(.corruptRecord, "bad batch in \(chunk.partition): \(error)")
            }
            guard let batch else { return nil }
            if batch.nextOffset <= cursor.fetchOffset { continue }
            guard batch.isValidCRC else {
                throw TernClientError(
                    .corruptRecord,
                    "batch at offset \(batch.baseOffset) of \(chunk.partition) fails its CRC"
                )
            }
            let skipped = cursor.abortedFilter?.skips(batch) ?? batch.attributes.isControl
            if skipped {
                // Transaction markers are not records, nor (read_committed) are aborted ones: step
                // over them, so the position passes them.
                self.state.withLock { state in
                    if state.partitions[chunk.partition]?.delivery === chunk.delivery {
                        state.partitions[chunk.partition]!.position = max(
                            state.partitions[chunk.partition]!.position,
                            batch.nextOffset
                        )
                    }
                }
                continue
            }
            cursor.timestampType = batch.attributes.timestampType == .logAppendTime ? .logAppendTime : .createTime
            do {
                cursor.records = try batch.makeRecordReader(decompressionLimit: self.configuration.decompressionLimit)
            } catch {
                throw TernClientError(
                    .corruptRecord,
                    "cannot read batch at offset \(batch.baseOffset) of \(chunk.partition): \(error)"
                )
            }
        }
    }

    /// A chunk is delivered: free its prefetch budget and let the fetcher refill.
    private func finishChunk(_ chunk: FetchState.Chunk) {
        let delivered = self.state.withLock { state -> Bool in
            guard state.partitions[chunk.partition]?.delivery === chunk.delivery else { return false }
            state.partitions[chunk.partition]!.bufferedBytes -= chunk.byteCount
            return true
        }
        if delivered { self.fetchWake.signal() }
    }

    // MARK: Fetching

    private func runFetcher() async {
        await withDiscardingTaskGroup { group in
            while true {
                let (closed, resets, fetchable, nextRetry) = self.state.withLock { state in
                    let now = ContinuousClock.now
                    var resets: [TopicPartition: OffsetSpec] = [:]
                    var fetchable: [TopicPartition: FetchState.Partition] = [:]
                    var nextRetry: ContinuousClock.Instant?
                    for (key, partition) in state.partitions {
                        if let reset = partition.pendingReset {
                            resets[key] = reset
                            continue
                        }
                        if let retryAfter = partition.retryAfter, retryAfter > now {
                            nextRetry = min(nextRetry ?? retryAfter, retryAfter)
                            continue
                        }
                        if !partition.isPaused && !partition.inFetch && partition.fetchPosition >= 0
                            && partition.bufferedBytes < self.configuration.maxPrefetchBytesPerPartition
                        {
                            fetchable[key] = partition
                        }
                    }
                    return (state.isClosed, resets, fetchable, nextRetry)
                }
                if closed { return }
                if !resets.isEmpty {
                    await self.resolve(resets)
                    continue
                }
                if fetchable.isEmpty {
                    await self.fetchWake.wait(until: nextRetry)
                    continue
                }
                var byLeader: [Int32: [TopicPartition: FetchState.Partition]] = [:]
                for (partition, state) in fetchable {
                    do {
                        byLeader[try await self.cluster.leader(for: partition), default: [:]][partition] = state
                    } catch {
                        self.partitionFailed(partition, delivery: state.delivery, error: error)
                    }
                }
                let started = self.state.withLock { state -> Bool in
                    for partitions in byLeader.values {
                        for (partition, fetched) in partitions
                        where state.partitions[partition]?.delivery === fetched.delivery {
                            state.partitions[partition]!.inFetch = true
                        }
                    }
                    return !byLeader.isEmpty
                }
                for (leader, partitions) in byLeader {
                    group.addTask { await self.fetch(partitions, from: leader) }
                }
                if !started { await self.fetchWake.wait(until: .now + .milliseconds(100)) }
            }
        }
    }

    private func fetch(_ partitions: [TopicPartition: FetchState.Partition], from leader: Int32) async {
        defer {
            self.state.withLock { state in
                for (partition, fetched) in partitions where state.partitions[partition]?.delivery === fetched.delivery
                {
                    state.partitions[partition]!.inFetch = false
                }
            }
            self.fetchWake.signal()
        }
        let request = FetchRequest(
            maxWaitMs: self.configuration.fetchMaxWait.wholeMilliseconds,
            minBytes: Int32(clamping: self.configuration.fetchMinBytes),
            maxBytes: Int32(clamping: self.configuration.fetchMaxBytes),
            isolationLevel: self.configuration.isolationLevel,
            topics: Dictionary(grouping: partitions, by: \.key.topic).map { topic, entries in
                FetchRequest.FetchTopic(
                    topic: topic,
                    partitions: entries.map {
                        FetchRequest.FetchPartition(
                            partition: $0.key.partition,
                            fetchOffset: $0.value.fetchPosition,
                            partitionMaxBytes: Int32(clamping: $0.value.fetchBytes)
                        )
                    }
                )
            }
        )
        let connection: BrokerConnection
        let response: FetchResponse
        do {
            connection = try await self.cluster.connection(toNode: leader)
            do {
                response = try await connection.send(
                    request,
                    version: try connection.version(for: FetchRequest.self),
                    timeout: self.configuration.client.requestTimeout + self.configuration.fetchMaxWait
                )
            } catch {
                await self.cluster.connectionFailed(connection)
                throw error
            }
        } catch {
            if self.state.withLock({ $0.isClosed }) { return }
            for (partition, fetched) in partitions {
                self.partitionFailed(partition, delivery: fetched.delivery, error: error)
            }
            return
        }
        if response.errorCode != .none {
            for (partition, fetched) in partitions {
                self.partitionFailed(
                    partition,
                    delivery: fetched.delivery,
                    error: TernClientError.kafka(response.errorCode, "fetch")
                )
            }
            return
        }
        for topic in response.responses {
            for answer in topic.partitions {
                let key = TopicPartition(topic: topic.topic, partition: answer.partitionIndex)
                guard let fetched = partitions[key] else { continue }
                self.apply(answer, to: key, fetched: fetched)
            }
        }
    }

    private func apply(_ answer: FetchResponse.PartitionData, to key: TopicPartition, fetched: FetchState.Partition) {
        switch answer.errorCode {
        case .none:
            break
        case .offsetOutOfRange:
            self.state.withLock { state in
                guard state.partitions[key]?.delivery === fetched.delivery else { return }
                self.logger.info(
                    "offset out of range, resetting",
                    metadata: ["partition": "\(key)", "offset": "\(fetched.fetchPosition)"]
                )
                state.partitions[key]!.pendingReset = self.configuration.autoOffsetReset
            }
            return
        default:
            self.partitionFailed(
                key,
                delivery: fetched.delivery,
                error: TernClientError.kafka(answer.errorCode, "fetch \(key)")
            )
            return
        }
        let records = answer.records ?? ByteBuffer()
        var nextOffset = fetched.fetchPosition
        var reader = RecordBatchReader(records)
        var complete = 0
        do {
            while let batch = try reader.next() {
                nextOffset = max(nextOffset, batch.nextOffset)
                complete += 1
            }
        } catch {
            self.fail(TernClientError(.corruptRecord, "bad batch framing in \(key): \(error)"))
            return
        }
        if complete > 0 {
            self.bytesCounter.increment(by: records.readableBytes)
        }
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard var partition = state.partitions[key], partition.delivery === fetched.delivery else { return [] }
            var waiters: [CheckedContinuation<Void, Never>] = []
            partition.highWatermark = answer.highWatermark
            // read_committed reads up to the last stable offset: its end is there.
            let end =
                self.configuration.isolationLevel == .readCommitted && answer.lastStableOffset >= 0
                ? answer.lastStableOffset : answer.highWatermark
            if complete > 0 {
                let bytes = records.readableBytes - reader.partialTrailingByteCount
                partition.fetchPosition = nextOffset
                partition.bufferedBytes += bytes
                partition.fetchBytes = self.configuration.maxPartitionFetchBytes
                state.atEnd.remove(key)
                if let waiter = state.push(
                    .init(
                        partition: key,
                        delivery: partition.delivery,
                        content: .records(
                            records,
                            fetchOffset: fetched.fetchPosition,
                            aborted: self.configuration.isolationLevel == .readCommitted
                                ? answer.abortedTransactions ?? [] : nil
                        ),
                        byteCount: bytes
                    )
                ) {
                    waiters.append(waiter)
                }
            } else if reader.partialTrailingByteCount > 0 {
                // A batch bigger than the partition's fetch size: ask for more next time.
                partition.fetchBytes = min(
                    partition.fetchBytes * 2,
                    max(self.configuration.fetchMaxBytes, partition.fetchBytes)
                )
            }
            if partition.fetchPosition >= end && partition.endQueuedAt != partition.fetchPosition {
                partition.endQueuedAt = partition.fetchPosition
                if let waiter = state.push(
                    .init(
                        partition: key,
                        delivery: partition.delivery,
                        content: .end(partition.fetchPosition),
                        byteCount: 0
                    )
                ) {
                    waiters.append(waiter)
                }
            }
            state.partitions[key] = partition
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func partitionFailed(_ partition: TopicPartition, delivery: DeliveryCursor, error: any Error) {
        let clientError = error as? TernClientError ?? TernClientError(.protocolError, "\(error)")
        if clientError.isRetriable || clientError.kind == .unknownTopicOrPartition {
            self.logger.debug("fetch failed, retrying", metadata: ["partition": "\(partition)", "error": "\(error)"])
            let cluster = self.cluster
            Task { await cluster.invalidate(topic: partition.topic) }
            self.state.withLock { state in
                guard state.partitions[partition]?.delivery === delivery else { return }
                state.partitions[partition]!.retryAfter = .now + self.configuration.client.reconnectBackoffMax / 4
            }
            self.fetchWake.signal()
            return
        }
        self.fail(clientError)
    }

    func fail(_ error: TernClientError) {
        self.logger.debug("consumer failed", metadata: ["error": "\(error)"])
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.failure == nil { state.failure = error }
            defer { state.iteratorWaiter = nil }
            return state.iteratorWaiter
        }
        waiter?.resume()
    }

    /// Finds start offsets: committed ones for `.stored` (else `autoOffsetReset`), ListOffsets for
    /// the rest.
    private func resolve(_ resets: [TopicPartition: OffsetSpec]) async {
        var specs = resets
        do {
            let stored = specs.filter { $0.value == .stored }.map(\.key)
            if !stored.isEmpty {
                var committed: [TopicPartition: Int64] = [:]
                if let group = self.configuration.groupId {
                    committed = try await self.cluster.fetchCommittedOffsets(group: group, partitions: stored)
                }
                for partition in stored {
                    if let offset = committed[partition] {
                        specs[partition] = .offset(offset)
                    } else {
                        specs[partition] =
                            self.configuration.autoOffsetReset == .stored ? .latest : self.configuration.autoOffsetReset
                    }
                }
            }
            let offsets = try await self.cluster.resolve(specs, isolation: self.configuration.isolationLevel)
            self.state.withLock { state in
                for (partition, offset) in offsets where state.partitions[partition]?.pendingReset == resets[partition]
                {
                    state.partitions[partition]!.pendingReset = nil
                    state.partitions[partition]!.fetchPosition = offset
                    state.partitions[partition]!.position = offset
                    state.partitions[partition]!.endQueuedAt = -1
                }
            }
        } catch {
            if error.isRetriable {
                try? await Task.sleep(for: self.configuration.client.reconnectBackoffMax / 4)
            } else {
                self.fail(error)
                self.state.withLock { state in
                    for key in resets.keys { state.partitions[key]?.pendingReset = nil }
                }
            }
        }
    }

    // MARK: Positions

    func seek(_ partition: TopicPartition, to spec: OffsetSpec) async throws {
        var offset: Int64?
        if case .offset(let value) = spec, value >= 0 { offset = value }
        let found = self.state.withLock { state -> Bool in
            guard state.partitions[partition] != nil else { return false }
            let paused = state.partitions[partition]!.isPaused
            state.assign(partition, at: offset, reset: spec, fetchBytes: self.configuration.maxPartitionFetchBytes)
            state.partitions[partition]!.isPaused = paused
            return true
        }
        guard found else {
            throw TernClientError(.invalidConfiguration, "\(partition) is not assigned to this consumer")
        }
        self.fetchWake.signal()
    }

    func setPaused(_ partitions: [TopicPartition], _ paused: Bool) {
        self.state.withLock { state in
            for partition in partitions { state.partitions[partition]?.isPaused = paused }
        }
        self.fetchWake.signal()
    }

    func position(_ partition: TopicPartition) -> Int64? {
        self.state.withLock { state in
            guard let position = state.partitions[partition]?.position, position >= 0 else { return nil }
            return position
        }
    }

    func assignment() -> [TopicPartition] {
        self.state.withLock { $0.partitions.keys.sorted() }
    }

    /// Replaces the assignment (group mode): new partitions start at their committed offset or
    /// `autoOffsetReset`; kept partitions keep their position.
    func setAssignment(_ partitions: [TopicPartition]) {
        self.state.withLock { state in
            let wanted = Set(partitions)
            for existing in state.partitions.keys where !wanted.contains(existing) { state.unassign(existing) }
            for partition in partitions where state.partitions[partition] == nil {
                state.assign(partition, at: nil, reset: .stored, fetchBytes: self.configuration.maxPartitionFetchBytes)
            }
            state.hasAssignment = true
        }
        self.events.yield(.assigned(partitions.sorted()))
        self.fetchWake.signal()
    }

    /// The positions to commit: every assigned partition with a known position.
    func positions() -> [TopicPartition: Int64] {
        self.state.withLock { state in
            var positions: [TopicPartition: Int64] = [:]
            for (key, partition) in state.partitions where partition.position >= 0 && partition.pendingReset == nil {
                positions[key] = partition.position
            }
            return positions
        }
    }

    // MARK: Commits

    func commitPositions() async throws {
        let positions = self.positions()
        let changed = self.lastCommitted.withLock { last in positions.filter { last[$0.key] != $0.value } }
        if changed.isEmpty { return }
        try await self.commit(changed)
    }

    func commit(_ offsets: [TopicPartition: Int64]) async throws {
        guard let groupId = self.configuration.groupId else {
            throw TernClientError(.invalidConfiguration, "commits need a group id")
        }
        guard let tracing = self.tracing else {
            return try await self.commitUntraced(offsets, group: groupId)
        }
        let span = CommitTrace.start(
            offsets,
            tracing: tracing,
            groupID: groupId,
            clientID: self.configuration.client.clientId
        )
        do {
            try await ServiceContext.withValue(span.context) {
                try await self.commitUntraced(offsets, group: groupId)
            }
            span.end()
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            span.end()
            throw error
        }
    }

    private func commitUntraced(_ offsets: [TopicPartition: Int64], group groupId: String) async throws {
        if let group = self.group {
            try await group.commit(offsets)
        } else {
            try await Admin.commit(offsets, group: groupId, generation: -1, memberId: "", cluster: self.cluster)
        }
        self.lastCommitted.withLock { last in
            for (key, value) in offsets { last[key] = value }
        }
    }

    private func runAutoCommit() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: self.configuration.autoCommitInterval)
            if self.state.withLock({ $0.isClosed }) { return }
            do {
                try await self.commitPositions()
            } catch {
                self.logger.warning("auto-commit failed", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Close

    func close() async throws {
        let alreadyClosed = self.state.withLock { state -> Bool in
            defer { state.isClosed = true }
            return state.isClosed
        }
        if alreadyClosed { return }
        var commitError: (any Error)?
        if self.configuration.enableAutoCommit && self.configuration.groupId != nil {
            do { try await self.commitPositions() } catch { commitError = error }
        }
        if let group = self.group { await group.leave() }
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.iteratorWaiter = nil }
            return state.iteratorWaiter
        }
        waiter?.resume()
        self.fetchWake.signal()
        let tasks = self.tasks.withLock { $0 }
        for task in tasks { task.cancel() }
        // Closing the connections first ends a long-polling fetch at once instead of after its
        // maxWait.
        await self.cluster.close()
        for task in tasks { await task.value }
        self.events.finish()
        if let commitError { throw commitError }
    }
}
