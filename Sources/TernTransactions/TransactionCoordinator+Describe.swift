import TernWire

/// One transaction as DescribeTransactions v0 shows it.
public struct DescribedTransaction: Hashable, Sendable {
    public var transactionalId: String
    public var errorCode: KafkaErrorCode
    /// Kafka's state name (`TransactionState.name`), "" on error.
    public var state: String
    public var timeoutMs: Int32
    /// -1 when no transaction has started.
    public var startTimeMs: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    /// Topics sorted, each with its partitions sorted.
    public var topics: [(topic: String, partitions: [Int32])]

    public init(
        transactionalId: String,
        errorCode: KafkaErrorCode,
        state: String = "",
        timeoutMs: Int32 = 0,
        startTimeMs: Int64 = -1,
        producerId: Int64 = -1,
        producerEpoch: Int16 = -1,
        topics: [(topic: String, partitions: [Int32])] = []
    ) {
        self.transactionalId = transactionalId
        self.errorCode = errorCode
        self.state = state
        self.timeoutMs = timeoutMs
        self.startTimeMs = startTimeMs
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.topics = topics
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.transactionalId == rhs.transactionalId && lhs.errorCode == rhs.errorCode && lhs.state == rhs.state
            && lhs.timeoutMs == rhs.timeoutMs && lhs.startTimeMs == rhs.startTimeMs
            && lhs.producerId == rhs.producerId && lhs.producerEpoch == rhs.producerEpoch
            && lhs.topics.map(\.topic) == rhs.topics.map(\.topic)
            && lhs.topics.map(\.partitions) == rhs.topics.map(\.partitions)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.transactionalId)
        hasher.combine(self.errorCode)
        hasher.combine(self.state)
        hasher.combine(self.producerId)
    }
}

/// One transaction in a ListTransactions answer.
public struct ListedTransaction: Hashable, Sendable {
    public var transactionalId: String
    public var producerId: Int64
    /// Kafka's state name.
    public var state: String

    public init(transactionalId: String, producerId: Int64, state: String) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.state = state
    }
}

/// A ListTransactions answer.
public struct ListedTransactions: Hashable, Sendable {
    /// State filters that name no state, echoed back as Kafka does.
    public var unknownStateFilters: [String]
    /// Sorted by transactional id.
    public var transactions: [ListedTransaction]

    public init(unknownStateFilters: [String], transactions: [ListedTransaction]) {
        self.unknownStateFilters = unknownStateFilters
        self.transactions = transactions
    }
}

extension TransactionCoordinator {
    /// DescribeTransactions (Kafka's `handleDescribeTransactions`): an empty id is
    /// INVALID_REQUEST, an unknown (or expiring) one TRANSACTIONAL_ID_NOT_FOUND.
    public func describe(transactionalIds: [String]) -> [DescribedTransaction] {
        transactionalIds.map { transactionalId in
            guard !transactionalId.isEmpty else {
                return DescribedTransaction(transactionalId: transactionalId, errorCode: .invalidRequest)
            }
            guard let metadata = self.transactions[transactionalId], metadata.state != .dead else {
                return DescribedTransaction(transactionalId: transactionalId, errorCode: .transactionalIdNotFound)
            }
            var byTopic: [String: [Int32]] = [:]
            for partition in metadata.partitions { byTopic[partition.topic, default: []].append(partition.partition) }
            return DescribedTransaction(
                transactionalId: transactionalId,
                errorCode: .none,
                state: metadata.state.name,
                timeoutMs: metadata.timeoutMs,
                startTimeMs: metadata.txnStartTimestampMs,
                producerId: metadata.producerId,
                producerEpoch: metadata.producerEpoch,
                topics: byTopic.keys.sorted().map { (topic: $0, partitions: byTopic[$0]!.sorted()) }
            )
        }
    }

    /// ListTransactions (Kafka's `listTransactionStates`): every transaction matching all given
    /// filters — state names (exact, as Kafka; unknown names are reported and match nothing),
    /// producer ids, and from v1 `durationFilterMs` ≥ 0: only transactions started more than that
    /// long before `nowMs`. Empty filters match everything.
    public func list(
        stateFilters: [String] = [],
        producerIdFilters: [Int64] = [],
        durationFilterMs: Int64 = -1,
        nowMs: Int64
    ) -> ListedTransactions {
        var states: Set<TransactionState> = []
        var unknown: [String] = []
        for name in stateFilters {
            if let state = TransactionState(name: name) { states.insert(state) } else { unknown.append(name) }
        }
        let producerIds = Set(producerIdFilters)
        let listed = self.transactions.keys.sorted().compactMap { transactionalId -> ListedTransaction? in
            let metadata = self.transactions[transactionalId]!
            guard metadata.state != .dead else { return nil }
            guard producerIds.isEmpty || producerIds.contains(metadata.producerId) else { return nil }
            guard stateFilters.isEmpty || states.contains(metadata.state) else { return nil }
            // now - start > duration, written so that a stored start cannot overflow.
            guard durationFilterMs < 0 || metadata.txnStartTimestampMs < nowMs - durationFilterMs else { return nil }
            return ListedTransaction(
                transactionalId: transactionalId,
                producerId: metadata.producerId,
                state: metadata.state.name
            )
        }
        return ListedTransactions(unknownStateFilters: unknown, transactions: listed)
    }
}
