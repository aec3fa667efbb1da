import NIOCore
import TernCompression
import TernRecords

/// Deterministic generator (SplitMix64) so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ByteBuffer {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self.init(bytes: bytes)
    }

    init(repeating byte: UInt8, count: Int) {
        self.init(bytes: [UInt8](repeating: byte, count: count))
    }

    /// Rewrites the CRC of the batch at the reader index, after a test changed covered bytes on purpose.
    mutating func fixBatchCRC() {
        let crc = CRC32C.checksum(self, at: self.readerIndex + 21, length: self.readableBytes - 21)!
        self.setInteger(crc, at: self.readerIndex + 17)
    }
}

/// A record as appended to a builder, to compare with what the reader returns.
struct TestRecord {
    var key: ByteBuffer?
    var value: ByteBuffer?
    var headers: [RecordHeader] = []
    var timestampMs: Int64

    func expected(offset: Int64) -> Record {
        Record(offset: offset, timestampMs: self.timestampMs, key: self.key, value: self.value, headers: self.headers)
    }
}

func buildBatch(
    _ records: [TestRecord],
    codec: CompressionCodec = .none,
    producerId: Int64 = -1,
    producerEpoch: Int16 = -1,
    baseSequence: Int32 = -1
) throws -> ByteBuffer {
    var builder = RecordBatchBuilder(
        codec: codec,
        producerId: producerId,
        producerEpoch: producerEpoch,
        baseSequence: baseSequence
    )
    for record in records {
        builder.append(key: record.key, value: record.value, headers: record.headers, timestampMs: record.timestampMs)
    }
    return try builder.build()
}

func readAll(_ batch: RecordBatch, decompressionLimit: Int = 64 << 20) throws(RecordBatchError) -> [Record] {
    var reader = try batch.makeRecordReader(decompressionLimit: decompressionLimit)
    var records: [Record] = []
    while let record = try reader.next() {
        records.append(record)
    }
    return records
}

/// A small mixed batch used by the corruption tests.
func sampleRecords() -> [TestRecord] {
    [
        TestRecord(key: ByteBuffer(string: "k0"), value: ByteBuffer(string: "first"), timestampMs: 1_000),
        TestRecord(
            key: nil,
            value: ByteBuffer(string: "second"),
            headers: [RecordHeader(key: "h", value: ByteBuffer(string: "v")), RecordHeader(key: "n", value: nil)],
            timestampMs: 990
        ),
        TestRecord(key: ByteBuffer(string: ""), value: nil, timestampMs: 1_500),
    ]
}

/// Whether the compression module can handle `codec` in this build (the codecs land separately).
func codecIsAvailable(_ codec: CompressionCodec) -> Bool {
    do {
        let compressed = try Compression.compress(ByteBuffer(string: "probe"), codec: codec)
        return try Compression.decompress(compressed, codec: codec, limit: 1 << 10) == ByteBuffer(string: "probe")
    } catch {
        return false
    }
}
