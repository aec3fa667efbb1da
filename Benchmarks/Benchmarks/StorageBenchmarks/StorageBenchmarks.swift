// Storage engine benchmarks (issue 3). Run with tools/bench-storage.sh, which also runs fio's
// sequential write on the same disk so the append figure can be read as a ratio.
//
// Each benchmark works in a fresh directory under $TERN_BENCH_DIR (default /tmp) on the real file
// system. Throughput metrics count bytes (or records) per benchmark iteration.
import Benchmark
import Foundation
import NIOCore
import TernRecords
import TernStorage

private let benchDirectory = ProcessInfo.processInfo.environment["TERN_BENCH_DIR"] ?? "/tmp"

private func freshDirectory(_ name: String) -> String {
    let path = "\(benchDirectory)/tern-bench-\(name)-\(UUID().uuidString)"
    try? FileManager.default.removeItem(atPath: path)
    return path
}

private func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// One batch with `recordCount` records of `valueByteCount` random-ish bytes each.
private func makeBatch(recordCount: Int, valueByteCount: Int) -> ByteBuffer {
    var builder = RecordBatchBuilder(initialCapacityBytes: recordCount * (valueByteCount + 32) + 128)
    let value = ByteBuffer(bytes: (0..<valueByteCount).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
    for index in 0..<recordCount {
        builder.append(key: nil, value: value, timestampMs: 1_700_000_000_000 + Int64(index))
    }
    return try! builder.build()
}

private func openLog(_ directory: String, _ overrides: [String: String] = [:]) async throws -> (
    LogManager, PartitionLog
) {
    let manager = try await LogManager.open(dataDirectory: directory, defaultConfig: LogConfig())
    if manager.topic("bench") == nil { try manager.createTopic("bench", partitionCount: 1, configOverrides: overrides) }
    return (manager, manager.partition(topic: "bench", index: 0)!)
}

/// Appends `perWriter` batches from each of `writerCount` concurrent tasks.
private func appendConcurrently(
    _ log: PartitionLog,
    batch: ByteBuffer,
    writerCount: Int,
    perWriter: Int,
    durability: Durability
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<writerCount {
            group.addTask {
                for _ in 0..<perWriter { _ = try await log.append(batch, durability: durability) }
            }
        }
        try await group.waitForAll()
    }
}

let benchmarks: @Sendable () -> Void = {
    let mebibyte = 1 << 20
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .throughput],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(10),
        maxIterations: 5
    )

    // 256 MiB of 1 MiB batches, then one fsync: compare with fio's sequential write + end_fsync.
    Benchmark("Sequential append, 1 MiB batches, 256 MiB + final fsync (MB/s = 256 / wall s)", configuration: config) {
        benchmark in
        let directory = freshDirectory("seq")
        defer { removeDirectory(directory) }
        let (manager, log) = try await openLog(directory)
        let batch = makeBatch(recordCount: 1, valueByteCount: mebibyte - 100)
        benchmark.startMeasurement()
        for _ in 0..<256 { _ = try await log.append(batch, durability: .none) }
        try await log.flush()
        benchmark.stopMeasurement()
        try await manager.close()
    }

    // 1 KiB records, one per batch, 16 concurrent producers; 20,000 appends per iteration.
    for durability in [Durability.none, .fsync] {
        let name = durability == .none ? "none" : "fsync (group commit)"
        Benchmark("Append 1 KiB records, 16 writers, 20k appends, durability \(name)", configuration: config) {
            benchmark in
            let directory = freshDirectory("small")
            defer { removeDirectory(directory) }
            let (manager, log) = try await openLog(directory)
            let batch = makeBatch(recordCount: 1, valueByteCount: 1024)
            benchmark.startMeasurement()
            try await appendConcurrently(log, batch: batch, writerCount: 16, perWriter: 1250, durability: durability)
            benchmark.stopMeasurement()
            try await manager.close()
        }
    }

    // Reads a 256 MiB segment in 1 MiB fetches; "cold" evicts it from the page cache first.
    for cold in [true, false] {
        Benchmark(
            "Read 256 MiB segment, 1 MiB fetches, \(cold ? "cold" : "warm") (MB/s = 256 / wall s)",
            configuration: config
        ) { benchmark in
            let directory = freshDirectory("read")
            defer { removeDirectory(directory) }
            let (manager, log) = try await openLog(directory)
            let batch = makeBatch(recordCount: 1, valueByteCount: mebibyte - 100)
            for _ in 0..<256 { _ = try await log.append(batch, durability: .none) }
            try await log.flush()
            let segmentPath = "\(directory)/bench-0/00000000000000000000.log"
            if cold {
                let descriptor = open(segmentPath, O_RDONLY)
                _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
                close(descriptor)
            } else {
                _ = try log.read(from: 0, maxBytes: 300 * mebibyte)
            }
            benchmark.startMeasurement()
            var offset: Int64 = 0
            while offset < log.logEndOffset {
                let read = try log.read(from: offset, maxBytes: mebibyte)
                blackHole(read.records.readableBytes)
                offset += 1
            }
            benchmark.stopMeasurement()
            try await manager.close()
        }
    }

    // 100,000 small batches (index entries every 4 KiB), then random offset lookups that read one
    // batch: index binary search + short header scan + a 1-batch pread (warm cache).
    Benchmark(
        "Offset lookup + first batch read, 100k-batch segment",
        configuration: .init(metrics: [.wallClock, .cpuTotal], timeUnits: .nanoseconds, maxDuration: .seconds(5))
    ) { benchmark in
        let directory = freshDirectory("lookup")
        defer { removeDirectory(directory) }
        let (manager, log) = try await openLog(directory)
        let batch = makeBatch(recordCount: 1, valueByteCount: 100)
        for _ in 0..<100_000 { _ = try await log.append(batch, durability: .none) }
        var random = SystemRandomNumberGenerator()
        let offsets = (0..<benchmark.scaledIterations.count).map { _ in Int64.random(in: 0..<100_000, using: &random) }
        benchmark.startMeasurement()
        for offset in offsets {
            blackHole(try log.read(from: offset, maxBytes: 1).records.readableBytes)
        }
        benchmark.stopMeasurement()
        try await manager.close()
    }

    // 1,000 partitions (one batch each) closed cleanly, then reopened: open time.
    Benchmark("Reopen after clean shutdown, 1000 partitions", configuration: config) { benchmark in
        let directory = freshDirectory("reopen")
        defer { removeDirectory(directory) }
        let manager = try await LogManager.open(dataDirectory: directory, defaultConfig: LogConfig())
        try manager.createTopic("many", partitionCount: 1000)
        let batch = makeBatch(recordCount: 10, valueByteCount: 100)
        for index in 0..<Int32(1000) {
            _ = try await manager.partition(topic: "many", index: index)!.append(batch, durability: .none)
        }
        try await manager.close()
        benchmark.startMeasurement()
        let reopened = try await LogManager.open(dataDirectory: directory, defaultConfig: LogConfig())
        benchmark.stopMeasurement()
        try await reopened.close()
    }

    // 256 MiB in 64 KiB batches, then an unclean reopen (marker and checkpoints removed) that
    // rescans everything: wall time × 4 = seconds per GiB.
    Benchmark("Recovery scan of 256 MiB (64 KiB batches)", configuration: config) { benchmark in
        let directory = freshDirectory("recover")
        defer { removeDirectory(directory) }
        let (manager, log) = try await openLog(directory)
        let batch = makeBatch(recordCount: 64, valueByteCount: 1000)
        while log.sizeBytes < 256 * Int64(mebibyte) { _ = try await log.append(batch, durability: .none) }
        try await manager.close()
        for name in [".tern_cleanshutdown", "recovery-point-offset-checkpoint"] {
            try FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        }
        benchmark.startMeasurement()
        let reopened = try await LogManager.open(dataDirectory: directory, defaultConfig: LogConfig())
        benchmark.stopMeasurement()
        try await reopened.close()
    }
}
