import Logging
import NIOCore
import TernCoordinator
import TernRecords
import Testing

@testable import TernBroker
@testable import TernStorage

#if canImport(Glibc)
    import Glibc
#endif

/// The group coordinator's start-up replay of `__consumer_offsets` before and after compaction, on
/// the real file system: `TERN_BENCH_REPLAY_COMMITS` (default 1,000,000) offset commits over 1,000
/// keys (10 groups × 100 partitions), replayed, then cleaned, then replayed again. Off unless
/// `TERN_BENCH_REPLAY` is set (tools/bench-cleaner.sh runs it from a release build); prints one
/// `replay:` line.
@Suite struct OffsetsReplayBenchmarkTests {
    static var isEnabled: Bool { getenv("TERN_BENCH_REPLAY") != nil }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    @Test(.enabled(if: OffsetsReplayBenchmarkTests.isEnabled))
    func replayTakesTimeProportionalToTheLiveKeysOnceCompacted() async throws {
        let commits = Int(getenv("TERN_BENCH_REPLAY_COMMITS").map { String(cString: $0) } ?? "") ?? 1_000_000
        let base = getenv("TERN_BENCH_DIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/tern-bench-replay-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        defer { try? PosixFileSystem().removeRecursively(atPath: directory) }
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        var cleaner = LogCleanerConfig()
        cleaner.isEnabled = false
        // The segment.ms roll at the end goes by this clock.
        let clock = ManualClock()
        func openLogs() async throws -> LogManager {
            try await LogManager.open(
                dataDirectory: directory,
                defaultConfig: LogConfig(),
                clock: clock,
                logger: logger,
                cleaner: cleaner
            )
        }

        // 1,000 keys, each committed commits / 1,000 times, in batches of 1,000 records.
        var logs = try await openLogs()
        try logs.createTopic(
            GroupCoordinatorRuntime.offsetsTopic,
            partitionCount: 1,
            configOverrides: ["cleanup.policy": "compact", "segment.bytes": String(1 << 20), "segment.ms": "1000"]
        )
        var log = try #require(logs.partition(topic: GroupCoordinatorRuntime.offsetsTopic, index: 0))
        let keys = (0..<1000).map {
            OffsetCommitKey(group: "group-\($0 / 100)", topic: "orders", partition: Int32($0 % 100))
        }
        var written = 0
        while written < commits {
            var builder = RecordBatchBuilder()
            for index in written..<min(commits, written + 1000) {
                let record = CoordinatorRecord.offsetCommit(
                    keys[index % keys.count],
                    OffsetCommitValue(offset: Int64(index), metadata: "", commitTimestampMs: 1_700_000_000_000)
                )
                builder.append(key: record.encodeKey(), value: record.encodeValue(), timestampMs: 1_700_000_000_000)
            }
            _ = try await log.append(try builder.build(), durability: .none)
            written = min(commits, written + 1000)
        }
        // One more commit after segment.ms: it rolls, so all the others are cleanable.
        clock.set(nowMs: clock.nowMs + 10_000)
        var last = RecordBatchBuilder()
        let lastRecord = CoordinatorRecord.offsetCommit(
            keys[0],
            OffsetCommitValue(offset: Int64(commits), metadata: "", commitTimestampMs: 1_700_000_000_000)
        )
        last.append(key: lastRecord.encodeKey(), value: lastRecord.encodeValue(), timestampMs: 1_700_000_000_000)
        _ = try await log.append(try last.build(), durability: .none)
        try await log.flush()
        let bytesBefore = log.statistics.sizeBytes
        try await logs.close()

        func replay() async throws -> (seconds: Double, offsets: [TernCoordinator.TopicPartition: OffsetCommitValue]) {
            let logs = try await openLogs()
            let start = ContinuousClock.now
            let runtime = try GroupCoordinatorRuntime.start(
                logs: logs,
                configuration: GroupCoordinatorConfiguration(),
                logger: logger
            )
            let seconds = Self.seconds(since: start)
            var offsets: [TernCoordinator.TopicPartition: OffsetCommitValue] = [:]
            for group in 0..<10 {
                for (partition, value) in runtime.read({ $0.committedOffsets(ofGroup: "group-\(group)") }) {
                    offsets[TernCoordinator.TopicPartition("group-\(group)/" + partition.topic, partition.partition)] =
                        value
                }
            }
            try await logs.close()
            return (seconds, offsets)
        }
        let before = try await replay()
        #expect(before.offsets.count == keys.count)

        logs = try await openLogs()
        log = try #require(logs.partition(topic: GroupCoordinatorRuntime.offsetsTopic, index: 0))
        let cleanStart = ContinuousClock.now
        let pass = try log.clean(nowMs: 1_800_000_000_000, offsetMapBudgetBytes: 128 << 20)
        let cleanSeconds = Self.seconds(since: cleanStart)
        let bytesAfter = log.statistics.sizeBytes
        try await logs.close()
        let after = try await replay()
        #expect(after.offsets == before.offsets, "the cleaned log replays to other offsets")
        print(
            "replay: commits=\(commits) keys=\(keys.count) bytes_before=\(bytesBefore) bytes_after=\(bytesAfter)"
                + " seconds_before=\(before.seconds) seconds_after=\(after.seconds)"
                + " speedup=\(before.seconds / after.seconds) records_kept=\(pass.recordsKept)/\(pass.recordsRead)"
                + " clean_seconds=\(cleanSeconds)"
        )
    }
}
