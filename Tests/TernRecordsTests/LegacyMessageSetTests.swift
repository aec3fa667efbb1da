import NIOCore
import TernCompression
import Testing

@testable import TernRecords

extension LegacyFixture: CustomTestStringConvertible {
    var testDescription: String { self.name }

    var bytes: ByteBuffer { ByteBuffer(hex: self.hex.filter { !$0.isWhitespace }) }
}

private let limit = 1 << 20

private func buffer(_ string: String?) -> ByteBuffer? {
    string.map { ByteBuffer(string: $0) }
}

/// The fixture records as v2 records starting at `baseOffset`, for building batches.
private func fixtureTestRecords(headers: Bool = false) -> [TestRecord] {
    LegacyFixtures.records.enumerated().map { index, record in
        TestRecord(
            key: buffer(record.key),
            value: buffer(record.value),
            // Headers have no place in a legacy message; down-conversion must drop them.
            headers: headers && index == 0 ? [RecordHeader(key: "trace", value: ByteBuffer(string: "abc"))] : [],
            timestampMs: record.timestampMs
        )
    }
}

private func v2Batch(
    _ records: [TestRecord],
    codec: CompressionCodec = .none,
    baseOffset: Int64
) throws -> ByteBuffer {
    var builder = RecordBatchBuilder(codec: codec, baseOffset: baseOffset)
    for record in records {
        builder.append(key: record.key, value: record.value, headers: record.headers, timestampMs: record.timestampMs)
    }
    return try builder.build()
}

/// One legacy entry, through the module's own writer (CRC included).
private func entry(
    offset: Int64 = 0,
    magic: Int8,
    attributes: Int8 = 0,
    timestampMs: Int64 = LegacyFixtures.baseTimestampMs,
    key: ByteBuffer? = nil,
    value: ByteBuffer?
) throws -> ByteBuffer {
    var output = ByteBuffer()
    try LegacyMessageSet.writeEntry(
        offset: offset,
        magic: magic,
        attributes: attributes,
        timestampMs: timestampMs,
        key: key,
        value: value,
        to: &output
    )
    return output
}

/// A wrapper entry whose value is `inner` compressed with `codec` (attribute codec bits `codecBits`,
/// default the codec's own, plus `extraAttributes`).
private func wrapper(
    _ inner: ByteBuffer,
    magic: Int8,
    codec: CompressionCodec,
    codecBits: Int8? = nil,
    extraAttributes: Int8 = 0,
    offset: Int64 = 0,
    timestampMs: Int64 = LegacyFixtures.baseTimestampMs
) throws -> ByteBuffer {
    try entry(
        offset: offset,
        magic: magic,
        attributes: (codecBits ?? codec.rawValue) | extraAttributes,
        timestampMs: timestampMs,
        value: try Compression.compress(inner, codec: codec)
    )
}

/// Where each entry of a set ends (after the offset + size + size bytes).
private func entryEnds(_ bytes: ByteBuffer) -> [Int] {
    var ends: [Int] = []
    var index = bytes.readerIndex
    while index + 12 <= bytes.writerIndex {
        index += 12 + Int(bytes.getInteger(at: index + 8, as: Int32.self)!)
        ends.append(index - bytes.readerIndex)
    }
    return ends
}

/// The value of the single entry `set` holds (a wrapper's compressed inner set).
private func wrapperValue(_ set: ByteBuffer, magic: Int8) -> ByteBuffer {
    var position = set.readerIndex + 12 + 6 + (magic == 1 ? 8 : 0)
    let keyLength = Int(set.getInteger(at: position, as: Int32.self)!)
    position += 4 + max(keyLength, 0)
    let valueLength = Int(set.getInteger(at: position, as: Int32.self)!)
    return set.getSlice(at: position + 4, length: valueLength)!
}

private func expectError(
    _ code: RecordBatchError.Code,
    kafkaCode: Int16? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(code), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as RecordBatchError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        if let kafkaCode {
            #expect(error.kafkaErrorCode == kafkaCode, sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected \(code), but \(error) was thrown", sourceLocation: sourceLocation)
    }
}

@Suite struct LegacyChecksumTests {
    @Test func crc32IEEEMatchesTheStandardCheckValue() {
        let text = ByteBuffer(string: "123456789")
        #expect(CRC32IEEE.checksum(text) == 0xCBF4_3926)
        #expect(CRC32IEEE.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32IEEE.checksum(ByteBuffer()) == 0)
        var incremental = CRC32IEEE()
        incremental.update(ByteBuffer(string: "1234"))
        incremental.update(ByteBuffer(string: "56789"))
        #expect(incremental.value == 0xCBF4_3926)

        var offsetText = ByteBuffer(string: "xx123456789yy")
        offsetText.moveReaderIndex(forwardBy: 1)
        #expect(CRC32IEEE.checksum(offsetText, at: 2, length: 9) == 0xCBF4_3926)
        #expect(CRC32IEEE.checksum(offsetText, at: 0, length: 2) == nil)  // before the reader index
        #expect(CRC32IEEE.checksum(offsetText, at: 5, length: 9) == nil)  // past the end
    }

    @Test func xxh32MatchesReferenceValues() {
        // Values from python-xxhash (the reference C implementation).
        #expect(XXH32.hash([]) == 0x02CC_5D05)
        #expect(XXH32.hash(Array("abc".utf8)) == 0x32D1_53FF)
        #expect(XXH32.hash([0, 1, 2, 3, 4, 5, 6]) == 0xA743_36DC)
        #expect(XXH32.hash(Array("Nobody inspects the spammish repetition".utf8)) == 0xE229_3B2F)
    }
}

@Suite struct LegacyMessageSetTests {
    // MARK: Parsing kafka-python's sets

    @Test(arguments: LegacyFixtures.produced + LegacyFixtures.downConverted)
    func parsesKafkaPythonSet(_ fixture: LegacyFixture) throws {
        let records = try LegacyMessageSet.parse(fixture.bytes, decompressionLimit: limit)
        #expect(records.count == fixture.records.count)
        for (record, expected) in zip(records, fixture.records) {
            #expect(record.offset == expected.offset)
            #expect(record.timestampMs == expected.timestampMs)
            #expect(record.key == buffer(expected.key))
            #expect(record.value == buffer(expected.value))
            #expect(record.magic == fixture.magic)
            #expect(record.codec == fixture.codec)
            #expect(record.timestampType == (fixture.magic == 0 ? nil : .createTime))
        }
        // kafka-python's reader and the parameters the sets were built from agree too.
        for (record, source) in zip(records, LegacyFixtures.records) {
            #expect(record.key == buffer(source.key))
            #expect(record.value == buffer(source.value))
            #expect(record.timestampMs == (fixture.magic == 0 ? -1 : source.timestampMs))
        }
    }

    @Test func magicOneInnerOffsetsAreMadeAbsoluteOnlyForANonNegativeBase() throws {
        let produced = Dictionary(uniqueKeysWithValues: LegacyFixtures.produced.map { ($0.name, $0) })
        // Wrapper at offset 104 holding relative offsets 0…4: absolute 100…104.
        let lz4 = try LegacyMessageSet.parse(produced["v1-lz4"]!.bytes, decompressionLimit: limit)
        #expect(lz4.map(\.offset) == [100, 101, 102, 103, 104])
        // Wrapper at offset 0 (what producers send): base -4 is not applied, as in Kafka.
        let gzip = try LegacyMessageSet.parse(produced["v1-gzip"]!.bytes, decompressionLimit: limit)
        #expect(gzip.map(\.offset) == [0, 1, 2, 3, 4])
    }

    @Test func setsMixingUncompressedMessagesAndWrappersParseInOrder() throws {
        let produced = Dictionary(uniqueKeysWithValues: LegacyFixtures.produced.map { ($0.name, $0) })
        var set = produced["v1-none"]!.bytes
        set.writeImmutableBuffer(produced["v1-lz4"]!.bytes)
        set.writeImmutableBuffer(produced["v1-gzip"]!.bytes)
        let records = try LegacyMessageSet.parse(set, decompressionLimit: limit)
        #expect(records.count == 15)
        #expect(
            records.map(\.codec) == Array(repeating: .none, count: 5) + Array(repeating: .lz4, count: 5)
                + Array(repeating: .gzip, count: 5)
        )
        #expect(records.map(\.offset) == [0, 1, 2, 3, 4, 100, 101, 102, 103, 104, 0, 1, 2, 3, 4])
    }

    @Test func aLogAppendTimeWrapperGivesItsTimestampToEveryInnerMessage() throws {
        let inner = LegacyFixtures.produced.first { $0.name == "v1-none" }!.bytes
        let appendTime: Int64 = 1_800_000_000_000
        let logAppendTime = try wrapper(
            inner,
            magic: 1,
            codec: .gzip,
            extraAttributes: 0x08,
            offset: 4,
            timestampMs: appendTime
        )
        let records = try LegacyMessageSet.parse(logAppendTime, decompressionLimit: limit)
        #expect(records.map(\.timestampMs) == Array(repeating: appendTime, count: 5))
        #expect(records.allSatisfy { $0.timestampType == .logAppendTime })

        // A CreateTime wrapper leaves the inner timestamps alone.
        let createTime = try wrapper(inner, magic: 1, codec: .gzip, offset: 4, timestampMs: appendTime)
        let created = try LegacyMessageSet.parse(createTime, decompressionLimit: limit)
        #expect(created.map(\.timestampMs) == LegacyFixtures.records.map(\.timestampMs))
        #expect(created.allSatisfy { $0.timestampType == .createTime })

        // An uncompressed magic 1 message reports its own bit.
        let single = try entry(magic: 1, attributes: 0x08, timestampMs: appendTime, value: ByteBuffer(string: "v"))
        #expect(try LegacyMessageSet.parse(single, decompressionLimit: limit).first?.timestampType == .logAppendTime)
    }

    @Test func magicZeroLZ4IgnoresTheBrokenHeaderChecksumButMagicOneChecksIt() throws {
        let produced = Dictionary(uniqueKeysWithValues: LegacyFixtures.produced.map { ($0.name, $0) })
        let brokenFrame = wrapperValue(produced["v0-lz4"]!.bytes, magic: 0)
        let standardFrame = wrapperValue(produced["v1-lz4"]!.bytes, magic: 1)
        // The old framing really is rejected by a standard decoder: that is what the repair is for.
        #expect(throws: CompressionError.self) { try Compression.decompress(brokenFrame, codec: .lz4, limit: limit) }

        // Kafka ignores the checksum for magic 0 only (KafkaLZ4BlockInputStream).
        #expect(try LegacyMessageSet.parse(produced["v0-lz4"]!.bytes, decompressionLimit: limit).count == 5)
        let brokenInMagic1 = try entry(magic: 1, attributes: 3, value: brokenFrame)
        expectError(.decompressionFailed, kafkaCode: 2) {
            _ = try LegacyMessageSet.parse(brokenInMagic1, decompressionLimit: limit)
        }
        // A correct checksum in magic 0 is fine too: Kafka accepts any header checksum there.
        let inner = LegacyFixtures.produced.first { $0.name == "v0-none" }!.bytes
        let standardMagic0 = try wrapper(inner, magic: 0, codec: .lz4)
        #expect(try LegacyMessageSet.parse(standardMagic0, decompressionLimit: limit).count == 5)
        // The repaired magic 1 frame decodes in a magic 0 wrapper, and its magic 1 messages are then
        // refused for not matching the wrapper, which shows the frame itself was read.
        let misnested = try entry(magic: 0, attributes: 3, value: standardFrame)
        expectError(.invalidRecord) { _ = try LegacyMessageSet.parse(misnested, decompressionLimit: limit) }
    }

    // MARK: Up-conversion

    @Test(arguments: LegacyFixtures.produced)
    func convertsToAV2Batch(_ fixture: LegacyFixture) throws {
        let legacy = try LegacyMessageSet.parse(fixture.bytes, decompressionLimit: limit)
        let bytes = try LegacyMessageSet.convertToBatch(legacy, codec: fixture.codec, nowMs: 1_900_000_000_000)
        let batch = try RecordBatch(bytes)
        try batch.validate()
        try batch.validateProducerBatch()
        #expect(batch.attributes.codec == fixture.codec)
        #expect(batch.attributes.timestampType == .createTime)
        #expect(batch.producerId == -1)
        #expect(batch.producerEpoch == -1)
        #expect(batch.baseSequence == -1)
        #expect(batch.recordCount == 5)

        // Magic 0 has no timestamps: Kafka's LogValidator keeps NO_TIMESTAMP (-1), not the time now.
        let expected = LegacyFixtures.records.enumerated().map { index, record in
            Record(
                offset: Int64(index),
                timestampMs: fixture.magic == 0 ? -1 : record.timestampMs,
                key: buffer(record.key),
                value: buffer(record.value)
            )
        }
        #expect(try readAll(batch) == expected)
        #expect(batch.maxTimestampMs == (fixture.magic == 0 ? -1 : LegacyFixtures.baseTimestampMs + 300))
    }

    @Test func convertingNoRecordsIsRefused() {
        expectError(.invalidRecordCount) { _ = try LegacyMessageSet.convertToBatch([], codec: .none, nowMs: 0) }
    }

    // MARK: Down-conversion

    @Test(arguments: [Int8(0), 1], CompressionCodec.allCases)
    func downConvertGivesKafkaPythonsBytes(magic: Int8, codec: CompressionCodec) throws {
        let batch = try v2Batch(fixtureTestRecords(headers: true), codec: codec, baseOffset: 100)
        let converted = try LegacyMessageSet.downConvert(batch, toMagic: magic, decompressionLimit: limit)
        let expected = LegacyFixtures.downConverted[Int(magic)]
        #expect(expected.magic == magic)
        // Byte for byte what kafka-python builds for the same messages at offsets 100…104.
        #expect(converted == expected.bytes)
        let parsed = try LegacyMessageSet.parse(converted, decompressionLimit: limit)
        #expect(parsed.map(\.offset) == [100, 101, 102, 103, 104])
        #expect(parsed.map(\.key) == LegacyFixtures.records.map { buffer($0.key) })
        #expect(parsed.map(\.value) == LegacyFixtures.records.map { buffer($0.value) })
        #expect(parsed.allSatisfy { $0.codec == .none && $0.magic == magic })
    }

    @Test func downConvertSkipsControlBatchesRecordsBeforeTheFetchOffsetAndAPartialBatch() throws {
        var log = ByteBuffer()
        var first = RecordBatchBuilder(baseOffset: 10)
        first.append(key: nil, value: ByteBuffer(string: "ten"), timestampMs: 1)
        first.append(key: nil, value: ByteBuffer(string: "eleven"), timestampMs: 2)
        log.writeImmutableBuffer(try first.build())
        var markerBuilder = RecordBatchBuilder(
            isTransactional: true,
            isControl: true,
            producerId: 7,
            producerEpoch: 0,
            baseOffset: 12
        )
        // A commit marker: version 0, type 1; value version 0, coordinator epoch 0.
        markerBuilder.append(
            key: ByteBuffer(bytes: [0, 0, 0, 1]),
            value: ByteBuffer(bytes: [0, 0, 0, 0, 0, 0]),
            timestampMs: 3
        )
        let marker = try markerBuilder.build()
        log.writeImmutableBuffer(marker)
        var second = RecordBatchBuilder(codec: .gzip, baseOffset: 13)
        second.append(key: ByteBuffer(string: "k"), value: ByteBuffer(string: "thirteen"), timestampMs: 4)
        log.writeImmutableBuffer(try second.build())
        let trailing = try v2Batch(fixtureTestRecords(), baseOffset: 14)
        log.writeImmutableBuffer(trailing.getSlice(at: 0, length: trailing.readableBytes - 10)!)

        let all = try LegacyMessageSet.parse(
            try LegacyMessageSet.downConvert(log, toMagic: 1, decompressionLimit: limit),
            decompressionLimit: limit
        )
        #expect(all.map(\.offset) == [10, 11, 13])
        #expect(all.map(\.value) == ["ten", "eleven", "thirteen"].map { ByteBuffer(string: $0) })
        #expect(all.map(\.timestampMs) == [1, 2, 4])

        let fromEleven = try LegacyMessageSet.parse(
            try LegacyMessageSet.downConvert(log, toMagic: 0, firstOffset: 11, decompressionLimit: limit),
            decompressionLimit: limit
        )
        #expect(fromEleven.map(\.offset) == [11, 13])
        #expect(fromEleven.map(\.timestampMs) == [-1, -1])

        // Nothing but a control batch and a partial batch: an empty set.
        var onlyMarker = marker
        onlyMarker.writeImmutableBuffer(trailing.getSlice(at: 0, length: 30)!)
        #expect(try LegacyMessageSet.downConvert(onlyMarker, toMagic: 1, decompressionLimit: limit).readableBytes == 0)
    }

    @Test func downConvertOfALogAppendTimeBatchMarksEachMessage() throws {
        let appendTime: Int64 = 1_800_000_000_000
        var batch = try RecordBatch(try v2Batch(fixtureTestRecords(), baseOffset: 0))
        batch.setMaxTimestampAndLogAppendTime(appendTime)

        let magic1 = try LegacyMessageSet.downConvert(batch.buffer, toMagic: 1, decompressionLimit: limit)
        let records = try LegacyMessageSet.parse(magic1, decompressionLimit: limit)
        #expect(records.map(\.timestampMs) == Array(repeating: appendTime, count: 5))
        #expect(records.allSatisfy { $0.timestampType == .logAppendTime })
        #expect(magic1.getInteger(at: 17, as: Int8.self) == 0x08)  // attributes of the first entry

        let magic0 = try LegacyMessageSet.downConvert(batch.buffer, toMagic: 0, decompressionLimit: limit)
        #expect(magic0.getInteger(at: 17, as: Int8.self) == 0)
        #expect(try LegacyMessageSet.parse(magic0, decompressionLimit: limit).allSatisfy { $0.timestampType == nil })
    }

    @Test func downConvertRefusesCorruptBatchesAndHonoursTheDecompressionLimit() throws {
        let gzip = try v2Batch(fixtureTestRecords(), codec: .gzip, baseOffset: 0)
        expectError(.decompressionLimitExceeded) {
            _ = try LegacyMessageSet.downConvert(gzip, toMagic: 1, decompressionLimit: 64)
        }
        var legacy = LegacyFixtures.produced[0].bytes
        expectError(.legacyMessageFormat) {
            _ = try LegacyMessageSet.downConvert(legacy, toMagic: 1, decompressionLimit: limit)
        }
        // A record whose length runs past the batch (CRC fixed, so only the record is wrong).
        legacy = try v2Batch(fixtureTestRecords(), baseOffset: 0)
        legacy.setInteger(UInt8(0x7E), at: RecordBatch.headerByteCount)
        legacy.fixBatchCRC()
        expectError(.invalidRecord) {
            _ = try LegacyMessageSet.downConvert(legacy, toMagic: 0, decompressionLimit: limit)
        }
    }

    @Test func upAndDownConversionRoundTrip() throws {
        for fixture in LegacyFixtures.produced {
            let parsed = try LegacyMessageSet.parse(fixture.bytes, decompressionLimit: limit)
            var batch = try RecordBatch(try LegacyMessageSet.convertToBatch(parsed, codec: fixture.codec, nowMs: 0))
            batch.setBaseOffset(100)
            let back = try LegacyMessageSet.downConvert(batch.buffer, toMagic: fixture.magic, decompressionLimit: limit)
            if fixture.magic == 0 {
                #expect(back == LegacyFixtures.downConverted[0].bytes, "\(fixture.name)")
            } else {
                #expect(back == LegacyFixtures.downConverted[1].bytes, "\(fixture.name)")
            }
        }
    }

    // MARK: Refusals

    @Test(arguments: LegacyFixtures.produced.filter { $0.codec == .none })
    func everyCorruptedByteOfAnUncompressedSetIsDetected(_ fixture: LegacyFixture) throws {
        let bytes = fixture.bytes
        let ends = entryEnds(bytes)
        var entryStart = 0
        for end in ends {
            let crcStart = entryStart + 12
            for index in crcStart..<end {
                var corrupt = bytes
                corrupt.setInteger(bytes.getInteger(at: index, as: UInt8.self)! ^ 0x5A, at: index)
                // A flipped magic (0x5A or 0x5B) is named as such; any other byte fails the CRC.
                let expected: RecordBatchError.Code = index == crcStart + 4 ? .invalidMagic : .crcMismatch
                expectError(expected, kafkaCode: 2) {
                    _ = try LegacyMessageSet.parse(corrupt, decompressionLimit: limit)
                }
            }
            entryStart = end
        }
    }

    @Test(arguments: LegacyFixtures.produced.filter { $0.codec != .none })
    func aCorruptedCompressedPayloadFailsTheWrapperCRC(_ fixture: LegacyFixture) throws {
        var corrupt = fixture.bytes
        let index = corrupt.readableBytes - 5
        corrupt.setInteger(corrupt.getInteger(at: index, as: UInt8.self)! ^ 0x01, at: index)
        expectError(.crcMismatch, kafkaCode: 2) { _ = try LegacyMessageSet.parse(corrupt, decompressionLimit: limit) }
    }

    @Test func aCorruptedInnerMessageFailsItsOwnCRC() throws {
        var inner = LegacyFixtures.produced.first { $0.name == "v1-none" }!.bytes
        let index = entryEnds(inner)[1] + 30  // inside the third message
        inner.setInteger(inner.getInteger(at: index, as: UInt8.self)! ^ 0x01, at: index)
        let set = try wrapper(inner, magic: 1, codec: .snappy, offset: 4)
        expectError(.crcMismatch, kafkaCode: 2) { _ = try LegacyMessageSet.parse(set, decompressionLimit: limit) }
    }

    @Test(arguments: LegacyFixtures.produced)
    func everyTruncationIsRefused(_ fixture: LegacyFixture) throws {
        let bytes = fixture.bytes
        let ends = Set(entryEnds(bytes))
        for length in 1..<bytes.readableBytes {
            let prefix = bytes.getSlice(at: 0, length: length)!
            if ends.contains(length) {
                // Whole entries: a shorter but valid set.
                #expect(try LegacyMessageSet.parse(prefix, decompressionLimit: limit).count < 5)
            } else {
                expectError(.truncated, kafkaCode: 2) {
                    _ = try LegacyMessageSet.parse(prefix, decompressionLimit: limit)
                }
            }
        }
        #expect(try LegacyMessageSet.parse(ByteBuffer(), decompressionLimit: limit).isEmpty)
    }

    @Test func aTruncatedInnerSetOrCompressedStreamIsRefused() throws {
        let inner = LegacyFixtures.produced.first { $0.name == "v0-none" }!.bytes
        let cut = try wrapper(inner.getSlice(at: 0, length: inner.readableBytes - 3)!, magic: 0, codec: .gzip)
        expectError(.truncated) { _ = try LegacyMessageSet.parse(cut, decompressionLimit: limit) }

        let compressed = try Compression.compress(inner, codec: .gzip)
        let cutStream = try entry(
            magic: 0,
            attributes: 1,
            value: compressed.getSlice(at: 0, length: compressed.readableBytes - 8)!
        )
        expectError(.decompressionFailed, kafkaCode: 2) {
            _ = try LegacyMessageSet.parse(cutStream, decompressionLimit: limit)
        }
    }

    @Test(arguments: LegacyFixtures.produced.filter { $0.codec != .none })
    func decompressionBeyondTheLimitIsRefused(_ fixture: LegacyFixture) throws {
        // The inner set is the uncompressed set of the same magic (offsets 0…4, same messages).
        let innerByteCount = LegacyFixtures.produced.first { $0.magic == fixture.magic && $0.codec == .none }!
            .bytes.readableBytes
        #expect(try LegacyMessageSet.parse(fixture.bytes, decompressionLimit: innerByteCount).count == 5)
        expectError(.decompressionLimitExceeded) {
            _ = try LegacyMessageSet.parse(fixture.bytes, decompressionLimit: innerByteCount - 1)
        }
        // The limit is for the whole set: a second wrapper does not get a fresh allowance.
        var twice = fixture.bytes
        twice.writeImmutableBuffer(fixture.bytes)
        expectError(.decompressionLimitExceeded) {
            _ = try LegacyMessageSet.parse(twice, decompressionLimit: 2 * innerByteCount - 1)
        }
        #expect(try LegacyMessageSet.parse(twice, decompressionLimit: 2 * innerByteCount).count == 10)
    }

    @Test func aDecompressionBombIsStoppedAtTheLimit() throws {
        let bomb = try entry(
            magic: 1,
            attributes: 1,
            value: try Compression.compress(ByteBuffer(repeating: 0, count: 32 << 20), codec: .gzip)
        )
        #expect(bomb.readableBytes < 64 << 10)
        expectError(.decompressionLimitExceeded, kafkaCode: 87) {
            _ = try LegacyMessageSet.parse(bomb, decompressionLimit: 1 << 20)
        }
    }

    @Test func malformedMessagesAreRefused() throws {
        let inner = LegacyFixtures.produced.first { $0.name == "v1-none" }!.bytes
        let value = ByteBuffer(string: "v")

        // A compressed message inside a wrapper.
        let nested = try wrapper(try wrapper(inner, magic: 1, codec: .gzip), magic: 1, codec: .gzip)
        expectError(.invalidRecord, kafkaCode: 87) { _ = try LegacyMessageSet.parse(nested, decompressionLimit: limit) }

        // zstd needs magic 2; codec bits 5–7 name nothing.
        let zstd = try wrapper(inner, magic: 1, codec: .zstd)
        expectError(.unsupportedCompression, kafkaCode: 76) {
            _ = try LegacyMessageSet.parse(zstd, decompressionLimit: limit)
        }
        let codec5 = try wrapper(inner, magic: 1, codec: .gzip, codecBits: 5)
        expectError(.unsupportedCompression) { _ = try LegacyMessageSet.parse(codec5, decompressionLimit: limit) }

        // Magic 2 (a record batch) and other values.
        let batch = try v2Batch(fixtureTestRecords(), baseOffset: 0)
        expectError(.invalidMagic, kafkaCode: 2) { _ = try LegacyMessageSet.parse(batch, decompressionLimit: limit) }
        var magic3 = try entry(magic: 1, value: value)
        magic3.setInteger(Int8(3), at: 16)
        expectError(.invalidMagic) { _ = try LegacyMessageSet.parse(magic3, decompressionLimit: limit) }

        // A size below the header of its magic, or below any message.
        var small = try entry(magic: 1, value: value)
        small.setInteger(Int32(20), at: 8)
        expectError(.invalidLength, kafkaCode: 2) { _ = try LegacyMessageSet.parse(small, decompressionLimit: limit) }
        small.setInteger(Int32(13), at: 8)
        expectError(.invalidLength) { _ = try LegacyMessageSet.parse(small, decompressionLimit: limit) }
        small.setInteger(Int32(-1), at: 8)
        expectError(.invalidLength) { _ = try LegacyMessageSet.parse(small, decompressionLimit: limit) }

        // Key and value lengths that do not fill the message exactly (CRCs made right).
        for (fieldOffset, fieldValue) in [(26, Int32(1_000_000)), (26, -2), (30, 2), (30, 0), (30, Int32.max)] {
            var bad = try entry(magic: 1, key: nil, value: value)
            bad.setInteger(fieldValue, at: fieldOffset)
            bad.setInteger(CRC32IEEE.checksum(bad, at: 16, length: bad.readableBytes - 16)!, at: 12)
            expectError(.invalidRecord) { _ = try LegacyMessageSet.parse(bad, decompressionLimit: limit) }
        }

        // A wrapper with a null value, with no inner messages, or with another magic inside.
        let nullValue = try entry(magic: 0, attributes: 1, value: nil)
        expectError(.invalidRecord) { _ = try LegacyMessageSet.parse(nullValue, decompressionLimit: limit) }
        let empty = try wrapper(ByteBuffer(), magic: 1, codec: .gzip)
        expectError(.invalidRecord) { _ = try LegacyMessageSet.parse(empty, decompressionLimit: limit) }
        let mismatched = try wrapper(inner, magic: 0, codec: .snappy)
        expectError(.invalidRecord) { _ = try LegacyMessageSet.parse(mismatched, decompressionLimit: limit) }
    }

    @Test func magicOfRecordsPeeksAtByteSixteen() throws {
        #expect(LegacyMessageSet.magic(of: LegacyFixtures.produced[0].bytes) == 0)
        #expect(LegacyMessageSet.magic(of: LegacyFixtures.produced[1].bytes) == 1)
        #expect(LegacyMessageSet.magic(of: try v2Batch(fixtureTestRecords(), baseOffset: 0)) == 2)
        #expect(LegacyMessageSet.magic(of: ByteBuffer(repeating: 0, count: 16)) == nil)
    }
}
