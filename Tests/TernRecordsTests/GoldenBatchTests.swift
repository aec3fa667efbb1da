import NIOCore
import TernCompression
import Testing

@testable import TernRecords

/// Batches built by kafka-python 3.0.12 (`kafka.record.default_records.DefaultRecordBatchBuilder`),
/// printed by `tools/gen_record_fixtures.py`. Parameters, as in that script:
///
/// plain: codec none, producerId 1234, producerEpoch 5, baseSequence 42, not transactional;
///        records (offset, timestamp, key, value, headers):
///        0, T,       "key-0", "value-0",                  [("trace", "abc"), ("null-header", null)]
///        1, T - 5,   null,    "negative timestamp delta", []
///        2, T + 300, "",      null,                       []
///        3, T + 70,  "k",     "",                         []
///        with T = 1_700_000_000_000.
/// gzip:  codec gzip (header mtime pinned to 0), producerId/epoch/baseSequence -1, transactional;
///        records i = 0…4: offset i, T + i, "key-i", "gzip value " × 20 + "i", [("n", "i")].
///
/// kafka-python writes partitionLeaderEpoch 0 where the Java client writes -1.
@Suite struct GoldenBatchTests {
    static let plainHex =
        "00000000000000000000008b00000000022a92ec930000000000030000018bcfe568000000018bcfe5692c00000000000004d2"
        + "00050000002a00000004520000000a6b65792d300e76616c75652d30040a747261636506616263166e756c6c2d6865616465"
        + "72013c00090201306e656761746976652074696d657374616d702064656c7461000e00d8040400010010008c0106026b0000"
    static let gzipHex =
        "0000000000000000000000a1000000000246757eef0011000000040000018bcfe568000000018bcfe56804ffffffffffffffff"
        + "ffffffffffff000000051f8b08000000000002ffbbc5ccc0c0c0959d5aa96bb08b39bd2ab340a12c31a7345561d8310d9898"
        + "f2980c6e3133303181bd6b38bcbd6b08f2ae21d0bb2c2c60ef1a0d6fef1a81bc6b04f42e1b1bd8bbc6c3dbbbc620ef1a03bd"
        + "cbc101f6aec9f0f6ae09c8bb2600563db339ab040000"

    static let baseTimestampMs: Int64 = 1_700_000_000_000

    static let plainRecords = [
        TestRecord(
            key: ByteBuffer(string: "key-0"),
            value: ByteBuffer(string: "value-0"),
            headers: [
                RecordHeader(key: "trace", value: ByteBuffer(string: "abc")),
                RecordHeader(key: "null-header", value: nil),
            ],
            timestampMs: baseTimestampMs
        ),
        TestRecord(key: nil, value: ByteBuffer(string: "negative timestamp delta"), timestampMs: baseTimestampMs - 5),
        TestRecord(key: ByteBuffer(), value: nil, timestampMs: baseTimestampMs + 300),
        TestRecord(key: ByteBuffer(string: "k"), value: ByteBuffer(), timestampMs: baseTimestampMs + 70),
    ]

    @Test func kafkaPythonPlainBatchParses() throws {
        let batch = try RecordBatch(ByteBuffer(hex: Self.plainHex))
        #expect(batch.baseOffset == 0)
        #expect(batch.batchLength == 0x8b)
        #expect(batch.partitionLeaderEpoch == 0)
        #expect(batch.magic == 2)
        #expect(batch.crc == 0x2A92_EC93)
        #expect(batch.attributes.rawValue == 0)
        #expect(batch.lastOffsetDelta == 3)
        #expect(batch.baseTimestampMs == Self.baseTimestampMs)
        #expect(batch.maxTimestampMs == Self.baseTimestampMs + 300)
        #expect(batch.producerId == 1234)
        #expect(batch.producerEpoch == 5)
        #expect(batch.baseSequence == 42)
        #expect(batch.recordCount == 4)
        try batch.validate()
        try batch.validateProducerBatch()
        try batch.validateRecords(decompressionLimit: 0)
        let expected = Self.plainRecords.enumerated().map { $0.element.expected(offset: Int64($0.offset)) }
        #expect(try readAll(batch) == expected)
    }

    @Test func builderReproducesKafkaPythonBytes() throws {
        var builder = RecordBatchBuilder(
            producerId: 1234,
            producerEpoch: 5,
            baseSequence: 42,
            partitionLeaderEpoch: 0
        )
        for record in Self.plainRecords {
            builder.append(
                key: record.key,
                value: record.value,
                headers: record.headers,
                timestampMs: record.timestampMs
            )
        }
        #expect(try builder.build() == ByteBuffer(hex: Self.plainHex))
    }

    /// The header and CRC do not depend on the codec being available.
    @Test func kafkaPythonGzipBatchHeader() throws {
        let batch = try RecordBatch(ByteBuffer(hex: Self.gzipHex))
        try batch.validate()
        #expect(batch.attributes == RecordBatch.Attributes(codec: .gzip, isTransactional: true))
        #expect(batch.recordCount == 5)
        #expect(batch.lastOffsetDelta == 4)
        #expect(batch.producerId == -1)
        #expect(batch.baseTimestampMs == Self.baseTimestampMs)
        #expect(batch.maxTimestampMs == Self.baseTimestampMs + 4)
    }

    @Test(.enabled(if: codecIsAvailable(.gzip), "gzip is not implemented in TernCompression yet"))
    func kafkaPythonGzipBatchRecords() throws {
        let batch = try RecordBatch(ByteBuffer(hex: Self.gzipHex))
        let records = try readAll(batch)
        #expect(records.count == 5)
        for (index, record) in records.enumerated() {
            let expected = Record(
                offset: Int64(index),
                timestampMs: Self.baseTimestampMs + Int64(index),
                key: ByteBuffer(string: "key-\(index)"),
                value: ByteBuffer(string: String(repeating: "gzip value ", count: 20) + "\(index)"),
                headers: [RecordHeader(key: "n", value: ByteBuffer(string: "\(index)"))]
            )
            #expect(record == expected)
        }
    }
}
