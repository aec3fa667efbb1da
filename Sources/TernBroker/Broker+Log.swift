import Logging
import NIOCore
import Synchronization
import TernCompression
import TernRecords
import TernStorage
import TernWire

extension Broker {
    /// The outcome of one partition of a Produce request: its response entry, and for acks=all the
    /// offset whose fsync the response must wait for.
    private struct PartitionAppend {
        var response: ProduceResponse.PartitionProduceResponse
        var durableOffset: Int64?
        var log: PartitionLog?
    }

    func produce(_ request: ProduceRequest, origin: RequestOrigin) async -> BrokerReply {
        let version = origin.apiVersion
        let durability: Durability
        var requestError: KafkaErrorCode? = nil
        switch request.acks {
        case -1: durability = .fsync
        case 0, 1: durability = .none
        default:
            durability = .none
            requestError = .invalidRequiredAcks
        }
        if let transactionalId = request.transactionalId,
            !self.isAllowed(origin, .write, .transactionalId, transactionalId)
        {
            requestError = .transactionalIdAuthorizationFailed
        }

        // Partitions are appended one after another in request order; only the fsync wait of
        // acks=all is left for later, so a producer's next request can be appended meanwhile.
        var topics: [(name: String, partitions: [PartitionAppend])] = []
        for topic in request.topicData {
            var partitions: [PartitionAppend] = []
            let topicError: KafkaErrorCode? =
                self.isAllowed(origin, .write, .topic, topic.name) ? requestError : .topicAuthorizationFailed
            for partition in topic.partitionData {
                if let requestError = topicError {
                    partitions.append(
                        .init(response: .init(index: partition.index, errorCode: requestError, baseOffset: -1))
                    )
                } else {
                    partitions.append(
                        await self.appendPartition(
                            topic: topic.name,
                            partition: partition,
                            version: version,
                            durability: durability,
                            transactionalId: request.transactionalId
                        )
                    )
                }
            }
            topics.append((topic.name, partitions))
        }

        guard request.expectsResponse else { return .noResponse }
        let respond: @Sendable ([(name: String, partitions: [PartitionAppend])]) -> BrokerReply = { topics in
            self.reply(
                ProduceResponse(
                    responses: topics.map { topic in
                        .init(name: topic.name, partitionResponses: topic.partitions.map(\.response))
                    }
                ),
                origin
            )
        }
        guard topics.contains(where: { $0.partitions.contains { $0.durableOffset != nil } }) else {
            return respond(topics)
        }
        let appended = topics
        return .pending {
            var answered = appended
            for topicIndex in answered.indices {
                for partitionIndex in answered[topicIndex].partitions.indices {
                    let append = answered[topicIndex].partitions[partitionIndex]
                    guard let offset = append.durableOffset, let log = append.log else { continue }
                    do throws(StorageError) {
                        try await log.waitUntilDurable(offset: offset)
                    } catch {
                        answered[topicIndex].partitions[partitionIndex].response.errorCode = error.kafkaErrorCode
                        answered[topicIndex].partitions[partitionIndex].response.baseOffset = -1
                    }
                }
            }
            return respond(answered)
        }
    }

    private func appendPartition(
        topic: String,
        partition: ProduceRequest.PartitionProduceData,
        version: Int16,
        durability: Durability,
        transactionalId: String?
    ) async -> PartitionAppend {
        func failure(_ code: KafkaErrorCode) -> PartitionAppend {
            .init(response: .init(index: partition.index, errorCode: code, baseOffset: -1))
        }
        guard !Self.isInternalTopic(topic) else { return failure(.invalidTopicException) }
        guard let log = self.logs.partition(topic: topic, index: partition.index) else {
            return failure(.unknownTopicOrPartition)
        }
        guard var records = partition.records else { return failure(.invalidRecord) }
        if version <= 2 {
            // Produce v0-v2 carries magic 0/1 message sets: stored as one v2 batch, as Kafka 3.x does.
            do throws(RecordBatchError) {
                let legacy = try LegacyMessageSet.parse(records, decompressionLimit: Self.legacyDecompressionLimit)
                guard !legacy.isEmpty else { return failure(.invalidRecord) }
                records = try LegacyMessageSet.convertToBatch(
                    legacy,
                    codec: legacy[0].codec,
                    nowMs: self.sessionClock.nowMs
                )
            } catch {
                return failure(KafkaErrorCode(rawValue: error.kafkaErrorCode))
            }
        }
        // Kafka refuses zstd below Produce v7 before it looks at the batch (the header is enough).
        if version < 7, records.readableBytes >= RecordBatch.headerByteCount,
            records.getInteger(at: records.readerIndex + 16, as: Int8.self) == RecordBatch.currentMagic,
            let attributes = records.getInteger(at: records.readerIndex + 21, as: Int16.self),
            RecordBatch.Attributes(rawValue: attributes).codec == .zstd
        {
            return failure(.unsupportedCompressionType)
        }
        let topicPartition = TopicPartition(topic: topic, partition: partition.index)
        do throws(StorageError) {
            // The one append path: the log validates the batch once (Kafka's client rules
            // included), checks and records its producer's state and writes it; a retry of one of
            // the producer's last five batches comes back with its original offsets, unwritten.
            let index = partition.index
            let admit: (Int64, Int16) -> StorageError? = { producerId, epoch in
                self.transactionalRefusal(
                    transactionalId: transactionalId,
                    producerId: producerId,
                    producerEpoch: epoch,
                    topic: topic,
                    partition: index
                )
            }
            let result = try await log.append(records, durability: .none, origin: .client, admitTransactional: admit)
            if !result.isDuplicate { self.dataArrival.notifyArrival(topicPartition) }
            return .init(
                response: .init(
                    index: partition.index,
                    baseOffset: result.baseOffset,
                    logAppendTimeMs: result.logAppendTimeMs,
                    logStartOffset: result.logStartOffset
                ),
                durableOffset: durability == .fsync ? result.lastOffset : nil,
                log: log
            )
        } catch {
            var response = failure(error.kafkaErrorCode)
            if error.code == .recordWithoutKey { response.response.errorMessage = error.message }
            return response
        }
    }

    /// Writes a transaction marker to a partition (`PartitionLog.appendTransactionMarker`) and
    /// wakes the fetches waiting on it — read committed fetches wait for the last stable offset,
    /// which only a marker moves. For the transaction runtime (WriteTxnMarkers).
    ///
    /// - Throws: `.unknownTopicOrPartition` for a partition this broker does not have; what
    ///   `appendTransactionMarker` throws (`.invalidProducerEpoch`,
    ///   `.transactionCoordinatorFenced`, `.closed`, `.diskFull`, `.io`). Map with
    ///   `StorageError.kafkaErrorCode`.
    func appendTransactionMarker(
        topicPartition: TopicPartition,
        producerId: Int64,
        producerEpoch: Int16,
        coordinatorEpoch: Int32,
        commit: Bool,
        durability: Durability
    ) async throws(StorageError) -> AppendResult {
        guard let log = self.logs.partition(topic: topicPartition.topic, index: topicPartition.partition) else {
            throw StorageError(.unknownTopicOrPartition, "\(topicPartition) is not hosted here")
        }
        let result = try await log.appendTransactionMarker(
            producerId: producerId,
            producerEpoch: producerEpoch,
            coordinatorEpoch: coordinatorEpoch,
            commit: commit,
            durability: durability
        )
        self.dataArrival.notifyArrival(topicPartition)
        return result
    }

    func fetch(_ request: FetchRequest, origin: RequestOrigin) async -> FetchResponse {
        let version = origin.apiVersion
        let maxWaitMs = max(0, min(request.maxWaitMs, self.configuration.fetchMaxWaitMs))
        let deadline = ContinuousClock.now + .milliseconds(maxWaitMs)
        // v13+ names topics by id: resolve them once; an unknown id is answered UNKNOWN_TOPIC_ID.
        var names: [String?] = request.topics.map { topic in
            version >= 13 ? self.logs.topic(id: TopicId(topic.topicId))?.name : topic.topic
        }
        var effective = request
        var plan = FetchSessionCache.Plan.sessionless
        if version >= 7 {
            plan = self.planFetchSession(request, names: names, version: version)
            switch plan {
            case .error(let code):
                return FetchResponse(errorCode: code, sessionId: 0, responses: [])
            case .incremental(let sessionId, let keys):
                // Serve every partition of the session; the answer keeps only what changed. Only
                // the session's entries leave the lock (a copy of the whole cache held outside it
                // would make the next change under the lock copy every session).
                let cachedPartitions = self.fetchSessions.withLock { cache in
                    keys.compactMap { key in cache.cached(sessionId, key).map { (key, $0) } }
                }
                var topics: [FetchRequest.FetchTopic] = []
                for (key, cached) in cachedPartitions {
                    let partition = FetchRequest.FetchPartition(
                        partition: key.partition,
                        currentLeaderEpoch: cached.currentLeaderEpoch,
                        fetchOffset: cached.fetchOffset,
                        partitionMaxBytes: cached.partitionMaxBytes
                    )
                    if topics.last?.topic == key.topic {
                        topics[topics.count - 1].partitions.append(partition)
                    } else {
                        topics.append(.init(topic: key.topic, topicId: cached.topicId, partitions: [partition]))
                    }
                }
                // Topics whose id did not resolve are answered (with their error) but not cached.
                let unresolved = zip(request.topics, names).filter { $0.1 == nil }.map(\.0)
                effective.topics = topics + unresolved
                names = topics.map(\.topic) + unresolved.map { _ in nil }
            case .sessionless, .full:
                break
            }
        }
        // Topics the principal may not READ are answered TOPIC_AUTHORIZATION_FAILED, never waited on.
        let denied: Set<String> =
            self.configuration.authorizer == nil
            ? [] : Set(names.compactMap { $0 }.filter { !self.isAllowed(origin, .read, .topic, $0) })
        let partitions = zip(effective.topics, names).flatMap { topic, name in
            name.map { name in topic.partitions.map { TopicPartition(topic: name, partition: $0.partition) } } ?? []
        }
        while true {
            let snapshot = self.dataArrival.snapshot(partitions)
            let (response, byteCount, hasError, sent) = self.readFetch(
                effective,
                names: names,
                version: version,
                denied: denied
            )
            let remaining = deadline - ContinuousClock.now
            if byteCount >= Int(request.minBytes) || hasError || remaining <= .zero || Task.isCancelled {
                for (metrics, records) in sent {
                    metrics.recordFetch(records: Self.recordCount(in: records), bytes: records.readableBytes)
                }
                return self.finishFetchSession(response, plan: plan, names: names)
            }
            await self.dataArrival.waitForArrival(since: snapshot, timeout: remaining)
        }
    }

    /// Applies a Fetch v7+ request to the session cache.
    private func planFetchSession(_ request: FetchRequest, names: [String?], version: Int16) -> FetchSessionCache.Plan {
        var partitions: [(key: FetchSessionCache.PartitionKey, state: FetchSessionCache.CachedPartition)] = []
        for (topic, name) in zip(request.topics, names) {
            guard let name else { continue }
            for partition in topic.partitions {
                partitions.append(
                    (
                        .init(topic: name, partition: partition.partition),
                        .init(
                            topicId: topic.topicId,
                            fetchOffset: partition.fetchOffset,
                            partitionMaxBytes: partition.partitionMaxBytes,
                            currentLeaderEpoch: partition.currentLeaderEpoch
                        )
                    )
                )
            }
        }
        var forgotten: [FetchSessionCache.PartitionKey] = []
        for topic in request.forgottenTopicsData {
            let name = version >= 13 ? self.logs.topic(id: TopicId(topic.topicId))?.name : topic.topic
            guard let name else { continue }
            forgotten += topic.partitions.map { .init(topic: name, partition: $0) }
        }
        let nowMs = self.sessionClock.nowMs
        return self.fetchSessions.withLock { cache in
            cache.plan(
                sessionId: request.sessionId,
                epoch: request.sessionEpoch,
                partitions: partitions,
                forgotten: forgotten,
                nowMs: nowMs
            )
        }
    }

    /// Sets the answer's session id and, for a session, records what was sent; an incremental
    /// answer keeps only the partitions with something new.
    private func finishFetchSession(
        _ response: FetchResponse,
        plan: FetchSessionCache.Plan,
        names: [String?]
    ) -> FetchResponse {
        let sessionId: Int32
        let incremental: Bool
        switch plan {
        case .full(let id): (sessionId, incremental) = (id, false)
        case .incremental(let id, _): (sessionId, incremental) = (id, true)
        case .sessionless, .error: return response
        }
        var response = response
        response.sessionId = sessionId
        guard sessionId != 0 else { return response }
        self.fetchSessions.withLock { cache in
            for topicIndex in response.responses.indices {
                guard let name = names[topicIndex] else { continue }
                response.responses[topicIndex].partitions.removeAll { partition in
                    let changed = cache.recordAnswer(
                        sessionId: sessionId,
                        key: .init(topic: name, partition: partition.partitionIndex),
                        hasRecords: (partition.records?.readableBytes ?? 0) > 0,
                        errorCode: partition.errorCode,
                        highWatermark: partition.highWatermark,
                        lastStableOffset: partition.lastStableOffset,
                        logStartOffset: partition.logStartOffset
                    )
                    // A diverging epoch is always sent, as Kafka's sessions do.
                    return incremental && !changed && partition.divergingEpoch == .init()
                }
            }
        }
        if incremental { response.responses.removeAll { $0.partitions.isEmpty } }
        return response
    }

    /// One pass over the requested partitions: whole batches from each fetch offset, within the
    /// partition and response limits. The first batch found is returned even if it exceeds them,
    /// so a consumer can always make progress (Fetch v3+ semantics). Partitions with an error get
    /// empty records, never null ones, as Kafka answers (librdkafka reads null records as a parse
    /// failure and refetches at once).
    private func readFetch(
        _ request: FetchRequest,
        names: [String?],
        version: Int16,
        denied: Set<String>
    ) -> (FetchResponse, Int, Bool, [(PartitionMetrics, ByteBuffer)]) {
        var bytesLeft = max(0, min(Int(request.maxBytes), self.configuration.fetchMaxBytes))
        // Fetch v0-v2 has no response size limit.
        if version < 3 { bytesLeft = self.configuration.fetchMaxBytes }
        var byteCount = 0
        var hasError = false
        var sent: [(PartitionMetrics, ByteBuffer)] = []
        let topics = zip(request.topics, names).map { topic, name in
            FetchResponse.FetchableTopicResponse(
                topic: name ?? "",
                topicId: topic.topicId,
                partitions: topic.partitions.map { partition in
                    guard let name else {
                        hasError = true
                        return .error(.unknownTopicId, partitionIndex: partition.partition)
                    }
                    guard !denied.contains(name) else {
                        hasError = true
                        return .error(.topicAuthorizationFailed, partitionIndex: partition.partition)
                    }
                    guard let log = self.logs.partition(topic: name, index: partition.partition) else {
                        hasError = true
                        return .error(.unknownTopicOrPartition, partitionIndex: partition.partition)
                    }
                    if let error = Self.leaderEpochError(
                        requested: partition.currentLeaderEpoch,
                        current: log.leaderEpoch
                    ) {
                        hasError = true
                        return .error(error, partitionIndex: partition.partition)
                    }
                    if let answer = Self.divergence(of: partition, in: log) {
                        hasError = true  // Answered at once, as Kafka completes a fetch that diverges.
                        return answer
                    }
                    let limit = min(Int(max(0, partition.partitionMaxBytes)), bytesLeft)
                    // isolation_level is Fetch v4+; older fetches read uncommitted.
                    let isolation: ReadIsolation =
                        version >= 4 && request.isolationLevel == .readCommitted ? .readCommitted : .readUncommitted
                    do throws(StorageError) {
                        let result = try log.read(from: partition.fetchOffset, maxBytes: limit, isolation: isolation)
                        var records = result.records
                        if records.readableBytes > limit && (byteCount > 0 || version < 3) {
                            // Only the first partition with data may exceed the limits (v3+).
                            records = records.getSlice(at: records.readerIndex, length: 0)!
                        }
                        byteCount += records.readableBytes
                        bytesLeft = max(0, bytesLeft - records.readableBytes)
                        if records.readableBytes > 0 { sent.append((log.metrics, records)) }
                        if version <= 3 {
                            // Fetch v0-v1 predates record batches and reads magic 0 messages, v2-v3 magic 1.
                            do throws(RecordBatchError) {
                                records = try LegacyMessageSet.downConvert(
                                    records,
                                    toMagic: version <= 1 ? 0 : 1,
                                    firstOffset: partition.fetchOffset,
                                    decompressionLimit: Self.legacyDecompressionLimit
                                )
                            } catch {
                                self.logger.warning(
                                    "cannot down-convert records for an old fetch",
                                    metadata: [
                                        "topic": "\(name)", "partition": "\(partition.partition)", "error": "\(error)",
                                    ]
                                )
                                hasError = true
                                return .error(.corruptMessage, partitionIndex: partition.partition)
                            }
                        }
                        // Kafka answers null aborted_transactions for read uncommitted, a list
                        // (empty when none) for read committed.
                        return .init(
                            partitionIndex: partition.partition,
                            highWatermark: result.highWatermark,
                            lastStableOffset: result.lastStableOffset,
                            logStartOffset: result.logStartOffset,
                            abortedTransactions: result.abortedTransactions?.map {
                                .init(producerId: $0.producerId, firstOffset: $0.firstOffset)
                            },
                            records: records
                        )
                    } catch {
                        hasError = true
                        return .init(
                            partitionIndex: partition.partition,
                            errorCode: error.kafkaErrorCode,
                            highWatermark: log.highWatermark,
                            lastStableOffset: log.lastStableOffset,
                            logStartOffset: log.logStartOffset,
                            abortedTransactions: isolation == .readCommitted ? [] : nil,
                            records: ByteBuffer()
                        )
                    }
                }
            )
        }
        return (FetchResponse(responses: topics), byteCount, hasError, sent)
    }

    /// Fetch v12+'s check of `last_fetched_epoch` (KIP-595, as Kafka's `Partition.readRecords`):
    /// when the fetcher's last epoch ends before its fetch offset here, or this log does not have
    /// that epoch, the answer is the diverging epoch and its end offset with no records, so the
    /// fetcher truncates to it. OFFSET_OUT_OF_RANGE when the epoch cannot be placed at all or the
    /// offset is below the log start. nil: no divergence (or no last epoch sent), read as usual.
    private static func divergence(
        of partition: FetchRequest.FetchPartition,
        in log: PartitionLog
    ) -> FetchResponse.PartitionData? {
        guard partition.lastFetchedEpoch >= 0 else { return nil }
        let (epoch, endOffset) = log.endOffset(forEpoch: partition.lastFetchedEpoch)
        let logStartOffset = log.logStartOffset
        guard epoch != LeaderEpochCache.undefinedEpoch, endOffset != LeaderEpochCache.undefinedOffset,
            partition.fetchOffset >= logStartOffset
        else {
            return .init(
                partitionIndex: partition.partition,
                errorCode: .offsetOutOfRange,
                highWatermark: log.highWatermark,
                lastStableOffset: log.lastStableOffset,
                logStartOffset: logStartOffset,
                records: ByteBuffer()
            )
        }
        guard epoch < partition.lastFetchedEpoch || endOffset < partition.fetchOffset else { return nil }
        return .init(
            partitionIndex: partition.partition,
            highWatermark: log.highWatermark,
            lastStableOffset: log.highWatermark,
            logStartOffset: logStartOffset,
            divergingEpoch: .init(epoch: epoch, endOffset: endOffset),
            records: ByteBuffer()
        )
    }

    /// Bound on decompressed bytes when converting between message formats.
    static let legacyDecompressionLimit = 64 << 20

    /// Records in whole stored batches, from each batch header's record count (no record is
    /// parsed).
    static func recordCount(in batches: ByteBuffer) -> Int {
        var count = 0
        var position = batches.readerIndex
        let end = batches.writerIndex
        // baseOffset i64, batchLength i32 (bytes after it), ..., recordCount i32 at byte 57.
        while position + 61 <= end,
            let length = batches.getInteger(at: position + 8, as: Int32.self),
            let records = batches.getInteger(at: position + 57, as: Int32.self)
        {
            count += Int(max(0, records))
            position += 12 + Int(max(0, length))
        }
        return count
    }

    func listOffsets(_ request: ListOffsetsRequest, origin: RequestOrigin) -> ListOffsetsResponse {
        let version = origin.apiVersion
        return ListOffsetsResponse(
            topics: request.topics.map { topic in
                let allowed = self.isAllowed(origin, .describe, .topic, topic.name)
                return .init(
                    name: topic.name,
                    partitions: topic.partitions.map { partition in
                        let index = partition.partitionIndex
                        guard allowed else { return .init(partitionIndex: index, errorCode: .topicAuthorizationFailed) }
                        guard let log = self.logs.partition(topic: topic.name, index: index) else {
                            return .init(partitionIndex: index, errorCode: .unknownTopicOrPartition)
                        }
                        let leaderEpoch = log.leaderEpoch
                        if let error = Self.leaderEpochError(
                            requested: partition.currentLeaderEpoch,
                            current: leaderEpoch
                        ) {
                            return .init(partitionIndex: index, errorCode: error)
                        }
                        // isolation_level is ListOffsets v2+: read committed stops at the LSO.
                        let isolation: ReadIsolation =
                            version >= 2 && request.isolationLevel == .readCommitted ? .readCommitted : .readUncommitted
                        let found: (offset: Int64, timestamp: Int64)?
                        switch partition.timestamp {
                        case ListOffsetsRequest.latestTimestamp:
                            found = (log.latestOffset(isolation: isolation), -1)
                        case ListOffsetsRequest.earliestTimestamp, ListOffsetsRequest.earliestLocalTimestamp:
                            found = (log.logStartOffset, -1)
                        case ListOffsetsRequest.maxTimestamp:
                            found = log.offsetOfMaxTimestamp() ?? (-1, -1)
                        case ListOffsetsRequest.latestTieredTimestamp:
                            // No tiered storage: nothing is uploaded.
                            found = (-1, -1)
                        case let timestamp where timestamp >= 0:
                            // No record at or after the timestamp: Kafka answers offset -1, timestamp -1.
                            found = log.offset(forTimestamp: timestamp, isolation: isolation) ?? (-1, -1)
                        default:
                            found = nil
                        }
                        guard let found else { return .init(partitionIndex: index, errorCode: .invalidRequest) }
                        if version == 0 {
                            // v0 answers a list of offsets (at most max_num_offsets), newest first.
                            let offsets = found.offset >= 0 && partition.maxNumOffsets > 0 ? [found.offset] : []
                            return .init(partitionIndex: index, oldStyleOffsets: offsets)
                        }
                        // The epoch of the record found; the current one for the latest offset.
                        let foundEpoch: Int32 =
                            partition.timestamp == ListOffsetsRequest.latestTimestamp
                            ? leaderEpoch
                            : found.offset >= 0 ? log.leaderEpoch(forOffset: found.offset) ?? -1 : -1
                        return .init(
                            partitionIndex: index,
                            timestamp: found.timestamp,
                            offset: found.offset,
                            leaderEpoch: foundEpoch
                        )
                    }
                )
            }
        )
    }
}
