import TernStorage
import Testing

/// Kafka's `LeaderEpochFileCache` semantics, as tables: (entries before, operation, entries after,
/// whether it reported a change). Entries are written `epoch@startOffset`.
@Suite struct LeaderEpochCacheTests {
    static func cache(_ entries: [(Int32, Int64)]) -> LeaderEpochCache {
        LeaderEpochCache(entries: entries.map { .init(epoch: $0.0, startOffset: $0.1) })
    }

    static func pairs(_ cache: LeaderEpochCache) -> [String] { cache.entries.map(\.description) }

    struct Case: Sendable, CustomTestStringConvertible {
        var before: [(Int32, Int64)]
        var epoch: Int32 = 0
        var offset: Int64
        var after: [(Int32, Int64)]
        var changed: Bool
        var testDescription: String { "\(self.before) epoch \(self.epoch) offset \(self.offset)" }
    }

    static let assignCases: [Case] = [
        Case(before: [], epoch: 0, offset: 0, after: [(0, 0)], changed: true),
        // The same epoch again at a later offset: nothing to record.
        Case(before: [(0, 0)], epoch: 0, offset: 5, after: [(0, 0)], changed: false),
        // The same epoch at an earlier offset moves its start back.
        Case(before: [(0, 5)], epoch: 0, offset: 3, after: [(0, 3)], changed: true),
        Case(before: [(0, 0)], epoch: 2, offset: 10, after: [(0, 0), (2, 10)], changed: true),
        // Entries with an epoch ≥ the new one, or a start ≥ its start, break monotonicity and go.
        Case(before: [(0, 0), (2, 10)], epoch: 1, offset: 12, after: [(0, 0), (1, 12)], changed: true),
        Case(before: [(0, 0), (2, 10)], epoch: 3, offset: 5, after: [(0, 0), (3, 5)], changed: true),
        Case(before: [(0, 0), (2, 10)], epoch: 3, offset: 0, after: [(3, 0)], changed: true),
    ]

    @Test(arguments: Self.assignCases)
    func assign(_ row: Case) {
        var cache = Self.cache(row.before)
        #expect(cache.assign(epoch: row.epoch, startOffset: row.offset) == row.changed)
        #expect(Self.pairs(cache) == Self.pairs(Self.cache(row.after)))
    }

    static let three: [(Int32, Int64)] = [(0, 0), (2, 10), (4, 20)]

    static let truncateFromEndCases: [Case] = [
        Case(before: three, offset: 20, after: [(0, 0), (2, 10)], changed: true),
        Case(before: three, offset: 15, after: [(0, 0), (2, 10)], changed: true),
        Case(before: three, offset: 10, after: [(0, 0)], changed: true),
        Case(before: three, offset: 25, after: three, changed: false),
        Case(before: three, offset: 0, after: [], changed: true),
        // Kafka ignores a negative end offset.
        Case(before: three, offset: -1, after: three, changed: false),
        Case(before: [], offset: 5, after: [], changed: false),
    ]

    @Test(arguments: Self.truncateFromEndCases)
    func truncateFromEnd(_ row: Case) {
        var cache = Self.cache(row.before)
        #expect(cache.truncateFromEnd(row.offset) == row.changed)
        #expect(Self.pairs(cache) == Self.pairs(Self.cache(row.after)))
    }

    static let truncateFromStartCases: [Case] = [
        Case(before: three, offset: 0, after: three, changed: false),
        // The epoch holding the new log start now starts there.
        Case(before: three, offset: 5, after: [(0, 5), (2, 10), (4, 20)], changed: true),
        Case(before: three, offset: 10, after: [(2, 10), (4, 20)], changed: true),
        Case(before: three, offset: 25, after: [(4, 25)], changed: true),
        Case(before: [(2, 10)], offset: 3, after: [(2, 10)], changed: false),
        Case(before: [], offset: 5, after: [], changed: false),
    ]

    @Test(arguments: Self.truncateFromStartCases)
    func truncateFromStart(_ row: Case) {
        var cache = Self.cache(row.before)
        #expect(cache.truncateFromStart(row.offset) == row.changed)
        #expect(Self.pairs(cache) == Self.pairs(Self.cache(row.after)))
    }

    /// (requested epoch, expected epoch, expected end offset) over 1@10, 3@20, 6@30 with log end 40.
    static let endOffsetCases: [(Int32, Int32, Int64)] = [
        (-1, -1, -1),  // UNDEFINED_EPOCH asks nothing
        (6, 6, 40),  // the current epoch ends at the log end
        (7, -1, -1),  // newer than any epoch: unknown
        (0, 0, 10),  // older than every entry: where the log's first epoch starts
        (1, 1, 20),
        (2, 1, 20),  // between epochs: the epoch before it, ending where the next one starts
        (3, 3, 30),
        (5, 3, 30),
    ]

    @Test(arguments: Self.endOffsetCases)
    func endOffset(_ row: (Int32, Int32, Int64)) {
        let cache = Self.cache([(1, 10), (3, 20), (6, 30)])
        let found = cache.endOffset(forEpoch: row.0, logEndOffset: 40)
        #expect(found.epoch == row.1 && found.endOffset == row.2)
    }

    @Test func endOffsetOfAnEmptyCacheIsUndefined() {
        let found = LeaderEpochCache().endOffset(forEpoch: 0, logEndOffset: 7)
        #expect(found.epoch == -1 && found.endOffset == -1)
    }

    @Test(arguments: [(Int64(5), Int32?.none), (10, 1), (19, 1), (20, 3), (100, 6)])
    func epochForOffset(_ row: (Int64, Int32?)) {
        #expect(Self.cache([(1, 10), (3, 20), (6, 30)]).epoch(forOffset: row.0) == row.1)
    }
}
