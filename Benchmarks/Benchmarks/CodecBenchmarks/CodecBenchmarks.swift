import Benchmark
import NIOCore
import TernCompression
import TernRecords

// Codec hot paths: CRC-32C, building and reading a 1 MiB batch of 100-byte records, and each
// compression codec on that batch's records. Throughput is per iteration; docs/benchmarks.md
// converts it to bytes/s and records/s.

let oneMiB = 1 << 20
let recordValueBytes = 100

/// A 1 MiB batch of 100-byte values with 8-byte keys (what a busy producer sends), and its parts.
struct Workload {
    let batch: RecordBatch
    let recordCount: Int
    let records: ByteBuffer
    let keys: [ByteBuffer]
    let value: ByteBuffer

    static let shared = Workload()

    init() {
        var value = ByteBuffer()
        // Text-like, so compressors have something realistic to work on.
        let words = ["tern", "kafka", "offset", "partition", "batch", "record", "log", "segment"]
        var generator = SystemRandomNumberGenerator()
        while value.readableBytes < recordValueBytes {
            value.writeString(words.randomElement(using: &generator)! + " ")
        }
        value = value.getSlice(at: 0, length: recordValueBytes)!
        var builder = RecordBatchBuilder(initialCapacityBytes: oneMiB + 4096)
        var keys: [ByteBuffer] = []
        while builder.uncompressedByteCount + recordValueBytes + 16 < oneMiB {
            let digits = String(keys.count % 100_000)
            let key = ByteBuffer(string: "key" + String(repeating: "0", count: 5 - digits.count) + digits)
            keys.append(key)
            builder.append(key: key, value: value, timestampMs: 1_700_000_000_000 + Int64(keys.count))
        }
        self.batch = try! RecordBatch(builder.build())
        self.recordCount = keys.count
        self.records = self.batch.recordsSection
        self.keys = keys
        self.value = value
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(3)
    )
    let workload = Workload.shared

    Benchmark("CRC-32C 1 MiB") { benchmark in
        var bytes = ByteBuffer(repeating: 0xA5, count: oneMiB)
        bytes.setInteger(UInt8(1), at: 0)
        for _ in benchmark.scaledIterations {
            blackHole(bytes.withUnsafeReadableBytes { CRC32C.checksum($0) })
        }
    }

    Benchmark("Build 1 MiB batch (100 B records)") { benchmark in
        for _ in benchmark.scaledIterations {
            var builder = RecordBatchBuilder(initialCapacityBytes: oneMiB + 4096)
            for (index, key) in workload.keys.enumerated() {
                builder.append(key: key, value: workload.value, timestampMs: 1_700_000_000_000 + Int64(index))
            }
            blackHole(try builder.build())
        }
    }

    Benchmark("Parse 1 MiB batch (100 B records)") { benchmark in
        for _ in benchmark.scaledIterations {
            var reader = try workload.batch.makeRecordReader(decompressionLimit: 2 * oneMiB)
            var valueBytes = 0
            while let record = try reader.next() {
                valueBytes &+= record.value?.readableBytes ?? 0
            }
            blackHole(valueBytes)
        }
    }

    Benchmark("Validate 1 MiB batch (CRC + record walk)") { benchmark in
        for _ in benchmark.scaledIterations {
            try workload.batch.validate()
            try workload.batch.validateRecords(decompressionLimit: 2 * oneMiB)
        }
    }

    for codec in CompressionCodec.allCases where codec != .none {
        Benchmark("Compress 1 MiB records (\(codec))") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try Compression.compress(workload.records, codec: codec))
            }
        }
        Benchmark("Decompress 1 MiB records (\(codec))") { benchmark in
            let compressed = try Compression.compress(workload.records, codec: codec)
            // The closure runs once per iteration and is measured whole unless told otherwise: without
            // this, every decompression figure included a compression.
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try Compression.decompress(compressed, codec: codec, limit: 2 * oneMiB))
            }
        }
    }
}
