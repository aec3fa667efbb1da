import NIOCore
import TernCompression
import Testing

@testable import TernRecords

@Suite struct RecordBatchRoundTripTests {
    @Test func headerFieldsOfABuiltBatch() throws {
        var builder = RecordBatchBuilder(
            isTransactional: true,
            producerId: 4_000_000_000,
            producerEpoch: 3,
            baseSequence: 17
        )
        builder.append(key: nil, value: ByteBuffer(string: "a"), timestampMs: 5_000)
        builder.append(key: nil, value: ByteBuffer(string: "b"), timestampMs: 7_000)
        builder.append(key: nil, value: ByteBuffer(string: "c"), timestampMs: 4_000)
        #expect(builder.recordCount == 3)
        let bytes = try builder.build()
        let batch = try RecordBatch(bytes)

        #expect(batch.baseOffset == 0)
        #expect(Int(batch.batchLength) == bytes.readableBytes - 12)
        #expect(batch.byteCount == bytes.readableBytes)
        #expect(batch.partitionLeaderEpoch == -1)
        #expect(batch.magic == 2)
        #expect(batch.attributes == RecordBatch.Attributes(isTransactional: true))
        #expect(batch.attributes.codec == CompressionCodec.none)
        #expect(batch.attributes.timestampType == .createTime)
        #expect(!batch.attributes.isControl)
        #expect(batch.deleteHorizonMs == nil)
        #expect(batch.lastOffsetDelta == 2)
        #expect(batch.lastOffset == 2)
        #expect(batch.nextOffset == 3)
        #expect(batch.baseTimestampMs == 5_000)
        #expect(batch.maxTimestampMs == 7_000)
        #expect(batch.producerId == 4_000_000_000)
        #expect(batch.producerEpoch == 3)
        #expect(batch.baseSequence == 17)
        #expect(batch.recordCount == 3)
        #expect(batch.crc == batch.computeCRC())
        #expect(batch.isValidCRC)
        try batch.validate()
        try batch.validateProducerBatch()
        try batch.validateRecords(decompressionLimit: 0)
    }

    @Test func recordsRoundTripWithNullsEmptiesHeadersAndNegativeDeltas() throws {
        let records = [
            TestRecord(key: nil, value: ByteBuffer(string: "null key"), timestampMs: 1_700_000_000_000),
            TestRecord(key: ByteBuffer(string: "tombstone"), value: nil, timestampMs: 1_700_000_000_500),
            TestRecord(key: ByteBuffer(), value: ByteBuffer(), timestampMs: 1_699_999_999_000),  // negative delta
            TestRecord(
                key: ByteBuffer(string: "with headers"),
                value: ByteBuffer(string: "v"),
                headers: [
                    RecordHeader(key: "trace-id", value: ByteBuffer(string: "0af7651916cd43dd")),
                    RecordHeader(key: "null", value: nil),
                    RecordHeader(key: "", value: ByteBuffer()),
                    RecordHeader(key: "ключ", value: ByteBuffer(bytes: [0, 0xFF])),
                ],
                timestampMs: 1_600_000_000_000  // a delta that needs a multi-byte varlong
            ),
        ]
        let batch = try RecordBatch(try buildBatch(records))
        try batch.validate()
        try batch.validateRecords(decompressionLimit: 0)
        #expect(batch.baseTimestampMs == 1_700_000_000_000)
        #expect(batch.maxTimestampMs == 1_700_000_000_500)

        let expected = records.enumerated().map { $0.element.expected(offset: Int64($0.offset)) }
        #expect(try readAll(batch) == expected)
        #expect(Array(try batch.records(decompressionLimit: 0)) == expected)
    }

    /// 70 000 bytes is past 64 KiB: the value length and the record length take 3-byte varints;
    /// past 1 MiB they take 4.
    @Test(arguments: [70_000, 1_100_000])
    func largeValues(valueByteCount: Int) throws {
        var generator = SeededGenerator(seed: UInt64(valueByteCount))
        let value = ByteBuffer(bytes: (0..<valueByteCount).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let bytes = try buildBatch([TestRecord(key: ByteBuffer(string: "big"), value: value, timestampMs: 0)])

        let varintBytes = valueByteCount < 1 << 20 ? 3 : 4
        // attributes, timestampDelta, offsetDelta, key length + 3 bytes, value length varint, value, header count
        let bodyByteCount = 1 + 1 + 1 + 1 + 3 + varintBytes + valueByteCount + 1
        #expect(bytes.readableBytes == 61 + varintBytes + bodyByteCount)

        let batch = try RecordBatch(bytes)
        try batch.validate()
        let records = try readAll(batch)
        #expect(records.count == 1)
        #expect(records.first?.value == value)
        #expect(records.first?.key == ByteBuffer(string: "big"))
    }

    @Test func extremeTimestampsRoundTrip() throws {
        let records = [
            TestRecord(key: nil, value: nil, timestampMs: -1),
            TestRecord(key: nil, value: nil, timestampMs: Int64.max),
            TestRecord(key: nil, value: nil, timestampMs: Int64.min),
        ]
        let batch = try RecordBatch(try buildBatch(records))
        #expect(try readAll(batch).map(\.timestampMs) == [-1, Int64.max, Int64.min])
        #expect(batch.maxTimestampMs == Int64.max)
    }

    @Test func manyRecordsGetConsecutiveOffsets() throws {
        let records = (0..<1000).map {
            TestRecord(
                key: ByteBuffer(string: "key-\($0)"),
                value: ByteBuffer(string: "value-\($0)"),
                timestampMs: Int64($0)
            )
        }
        var batch = try RecordBatch(try buildBatch(records))
        batch.setBaseOffset(5_000)
        let read = try readAll(batch)
        #expect(read.map(\.offset) == Array(5_000..<6_000))
        #expect(read.map(\.timestampMs) == Array(0..<1000))
        #expect(read[999].value == ByteBuffer(string: "value-999"))
        #expect(batch.lastOffset == 5_999)
    }

    @Test func emptyBuilderIsRejected() {
        #expect(throws: RecordBatchError(.invalidRecordCount, "")) {
            try RecordBatchBuilder().build()
        }
    }

    @Test func builderReportsItsSize() {
        var builder = RecordBatchBuilder()
        #expect(builder.uncompressedByteCount == 61)
        builder.append(key: nil, value: ByteBuffer(string: "abc"), timestampMs: 0)
        // length, attributes, timestampDelta, offsetDelta, key length, value length, "abc", header count
        #expect(builder.uncompressedByteCount == 61 + 1 + 1 + 1 + 1 + 1 + 1 + 3 + 1)
    }

    @Test func readerReturnsNilAfterTheLastRecord() throws {
        var reader = try RecordBatch(try buildBatch(sampleRecords())).makeRecordReader(decompressionLimit: 0)
        #expect(reader.declaredRecordCount == 3)
        for _ in 0..<3 { #expect(try reader.next() != nil) }
        #expect(try reader.next() == nil)
        #expect(try reader.next() == nil)
    }

    @Test func attributesBits() {
        var attributes = RecordBatch.Attributes(rawValue: 0)
        attributes.codec = .zstd
        attributes.timestampType = .logAppendTime
        attributes.isControl = true
        attributes.hasDeleteHorizon = true
        #expect(attributes.rawValue == 4 | 8 | 32 | 64)
        attributes.isTransactional = true
        attributes.isControl = false
        #expect(attributes.rawValue == 4 | 8 | 16 | 64)
        #expect(RecordBatch.Attributes(rawValue: 5).codec == nil)
        #expect(RecordBatch.Attributes(rawValue: 5).codecBits == 5)
    }
}
