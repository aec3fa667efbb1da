import NIOCore
import TernWire
import Testing

@testable import TernBroker

/// KIP-227 fetch sessions as request → plan lines, and what an incremental answer keeps.
@Suite struct FetchSessionCacheTests {
    typealias Key = FetchSessionCache.PartitionKey

    private func partition(_ topic: String, _ index: Int32, offset: Int64 = 0)
        -> (key: Key, state: FetchSessionCache.CachedPartition)
    {
        (
            Key(topic: topic, partition: index),
            .init(topicId: .zero, fetchOffset: offset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1)
        )
    }

    @Test func epochsDriveTheSessionLifecycle() {
        var cache = FetchSessionCache(capacity: 10, evictionAgeMs: 1000)
        let a0 = self.partition("a", 0)
        let a1 = self.partition("a", 1)
        // (session id, epoch) → plan, in the order a client sends them.
        #expect(cache.plan(sessionId: 0, epoch: -1, partitions: [a0], forgotten: [], nowMs: 0) == .sessionless)
        let created = cache.plan(sessionId: 0, epoch: 0, partitions: [a0, a1], forgotten: [], nowMs: 0)
        guard case .full(let id) = created, id != 0 else {
            Issue.record("expected a new session, got \(created)")
            return
        }
        #expect(
            cache.plan(sessionId: id, epoch: 1, partitions: [], forgotten: [], nowMs: 1)
                == .incremental(sessionId: id, partitions: [a0.key, a1.key])
        )
        // A replayed or skipped epoch is refused; the session stays.
        #expect(
            cache.plan(sessionId: id, epoch: 1, partitions: [], forgotten: [], nowMs: 2)
                == .error(.invalidFetchSessionEpoch)
        )
        #expect(
            cache.plan(sessionId: id, epoch: 5, partitions: [], forgotten: [], nowMs: 2)
                == .error(.invalidFetchSessionEpoch)
        )
        // Forgotten partitions leave; new ones join at the end.
        let b0 = self.partition("b", 0)
        #expect(
            cache.plan(sessionId: id, epoch: 2, partitions: [b0], forgotten: [a0.key], nowMs: 3)
                == .incremental(sessionId: id, partitions: [a1.key, b0.key])
        )
        #expect(
            cache.plan(sessionId: 999, epoch: 1, partitions: [], forgotten: [], nowMs: 3)
                == .error(.fetchSessionIdNotFound)
        )
        #expect(
            cache.plan(sessionId: 0, epoch: 3, partitions: [], forgotten: [], nowMs: 3)
                == .error(.invalidFetchSessionEpoch)
        )
        // Epoch -1 closes the session: the fetch is sessionless and the id is gone.
        #expect(cache.plan(sessionId: id, epoch: -1, partitions: [a1], forgotten: [], nowMs: 4) == .sessionless)
        #expect(
            cache.plan(sessionId: id, epoch: 3, partitions: [], forgotten: [], nowMs: 4)
                == .error(.fetchSessionIdNotFound)
        )
    }

    @Test func incrementalUpdatesReplaceTheCachedPosition() {
        var cache = FetchSessionCache(capacity: 10, evictionAgeMs: 1000)
        guard
            case .full(let id) = cache.plan(
                sessionId: 0,
                epoch: 0,
                partitions: [self.partition("a", 0)],
                forgotten: [],
                nowMs: 0
            )
        else {
            Issue.record("no session")
            return
        }
        _ = cache.plan(
            sessionId: id,
            epoch: 1,
            partitions: [self.partition("a", 0, offset: 42)],
            forgotten: [],
            nowMs: 1
        )
        #expect(cache.cached(id, Key(topic: "a", partition: 0))?.fetchOffset == 42)
    }

    /// An incremental answer includes a partition only when it has records, an error, or offsets
    /// the client has not been told yet.
    @Test func answersIncludeOnlyChangedPartitions() {
        var cache = FetchSessionCache(capacity: 10, evictionAgeMs: 1000)
        let key = Key(topic: "a", partition: 0)
        guard
            case .full(let id) = cache.plan(
                sessionId: 0,
                epoch: 0,
                partitions: [self.partition("a", 0)],
                forgotten: [],
                nowMs: 0
            )
        else {
            Issue.record("no session")
            return
        }
        func answer(records: Bool = false, error: KafkaErrorCode = .none, hw: Int64 = 5) -> Bool {
            cache.recordAnswer(
                sessionId: id,
                key: key,
                hasRecords: records,
                errorCode: error,
                highWatermark: hw,
                lastStableOffset: hw,
                logStartOffset: 0
            )
        }
        #expect(answer() == true)  // first answer: offsets not yet sent
        #expect(answer() == false)  // nothing new
        #expect(answer(records: true) == true)
        #expect(answer(hw: 6) == true)
        #expect(answer(hw: 6) == false)
        #expect(answer(error: .offsetOutOfRange, hw: 6) == true)
    }

    /// The cache is bounded: when full, only a session idle past the eviction age makes room;
    /// otherwise the new fetch is served without a session.
    @Test func capacityIsBoundedWithIdleEviction() {
        var cache = FetchSessionCache(capacity: 2, evictionAgeMs: 1000)
        let p = self.partition("a", 0)
        guard case .full(let first) = cache.plan(sessionId: 0, epoch: 0, partitions: [p], forgotten: [], nowMs: 0),
            case .full(let second) = cache.plan(sessionId: 0, epoch: 0, partitions: [p], forgotten: [], nowMs: 10)
        else {
            Issue.record("no sessions")
            return
        }
        #expect(first != second)
        #expect(cache.plan(sessionId: 0, epoch: 0, partitions: [p], forgotten: [], nowMs: 500) == .full(sessionId: 0))
        guard case .full(let third) = cache.plan(sessionId: 0, epoch: 0, partitions: [p], forgotten: [], nowMs: 1_005)
        else {
            Issue.record("no room made")
            return
        }
        #expect(third != 0)
        #expect(cache.sessions.count == 2)
        #expect(cache.sessions[first] == nil, "the idlest session is the one evicted")
    }

    @Test func deletedTopicsLeaveTheirSessions() {
        var cache = FetchSessionCache(capacity: 2, evictionAgeMs: 1000)
        guard
            case .full(let id) = cache.plan(
                sessionId: 0,
                epoch: 0,
                partitions: [self.partition("a", 0), self.partition("b", 0)],
                forgotten: [],
                nowMs: 0
            )
        else {
            Issue.record("no session")
            return
        }
        cache.forgetTopic("a")
        #expect(
            cache.plan(sessionId: id, epoch: 1, partitions: [], forgotten: [], nowMs: 1)
                == .incremental(sessionId: id, partitions: [Key(topic: "b", partition: 0)])
        )
    }
}
