import TernWire

/// Incremental fetch sessions (KIP-227, Fetch v7+): a consumer names its partitions once, then
/// each fetch lists only the partitions whose fetch position or limits changed, and the answer
/// only the partitions with something new (records, offsets, an error). Pure bookkeeping: the
/// broker asks it which partitions a request covers, reads them, and gives back what it sent.
///
/// Invariants: at most `capacity` sessions; a session's `nextEpoch` is the epoch its next
/// incremental request must carry (1, 2, …, wrapping to 1); session ids are never 0 and never
/// reused while the session exists.
struct FetchSessionCache: Sendable {
    struct PartitionKey: Hashable, Sendable {
        var topic: String
        var partition: Int32
    }

    /// What the session remembers of one partition: the client's last request, and what the
    /// broker last answered (to tell whether the next answer must include it).
    struct CachedPartition: Hashable, Sendable {
        var topicId: KafkaUUID
        var fetchOffset: Int64
        var partitionMaxBytes: Int32
        var currentLeaderEpoch: Int32
        var sentHighWatermark: Int64? = nil
        var sentLastStableOffset: Int64? = nil
        var sentLogStartOffset: Int64? = nil
    }

    struct Session: Sendable {
        var id: Int32
        var nextEpoch: Int32
        /// In the order the client first named them: the order answers keep.
        var order: [PartitionKey]
        var partitions: [PartitionKey: CachedPartition]
        var lastUsedMs: Int64
    }

    /// How a request is to be served.
    enum Plan: Equatable, Sendable {
        /// A full fetch outside any session (session id 0 in the answer).
        case sessionless
        /// A full fetch that answers every partition; `sessionId` is 0 when no session could be
        /// made room for.
        case full(sessionId: Int32)
        /// An incremental fetch of an existing session: read these partitions, answer only the
        /// changed ones.
        case incremental(sessionId: Int32, partitions: [PartitionKey])
        /// The request is refused with this top-level error and no partitions.
        case error(KafkaErrorCode)
    }

    let capacity: Int
    /// An idle session older than this may be evicted to make room for a new one.
    let evictionAgeMs: Int64
    private(set) var sessions: [Int32: Session] = [:]
    private var lastId: Int32 = 0

    init(capacity: Int, evictionAgeMs: Int64) {
        self.capacity = capacity
        self.evictionAgeMs = evictionAgeMs
    }

    /// Applies a request to the cache and says how to serve it. `partitions` and `forgotten` are
    /// the request's, with topic names resolved.
    mutating func plan(
        sessionId: Int32,
        epoch: Int32,
        partitions: [(key: PartitionKey, state: CachedPartition)],
        forgotten: [PartitionKey],
        nowMs: Int64
    ) -> Plan {
        switch (sessionId, epoch) {
        case (0, -1):
            return .sessionless
        case (_, -1):
            // Closes the session; this fetch is a full one outside any session.
            self.sessions[sessionId] = nil
            return .sessionless
        case (_, 0):
            if sessionId != 0 { self.sessions[sessionId] = nil }
            guard self.makeRoom(nowMs: nowMs) else { return .full(sessionId: 0) }
            let id = self.nextId()
            var session = Session(id: id, nextEpoch: 1, order: [], partitions: [:], lastUsedMs: nowMs)
            for (key, state) in partitions where session.partitions[key] == nil {
                session.order.append(key)
                session.partitions[key] = state
            }
            self.sessions[id] = session
            return .full(sessionId: id)
        case (0, _):
            return .error(.invalidFetchSessionEpoch)
        default:
            guard var session = self.sessions[sessionId] else { return .error(.fetchSessionIdNotFound) }
            guard epoch == session.nextEpoch else { return .error(.invalidFetchSessionEpoch) }
            for key in forgotten where session.partitions.removeValue(forKey: key) != nil {
                session.order.removeAll { $0 == key }
            }
            for (key, state) in partitions {
                if var cached = session.partitions[key] {
                    cached.topicId = state.topicId
                    cached.fetchOffset = state.fetchOffset
                    cached.partitionMaxBytes = state.partitionMaxBytes
                    cached.currentLeaderEpoch = state.currentLeaderEpoch
                    session.partitions[key] = cached
                } else {
                    session.order.append(key)
                    session.partitions[key] = state
                }
            }
            session.nextEpoch = epoch == Int32.max ? 1 : epoch + 1
            session.lastUsedMs = nowMs
            self.sessions[sessionId] = session
            return .incremental(sessionId: sessionId, partitions: session.order)
        }
    }

    func cached(_ sessionId: Int32, _ key: PartitionKey) -> CachedPartition? {
        self.sessions[sessionId]?.partitions[key]
    }

    /// Records what was answered for a partition and says whether an incremental answer must
    /// include it: new records, an error, or offsets the client has not seen yet.
    mutating func recordAnswer(
        sessionId: Int32,
        key: PartitionKey,
        hasRecords: Bool,
        errorCode: KafkaErrorCode,
        highWatermark: Int64,
        lastStableOffset: Int64,
        logStartOffset: Int64
    ) -> Bool {
        guard var cached = self.sessions[sessionId]?.partitions[key] else { return true }
        let changed =
            hasRecords || errorCode != .none || cached.sentHighWatermark != highWatermark
            || cached.sentLastStableOffset != lastStableOffset || cached.sentLogStartOffset != logStartOffset
        cached.sentHighWatermark = highWatermark
        cached.sentLastStableOffset = lastStableOffset
        cached.sentLogStartOffset = logStartOffset
        self.sessions[sessionId]?.partitions[key] = cached
        return changed
    }

    /// Drops the sessions of a topic that was deleted: their partitions are gone.
    mutating func forgetTopic(_ topic: String) {
        for (id, var session) in self.sessions {
            session.order.removeAll { $0.topic == topic }
            session.partitions = session.partitions.filter { $0.key.topic != topic }
            self.sessions[id] = session
        }
    }

    private mutating func makeRoom(nowMs: Int64) -> Bool {
        guard self.capacity > 0 else { return false }
        if self.sessions.count < self.capacity { return true }
        guard let oldest = self.sessions.values.min(by: { $0.lastUsedMs < $1.lastUsedMs }),
            nowMs - oldest.lastUsedMs >= self.evictionAgeMs
        else { return false }
        self.sessions[oldest.id] = nil
        return true
    }

    private mutating func nextId() -> Int32 {
        repeat {
            self.lastId = self.lastId == Int32.max ? 1 : self.lastId + 1
        } while self.sessions[self.lastId] != nil
        return self.lastId
    }
}
