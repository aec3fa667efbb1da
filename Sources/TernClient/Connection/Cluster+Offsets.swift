import TernWire

extension Cluster {
    /// The offset of each partition at a ListOffsets timestamp (-2 earliest, -1 latest, else a
    /// time). Partitions are asked of their leaders, one request per leader; leadership errors
    /// refresh metadata and retry. With read_committed, latest is the last stable offset.
    func listOffsets(
        _ partitions: [TopicPartition],
        isolation: IsolationLevel = .readUncommitted,
        timestamp: @Sendable (TopicPartition) -> Int64
    ) async throws(TernClientError) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        var remaining = partitions
        var attempt = 0
        while !remaining.isEmpty {
            attempt += 1
            var byLeader: [Int32: [TopicPartition]] = [:]
            for partition in remaining {
                byLeader[try await self.leader(for: partition), default: []].append(partition)
            }
            var retry: [TopicPartition] = []
            var lastError: TernClientError?
            for (leader, partitions) in byLeader {
                let request = ListOffsetsRequest(
                    replicaId: -1,  // a consumer (the schema's default is 0, a broker id)
                    isolationLevel: isolation,
                    topics: Dictionary(grouping: partitions, by: \.topic).map { topic, partitions in
                        ListOffsetsRequest.ListOffsetsTopic(
                            name: topic,
                            partitions: partitions.map {
                                ListOffsetsRequest.ListOffsetsPartition(
                                    partitionIndex: $0.partition,
                                    timestamp: timestamp($0)
                                )
                            }
                        )
                    }
                )
                let connection = try await self.connection(toNode: leader)
                let response: ListOffsetsResponse
                do {
                    response = try await connection.send(request)
                } catch {
                    self.connectionFailed(connection)
                    guard error.isRetriable, attempt < 5 else { throw error }
                    retry += partitions
                    lastError = error
                    continue
                }
                for topic in response.topics {
                    for partition in topic.partitions {
                        let key = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                        if partition.errorCode == .none {
                            result[key] = partition.offset
                        } else if partition.errorCode.isRetriable && attempt < 5 {
                            self.invalidate(topic: topic.name)
                            retry.append(key)
                            lastError = .kafka(partition.errorCode, "ListOffsets for \(key)")
                        } else {
                            throw TernClientError.kafka(partition.errorCode, "ListOffsets for \(key)")
                        }
                    }
                }
            }
            if !retry.isEmpty, lastError != nil {
                try? await Task.sleep(for: .milliseconds(50 * attempt))
            }
            remaining = retry
        }
        return result
    }

    /// Resolves offset specs that do not need a group (earliest, latest, offset, timestamp, tail).
    func resolve(
        _ specs: [TopicPartition: OffsetSpec],
        isolation: IsolationLevel = .readUncommitted
    ) async throws(TernClientError) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        var byTimestamp: [TopicPartition: Int64] = [:]
        var tails: [TopicPartition: Int64] = [:]
        for (partition, spec) in specs {
            switch spec {
            case .offset(let offset) where offset >= 0: result[partition] = offset
            case .offset, .latest, .stored: byTimestamp[partition] = -1
            case .earliest: byTimestamp[partition] = -2
            case .timestamp(let time): byTimestamp[partition] = time
            case .tail(let count): tails[partition] = count
            }
        }
        if !byTimestamp.isEmpty {
            let timestamps = byTimestamp
            let offsets = try await self.listOffsets(Array(timestamps.keys), isolation: isolation) {
                timestamps[$0]!
            }
            for (partition, offset) in offsets {
                // A timestamp after the last record: no offset (-1), start at the end.
                result[partition] = offset
            }
            let unresolved = offsets.filter { $0.value < 0 }.map(\.key)
            if !unresolved.isEmpty {
                for (partition, offset) in try await self.listOffsets(
                    unresolved,
                    isolation: isolation,
                    timestamp: { _ in -1 }
                ) {
                    result[partition] = offset
                }
            }
        }
        if !tails.isEmpty {
            let partitions = Array(tails.keys)
            let ends = try await self.listOffsets(partitions, isolation: isolation) { _ in -1 }
            let starts = try await self.listOffsets(partitions) { _ in -2 }
            for (partition, count) in tails {
                result[partition] = max(starts[partition] ?? 0, (ends[partition] ?? 0) - count)
            }
        }
        return result
    }

    /// The committed offsets of a group (nil partitions: every partition it has a commit for).
    /// Partitions without a commit are left out.
    func fetchCommittedOffsets(
        group: String,
        partitions: [TopicPartition]?
    ) async throws(TernClientError) -> [TopicPartition: Int64] {
        let request = OffsetFetchRequest(
            groupId: group,
            topics: partitions.map { partitions in
                Dictionary(grouping: partitions, by: \.topic).map { topic, partitions in
                    OffsetFetchRequest.OffsetFetchRequestTopic(
                        name: topic,
                        partitionIndexes: partitions.map(\.partition).sorted()
                    )
                }.sorted { $0.name < $1.name }
            }
        )
        let response = try await self.sendToCoordinator(.group(group), request) { $0.errorCode }
        var result: [TopicPartition: Int64] = [:]
        for topic in response.topics {
            for partition in topic.partitions {
                let key = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                if partition.errorCode != .none && partition.errorCode != .unknownTopicOrPartition {
                    throw TernClientError.kafka(partition.errorCode, "OffsetFetch for \(key) in group \"\(group)\"")
                }
                if partition.committedOffset >= 0 { result[key] = partition.committedOffset }
            }
        }
        return result
    }

    /// For responses that report coordinator moves per partition: the first code that makes
    /// `sendToCoordinator` rediscover the coordinator or wait for it to load, else `.none`.
    static func coordinatorMove(in codes: some Sequence<KafkaErrorCode>) -> KafkaErrorCode {
        codes.first { $0 == .notCoordinator || $0 == .coordinatorNotAvailable || $0 == .coordinatorLoadInProgress }
            ?? .none
    }

    /// Sends a request to a group's or transactional id's coordinator, rediscovering it when it
    /// moved and retrying while it loads or (transactions) finishes the previous transaction.
    /// `errorCode` extracts the response's top-level error.
    func sendToCoordinator<Request: KafkaRequestMessage>(
        _ key: CoordinatorKey,
        _ request: Request,
        errorCode: (Request.Response) -> KafkaErrorCode
    ) async throws(TernClientError) -> Request.Response {
        let deadline = ContinuousClock.now + self.configuration.requestTimeout
        var backoff = Duration.milliseconds(20)
        while true {
            let connection = try await self.coordinator(for: key)
            do throws(TernClientError) {
                let response = try await connection.send(request)
                let code = errorCode(response)
                switch code {
                case .none:
                    return response
                case .notCoordinator, .coordinatorNotAvailable:
                    self.invalidateCoordinator(key)
                case .coordinatorLoadInProgress, .concurrentTransactions:
                    break
                default:
                    throw TernClientError.kafka(code, "\(Request.apiKey) for \(key)")
                }
                guard ContinuousClock.now < deadline else {
                    throw TernClientError.kafka(code, "\(Request.apiKey) for \(key)")
                }
            } catch let error
                where error.kind == .connectionClosed || error.kind == .timeout || error.kind == .unreachable
            {
                self.connectionFailed(connection)
                self.invalidateCoordinator(key)
                guard ContinuousClock.now < deadline else { throw error }
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .milliseconds(500))
        }
    }
}
