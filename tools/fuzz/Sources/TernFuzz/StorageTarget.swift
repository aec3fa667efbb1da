import Dispatch
import Logging
import NIOCore
import TernRecords
import TernStorage

/// `segment`: a data directory written by the real log (two topics, several segments with offset
/// and time indexes, leader epochs, checkpoints, topic metadata), one of whose files is replaced by
/// the input, opened and recovered by `LogManager`, read end to end, appended to and closed.
///
/// The first byte picks the file (its low 7 bits, modulo the file count) and whether the clean
/// shutdown marker is removed first (bit 7), which makes the open scan the segments as after a
/// crash. The rest of the input is the file's new contents; the seeds are the real contents.
func fuzzSegment(_ input: ByteBuffer) {
    var input = input
    let control = input.readControlByte()
    let template = DataDirectoryTemplate.shared
    let fileSystem = InMemoryFileSystem()
    for directory in template.directories {
        try! fileSystem.makeDirectory(atPath: directory)
    }
    let replaced = template.files[Int(control & 0x7F) % template.files.count].path
    for (path, bytes) in template.files {
        if control & 0x80 != 0 && path.hasSuffix(DataDirectoryTemplate.cleanShutdownMarker) { continue }
        try! fileSystem.openFile(atPath: path, create: true).close()
        fileSystem.setContents(ofPath: path, to: path == replaced ? Array(input.readableBytesView) : bytes)
    }
    runBlocking {
        guard
            let manager = try? await LogManager.open(
                dataDirectory: DataDirectoryTemplate.dataDirectory,
                defaultConfig: DataDirectoryTemplate.config,
                clock: ManualClock(nowMs: DataDirectoryTemplate.nowMs),
                fileSystem: fileSystem,
                flushThreadCount: 1,
                logger: quietLogger
            )
        else { return }
        for name in manager.topicNames {
            guard let topic = manager.topic(name) else { continue }
            for index in 0..<min(topic.partitionCount, 8) {
                guard let log = manager.partition(topic: name, index: index) else { continue }
                readAll(log)
                _ = log.offset(forTimestamp: DataDirectoryTemplate.nowMs - 500)
                _ = log.offsetOfMaxTimestamp()
                _ = log.endOffset(forEpoch: 1)
                _ = try? await log.append(DataDirectoryTemplate.batch(["after"]), durability: .fsync)
            }
        }
        try? await manager.close()
    }
}

/// Storage logs every open and recovery; at thousands of runs a second that is only noise.
let quietLogger = Logger(label: "tern.fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

/// Reads a partition as a consumer would, from its start to its end, a bounded number of times.
private func readAll(_ log: PartitionLog) {
    var next = log.logStartOffset
    let end = log.logEndOffset
    var reads = 0
    while next < end, reads < 64 {
        reads += 1
        guard let read = try? log.read(from: next, maxBytes: 4096) else { return }
        guard let (batches, _) = try? RecordBatch.split(read.records), let last = batches.last else { return }
        for batch in batches {
            _ = try? batch.validateRecords(decompressionLimit: fuzzDecompressionLimit)
        }
        // A read that does not move past `next` would make a consumer fetch the same offset forever.
        guard last.nextOffset > next else { return }
        next = last.nextOffset
    }
}

/// The files of a data directory made by the real `LogManager` once per process.
struct DataDirectoryTemplate: Sendable {
    static let dataDirectory = "/data"
    static let cleanShutdownMarker = ".tern_cleanshutdown"
    static let nowMs: Int64 = 1_700_000_000_000
    /// Small segments and a dense index so a few batches make several segments and index entries;
    /// a small index preallocation keeps every run's copy of the directory small.
    static let config: LogConfig = {
        var config = LogConfig()
        config.segmentBytes = 600
        config.indexIntervalBytes = 64
        config.segmentIndexBytes = 1024
        return config
    }()

    static let shared = Self.make()

    var directories: [String]
    var files: [(path: String, bytes: [UInt8])]

    static func batch(_ values: [String], timestampMs: Int64 = Self.nowMs) -> ByteBuffer {
        var builder = RecordBatchBuilder()
        for (index, value) in values.enumerated() {
            builder.append(
                key: ByteBuffer(string: "k\(index)"),
                value: ByteBuffer(string: value),
                timestampMs: timestampMs + Int64(index)
            )
        }
        return try! builder.build()
    }

    private static func make() -> Self {
        let fileSystem = InMemoryFileSystem()
        runBlocking {
            let manager = try! await LogManager.open(
                dataDirectory: Self.dataDirectory,
                defaultConfig: Self.config,
                clock: ManualClock(nowMs: Self.nowMs),
                fileSystem: fileSystem,
                flushThreadCount: 1,
                logger: quietLogger
            )
            try! manager.createTopic("t", partitionCount: 1)
            try! manager.createTopic("c", partitionCount: 2, configOverrides: ["cleanup.policy": "compact"])
            let log = manager.partition(topic: "t", index: 0)!
            for round in 0..<12 {
                if round == 6 { try! await log.becomeLeader(epoch: 1) }
                let values = (0...(round % 3)).map { "value-\(round)-\($0)" }
                _ = try! await log.append(
                    Self.batch(values, timestampMs: Self.nowMs + Int64(round) * 100),
                    durability: .fsync
                )
            }
            let compacted = manager.partition(topic: "c", index: 1)!
            _ = try! await compacted.append(Self.batch(["a", "b"]), durability: .fsync)
            try! await manager.close()
        }
        var directories: [String] = []
        var files: [(path: String, bytes: [UInt8])] = []
        func walk(_ path: String) {
            directories.append(path)
            for name in (try! fileSystem.listDirectory(atPath: path)).sorted() {
                let child = path + "/" + name
                if fileSystem.isDirectory(atPath: child) {
                    walk(child)
                } else {
                    files.append((child, fileSystem.contents(ofPath: child) ?? []))
                }
            }
        }
        walk(Self.dataDirectory)
        return Self(directories: directories, files: files)
    }
}

/// Runs async storage code to completion from libFuzzer's synchronous callback (never called from
/// a task, so blocking this thread cannot starve the cooperative pool).
func runBlocking(_ body: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await body()
        done.signal()
    }
    done.wait()
}
