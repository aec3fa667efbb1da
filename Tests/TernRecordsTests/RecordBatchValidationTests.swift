import NIOCore
import Testing

@testable import TernRecords

@Suite struct RecordBatchValidationTests {
    // MARK: CRC scope and patching

    @Test func everyCorruptedByteInTheCRCRegionIsDetected() throws {
        let bytes = try buildBatch(sampleRecords())
        for index in 21..<bytes.readableBytes {
            var corrupted = bytes
            corrupted.setInteger(corrupted.getInteger(at: index, as: UInt8.self)! ^ 0x01, at: index)
            let batch = try RecordBatch(corrupted)
            #expect(!batch.isValidCRC)
            #expect(throws: RecordBatchError(.crcMismatch, "")) { try batch.validate() }
        }
    }

    @Test func corruptedStoredCRCIsDetected() throws {
        var bytes = try buildBatch(sampleRecords())
        bytes.setInteger(bytes.getInteger(at: 17, as: UInt32.self)! ^ 0x8000_0000, at: 17)
        let error = try #require(throws: RecordBatchError.self) { try RecordBatch(bytes).validate() }
        #expect(error.code == .crcMismatch)
        #expect(error.kafkaErrorCode == 2)
    }

    @Test func baseOffsetAndLeaderEpochAreOutsideTheCRC() throws {
        var batch = try RecordBatch(try buildBatch(sampleRecords()))
        let crc = batch.crc
        batch.setBaseOffset(1_234_567)
        batch.setPartitionLeaderEpoch(42)
        #expect(batch.baseOffset == 1_234_567)
        #expect(batch.partitionLeaderEpoch == 42)
        #expect(batch.lastOffset == 1_234_569)
        #expect(batch.nextOffset == 1_234_570)
        #expect(batch.crc == crc)
        try batch.validate()
        #expect(try readAll(batch).map(\.offset) == [1_234_567, 1_234_568, 1_234_569])
    }

    @Test func logAppendTimeRewritesTheCRC() throws {
        var batch = try RecordBatch(try buildBatch(sampleRecords()))
        let crc = batch.crc
        batch.setMaxTimestampAndLogAppendTime(9_999)
        #expect(batch.attributes.timestampType == .logAppendTime)
        #expect(batch.maxTimestampMs == 9_999)
        #expect(batch.baseTimestampMs == 1_000)
        #expect(batch.crc != crc)
        try batch.validate()
        #expect(try readAll(batch).map(\.timestampMs) == [9_999, 9_999, 9_999])
    }

    @Test func patchingASliceLeavesTheParentBufferAlone() throws {
        let bytes = try buildBatch(sampleRecords())
        var batch = try RecordBatch(bytes)
        batch.setBaseOffset(77)
        #expect(bytes.getInteger(at: 0, as: Int64.self) == 0)
        #expect(batch.buffer.getInteger(at: batch.buffer.readerIndex, as: Int64.self) == 77)
    }

    // MARK: Framing

    @Test func everyTruncationIsAnErrorNotACrash() throws {
        let bytes = try buildBatch(sampleRecords())
        for length in 0..<bytes.readableBytes {
            let truncated = bytes.getSlice(at: 0, length: length)!
            #expect(throws: RecordBatchError(.truncated, ""), "length \(length)") { try RecordBatch(truncated) }
            // In a records field the same bytes are an incomplete trailing batch.
            let split = try RecordBatch.split(truncated)
            #expect(split.batches.isEmpty)
            #expect(split.partialTrailingByteCount == length)
        }
    }

    @Test func trailingBytesAfterOneBatch() throws {
        var bytes = try buildBatch(sampleRecords())
        bytes.writeInteger(UInt8(0))
        let error = try #require(throws: RecordBatchError.self) { try RecordBatch(bytes) }
        #expect(error.code == .trailingBytes)
        #expect(error.kafkaErrorCode == 87)
    }

    @Test func batchLengthBelowTheHeaderSize() throws {
        var bytes = try buildBatch(sampleRecords())
        bytes.setInteger(Int32(48), at: 8)
        #expect(throws: RecordBatchError(.invalidLength, "")) { try RecordBatch(bytes) }
        #expect(throws: RecordBatchError(.invalidLength, "")) { try RecordBatch.split(bytes) }
    }

    /// A v0 message (offset, size, crc, magic 0, attributes, key, value) and a v1 message (plus a
    /// timestamp), laid out as in §3.6; CRC-32/IEEE values are irrelevant to the check.
    static let legacyMessages: [(magic: Int8, bytes: ByteBuffer)] = [
        (
            0,
            ByteBuffer(hex: "0000000000000000" + "00000011" + "00000000" + "00" + "00" + "ffffffff" + "00000003616263")
        ),
        (
            1,
            ByteBuffer(
                hex: "0000000000000000" + "00000019" + "00000000" + "01" + "00" + "0000018bcfe56800" + "ffffffff"
                    + "00000003616263"
            )
        ),
    ]

    @Test func legacyMagicIsRejected() throws {
        for message in Self.legacyMessages {
            let error = try #require(throws: RecordBatchError.self) { try RecordBatch(message.bytes) }
            #expect(error.code == .legacyMessageFormat, "magic \(message.magic)")
            #expect(error.kafkaErrorCode == 87)
            #expect(throws: RecordBatchError(.legacyMessageFormat, "")) { try RecordBatch.split(message.bytes) }
        }
    }

    @Test func unknownMagicIsRejected() throws {
        var bytes = try buildBatch(sampleRecords())
        bytes.setInteger(Int8(3), at: 16)
        let error = try #require(throws: RecordBatchError.self) { try RecordBatch(bytes) }
        #expect(error.code == .invalidMagic)
        #expect(error.kafkaErrorCode == 2)
    }

    // MARK: Records fields

    @Test func splitsConcatenatedBatchesAndReportsAPartialTail() throws {
        let first = try buildBatch(sampleRecords())
        let second = try buildBatch([TestRecord(key: nil, value: ByteBuffer(string: "x"), timestampMs: 1)])
        var records = first
        records.writeImmutableBuffer(second)
        records.writeImmutableBuffer(first.getSlice(at: 0, length: 40)!)

        var reader = RecordBatchReader(records)
        #expect(try reader.next()?.buffer == first)
        #expect(try reader.next()?.buffer == second)
        #expect(try reader.next() == nil)
        #expect(reader.partialTrailingByteCount == 40)

        let split = try RecordBatch.split(records.getSlice(at: 0, length: first.readableBytes + second.readableBytes)!)
        #expect(split.batches.map(\.recordCount) == [3, 1])
        #expect(split.partialTrailingByteCount == 0)
        #expect(try RecordBatch.split(ByteBuffer()).batches.isEmpty)
    }

    @Test func readerStopsAfterAnError() throws {
        var records = try buildBatch(sampleRecords())
        records.writeImmutableBuffer(Self.legacyMessages[0].bytes)
        var reader = RecordBatchReader(records)
        #expect(try reader.next() != nil)
        #expect(throws: RecordBatchError(.legacyMessageFormat, "")) { try reader.next() }
        #expect(try reader.next() == nil)
    }

    // MARK: Header consistency

    @Test func recordCountAboveTheOffsetRange() throws {
        var bytes = try buildBatch(sampleRecords())
        bytes.setInteger(Int32(4), at: 57)
        bytes.fixBatchCRC()
        let batch = try RecordBatch(bytes)
        #expect(throws: RecordBatchError(.invalidRecordCount, "")) { try batch.validate() }
        // The record walk finds only three records.
        #expect(throws: RecordBatchError(.invalidRecordCount, "")) { try batch.validateRecords(decompressionLimit: 0) }
        #expect(throws: RecordBatchError(.invalidRecordCount, "")) { try readAll(batch) }
    }

    @Test func fewerRecordsThanTheOffsetRangeIsValidButNotAProducerBatch() throws {
        // As after compaction: lastOffsetDelta 3 with only three records (deltas 0, 1, 2).
        var bytes = try buildBatch(sampleRecords())
        bytes.setInteger(Int32(3), at: 23)
        bytes.fixBatchCRC()
        let batch = try RecordBatch(bytes)
        try batch.validate()
        try batch.validateRecords(decompressionLimit: 0)
        #expect(batch.nextOffset == 4)
        #expect(throws: RecordBatchError(.invalidRecordCount, "")) { try batch.validateProducerBatch() }
    }

    @Test func declaredCountBelowTheRecordsPresent() throws {
        var bytes = try buildBatch(sampleRecords())
        bytes.setInteger(Int32(2), at: 57)
        bytes.fixBatchCRC()
        let batch = try RecordBatch(bytes)
        try batch.validate()
        #expect(throws: RecordBatchError(.invalidRecordCount, "")) { try batch.validateRecords(decompressionLimit: 0) }
        #expect(throws: RecordBatchError(.invalidRecordCount, "")) { try readAll(batch) }
    }

    @Test func negativeRecordCount() throws {
        var bytes = try buildBatch(sampleRecords())
        bytes.setInteger(Int32(-1), at: 57)
        bytes.fixBatchCRC()
        let batch = try RecordBatch(bytes)
        #expect(throws: RecordBatchError(.invalidRecordCount, "")) { try batch.validate() }
        #expect(throws: RecordBatchError(.invalidRecordCount, "")) { try batch.makeRecordReader(decompressionLimit: 0) }
    }

    @Test func undefinedCodecBits() throws {
        var bytes = try buildBatch(sampleRecords())
        bytes.setInteger(Int16(5), at: 21)
        bytes.fixBatchCRC()
        let batch = try RecordBatch(bytes)
        let error = try #require(throws: RecordBatchError.self) { try batch.validate() }
        #expect(error.code == .unsupportedCompression)
        #expect(error.kafkaErrorCode == 76)
        #expect(throws: RecordBatchError(.unsupportedCompression, "")) { try readAll(batch) }
    }

    @Test func producerBatchRules() throws {
        let fresh = try RecordBatch(try buildBatch(sampleRecords(), producerId: 9, producerEpoch: 0, baseSequence: 0))
        try fresh.validateProducerBatch()

        var assigned = fresh
        assigned.setBaseOffset(10)
        #expect(throws: RecordBatchError(.invalidRecord, "")) { try assigned.validateProducerBatch() }

        var appendTime = fresh
        appendTime.setMaxTimestampAndLogAppendTime(1)
        let timestampError = try #require(throws: RecordBatchError.self) { try appendTime.validateProducerBatch() }
        #expect(timestampError.code == .invalidTimestamp)
        #expect(timestampError.kafkaErrorCode == 32)

        var control = RecordBatchBuilder(isControl: true)
        control.append(key: nil, value: nil, timestampMs: 0)
        #expect(throws: RecordBatchError(.invalidRecord, "")) {
            try RecordBatch(try control.build()).validateProducerBatch()
        }

        let noSequence = try RecordBatch(try buildBatch(sampleRecords(), producerId: 9, producerEpoch: 0))
        #expect(throws: RecordBatchError(.invalidProducerState, "")) { try noSequence.validateProducerBatch() }
    }

    // MARK: Records

    /// The sample batch's first record starts at byte 61: length, attributes, timestampDelta,
    /// offsetDelta, key length, "k0", ...
    @Test func recordLengthPastTheSection() throws {
        var bytes = try buildBatch(sampleRecords())
        bytes.setInteger(UInt8(0x7E), at: 61)  // zig-zag 63
        bytes.fixBatchCRC()
        try expectInvalidRecord(bytes)
    }

    @Test func recordLengthShorterThanItsFields() throws {
        var bytes = try buildBatch(sampleRecords())
        let length = bytes.getInteger(at: 61, as: UInt8.self)!
        bytes.setInteger(length - 2, at: 61)  // one byte shorter: fields now run past the record
        bytes.fixBatchCRC()
        try expectInvalidRecord(bytes)
    }

    @Test func keyLengthBelowMinusOne() throws {
        var bytes = try buildBatch(sampleRecords())
        bytes.setInteger(UInt8(0x03), at: 65)  // zig-zag -2
        bytes.fixBatchCRC()
        try expectInvalidRecord(bytes)
    }

    @Test func overlongVarint() throws {
        // A batch whose only record has length 0x80 0x80 0x80 0x80 0x10: five bytes, over 32 bits.
        var bytes = try buildBatch([TestRecord(key: nil, value: nil, timestampMs: 0)])
        bytes.moveWriterIndex(to: 61)
        bytes.writeBytes([0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0, 1, 1, 0])
        bytes.setInteger(Int32(bytes.readableBytes - 12), at: 8)
        bytes.fixBatchCRC()
        try expectInvalidRecord(bytes)
    }

    @Test func offsetDeltasOutOfOrder() throws {
        // Record 1 claims offset delta 0 again (its offsetDelta byte follows length, attributes and
        // a one-byte timestamp delta).
        let records = [
            TestRecord(key: nil, value: nil, timestampMs: 0),
            TestRecord(key: nil, value: nil, timestampMs: 0),
        ]
        var bytes = try buildBatch(records)
        let secondRecord = 61 + 1 + Int(bytes.getInteger(at: 61, as: UInt8.self)! / 2)
        #expect(bytes.getInteger(at: secondRecord + 3, as: UInt8.self) == 2)  // zig-zag 1
        bytes.setInteger(UInt8(0), at: secondRecord + 3)
        bytes.fixBatchCRC()
        try expectInvalidRecord(bytes)
    }

    @Test func headerWithNullKey() throws {
        let records = [
            TestRecord(key: nil, value: nil, headers: [RecordHeader(key: "a", value: nil)], timestampMs: 0)
        ]
        var bytes = try buildBatch(records)
        // Record: length, attributes, tsDelta, offsetDelta, key -1, value -1, header count, header key length.
        #expect(bytes.getInteger(at: 61 + 7, as: UInt8.self) == 2)
        bytes.setInteger(UInt8(1), at: 61 + 7)  // -1
        bytes.fixBatchCRC()
        try expectInvalidRecord(bytes)
    }

    /// Random damage to the records section (CRC rewritten so it gets past `validate`) must end in a
    /// `RecordBatchError` or valid records, never a crash; and the validation walk and the reader must
    /// agree on which.
    @Test func randomlyDamagedRecordsNeverCrash() throws {
        var generator = SeededGenerator(seed: 4)
        let original = try buildBatch(sampleRecords() + sampleRecords())
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 61..<bytes.readableBytes, using: &generator)
                bytes.setInteger(UInt8.random(in: 0...255, using: &generator), at: index)
            }
            if Bool.random(using: &generator) {
                bytes.moveWriterIndex(to: Int.random(in: 61...bytes.writerIndex, using: &generator))
                bytes.setInteger(Int32(bytes.readableBytes - 12), at: 8)
            }
            bytes.fixBatchCRC()
            let batch = try RecordBatch(bytes)
            let walkError = Result { () throws(RecordBatchError) in try batch.validateRecords(decompressionLimit: 0) }
            let readError = Result { () throws(RecordBatchError) in _ = try readAll(batch) }
            switch (walkError, readError) {
            case (.success, .success):
                #expect(try batch.records(decompressionLimit: 0).map(\.offset).count == Int(batch.recordCount))
            case (.failure(let walk), .failure(let read)):
                #expect(walk.code == read.code)
            default:
                Issue.record("validation walk \(walkError) and reader \(readError) disagree")
            }
        }
    }

    @Test func kafkaErrorCodes() {
        #expect(RecordBatchError(.crcMismatch, "").kafkaErrorCode == 2)
        #expect(RecordBatchError(.truncated, "").kafkaErrorCode == 2)
        #expect(RecordBatchError(.invalidRecord, "").kafkaErrorCode == 87)
        #expect(RecordBatchError(.invalidRecordCount, "").kafkaErrorCode == 87)
        #expect(RecordBatchError(.unsupportedCompression, "").kafkaErrorCode == 76)
        #expect(RecordBatchError(.decompressionFailed, "").kafkaErrorCode == 2)
    }

    private func expectInvalidRecord(_ bytes: ByteBuffer, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let batch = try RecordBatch(bytes)
        try batch.validate()
        let walkError = try #require(throws: RecordBatchError.self, sourceLocation: sourceLocation) {
            try batch.validateRecords(decompressionLimit: 0)
        }
        #expect(walkError.code == .invalidRecord, sourceLocation: sourceLocation)
        #expect(walkError.kafkaErrorCode == 87, sourceLocation: sourceLocation)
        #expect(throws: RecordBatchError(.invalidRecord, ""), sourceLocation: sourceLocation) { try readAll(batch) }
        #expect(throws: RecordBatchError(.invalidRecord, ""), sourceLocation: sourceLocation) {
            try batch.records(decompressionLimit: 0)
        }
    }
}
