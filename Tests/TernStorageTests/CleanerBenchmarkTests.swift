import NIOCore
import Synchronization
import TernRecords
import Testing

@testable import TernStorage

#if canImport(Glibc)
    import Glibc
#endif

/// The cleaner's throughput on the real file system, and append throughput with and without a
/// cleaning pass running on another partition. Off unless `TERN_BENCH_CLEANER` is set (run by
/// tools/bench-cleaner.sh, which measures the disk with dd first); prints one `cleaner:` line.
/// `TERN_BENCH_CLEANER_IO_MAX_MB` caps the pass as `log.cleaner.io.max.bytes.per.second` does.
@Suite struct CleanerBenchmarkTests {
    static var isEnabled: Bool { getenv("TERN_BENCH_CLEANER") != nil }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// `recordsPerBatch` records of `valueByteCount` bytes, keys `key-<n>` for n from `firstKey`.
    private static func batch(firstKey: Int, keyCount: Int, recordsPerBatch: Int, valueByteCount: Int) -> ByteBuffer {
        var builder = RecordBatchBuilder(initialCapacityBytes: recordsPerBatch * (valueByteCount + 40) + 128)
        let value = ByteBuffer(bytes: (0..<valueByteCount).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        for index in 0..<recordsPerBatch {
            builder.append(
                key: ByteBuffer(string: "key-\((firstKey + index) % keyCount)"),
                value: value,
                timestampMs: 1_700_000_000_000
            )
        }
        return try! builder.build()
    }

    @Test(.enabled(if: CleanerBenchmarkTests.isEnabled))
    func cleanerThroughputAndAppendsWhileCleaning() async throws {
        let megabytes = Int(getenv("TERN_BENCH_CLEANER_MB").map { String(cString: $0) } ?? "") ?? 256
        // `log.cleaner.io.max.bytes.per.second` for the pass, in MiB/s (default: no cap).
        let capMegabytesPerSecond = getenv("TERN_BENCH_CLEANER_IO_MAX_MB").flatMap { Double(String(cString: $0)) }
        let base = getenv("TERN_BENCH_DIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/tern-bench-cleaner-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        defer { try? PosixFileSystem().removeRecursively(atPath: directory) }
        var cleaner = LogCleanerConfig()
        cleaner.isEnabled = false
        let clock = ManualClock()
        let manager = try await LogManager.open(
            dataDirectory: directory,
            defaultConfig: LogConfig(),
            clock: clock,
            cleaner: cleaner
        )
        let overrides = ["cleanup.policy": "compact", "segment.bytes": String(64 << 20), "segment.ms": "1000"]
        try manager.createTopic("compacted", partitionCount: 1, configOverrides: overrides)
        try manager.createTopic("plain", partitionCount: 2, configOverrides: ["segment.bytes": String(64 << 20)])
        let log = manager.partition(topic: "compacted", index: 0)!

        // 1 KiB values, 100 per batch; 100,000 keys, so each key is written about 2.5 times.
        let keyCount = 100_000
        let recordsPerBatch = 100
        let batchBytes = Self.batch(
            firstKey: 0,
            keyCount: keyCount,
            recordsPerBatch: recordsPerBatch,
            valueByteCount: 1024
        )
        .readableBytes
        let batchCount = megabytes * (1 << 20) / batchBytes
        for index in 0..<batchCount {
            let batch = Self.batch(
                firstKey: index * recordsPerBatch,
                keyCount: keyCount,
                recordsPerBatch: recordsPerBatch,
                valueByteCount: 1024
            )
            _ = try await log.append(batch, durability: .none)
        }
        // Roll (segment.ms), so everything written is cleanable, and make it durable.
        clock.set(nowMs: clock.nowMs + 10_000)
        _ = try await log.append(
            Self.batch(firstKey: 0, keyCount: 1, recordsPerBatch: 1, valueByteCount: 1),
            durability: .none
        )
        try await log.flush()

        // Appends without cleaning: baseline.
        let appendBatch = Self.batch(
            firstKey: 0,
            keyCount: keyCount,
            recordsPerBatch: recordsPerBatch,
            valueByteCount: 1024
        )
        let plain = manager.partition(topic: "plain", index: 0)!
        let appendCount = 64 << 20 / appendBatch.readableBytes
        var start = ContinuousClock.now
        for _ in 0..<appendCount { _ = try await plain.append(appendBatch, durability: .none) }
        try await plain.flush()
        let baselineSeconds = Self.seconds(since: start)

        // The pass, on its own thread, while the same appends go to another partition.
        let cleaned = Mutex<(CleaningPassResult, Double)?>(nil)
        // A thread of its own, as the cleaner's.
        let cleanerThread = FlushThreadPool(threadCount: 1)
        cleanerThread.submit { [log] in
            let start = ContinuousClock.now
            let result = try? log.clean(
                nowMs: 1_800_000_000_000,
                offsetMapBudgetBytes: 128 << 20,
                throttle: capMegabytesPerSecond.map { CleanerThrottle(bytesPerSecond: $0 * Double(1 << 20)) }
            )
            cleaned.withLock { $0 = result.map { ($0, CleanerBenchmarkTests.seconds(since: start)) } }
        }
        defer { cleanerThread.shutdown() }
        let other = manager.partition(topic: "plain", index: 1)!
        start = ContinuousClock.now
        for _ in 0..<appendCount { _ = try await other.append(appendBatch, durability: .none) }
        try await other.flush()
        let whileCleaningSeconds = Self.seconds(since: start)
        let deadline = ContinuousClock.now + .seconds(600)
        while cleaned.withLock({ $0 == nil }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let (result, cleanSeconds) = try #require(cleaned.withLock { $0 })
        #expect(result.bytesRead > 0)
        #expect(result.recordsKept <= Int64(keyCount) + 1)
        let mib = Double(1 << 20)
        print(
            "cleaner: read_mb=\(Double(result.bytesRead) / mib) written_mb=\(Double(result.bytesWritten) / mib)"
                + " seconds=\(cleanSeconds) read_mb_per_sec=\(Double(result.bytesRead) / mib / cleanSeconds)"
                + " write_mb_per_sec=\(Double(result.bytesWritten) / mib / cleanSeconds)"
                + " records_kept=\(result.recordsKept)/\(result.recordsRead)"
                + " append_mb_per_sec=\(Double(appendCount * appendBatch.readableBytes) / mib / baselineSeconds)"
                + " append_while_cleaning_mb_per_sec=\(Double(appendCount * appendBatch.readableBytes) / mib / whileCleaningSeconds)"
                + " append_ratio=\(baselineSeconds / whileCleaningSeconds)"
                + " append_overlapped_clean=\(whileCleaningSeconds < cleanSeconds)"
                + " io_max_mb_per_sec=\(capMegabytesPerSecond.map { "\($0)" } ?? "none")"
        )
        try await manager.close()
    }
}
