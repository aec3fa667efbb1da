import NIOCore
import TernCompression
import Testing

@testable import TernRecords

/// Compressed batches go through `TernCompression`, whose codecs are implemented separately; each
/// codec's tests run once that codec is available in the build.
@Suite struct CompressedBatchTests {
    @Test(.enabled(if: codecIsAvailable(.gzip), "gzip is not implemented in TernCompression yet"))
    func gzipRoundTrip() throws { try self.roundTrip(.gzip) }

    @Test(.enabled(if: codecIsAvailable(.snappy), "snappy is not implemented in TernCompression yet"))
    func snappyRoundTrip() throws { try self.roundTrip(.snappy) }

    @Test(.enabled(if: codecIsAvailable(.lz4), "lz4 is not implemented in TernCompression yet"))
    func lz4RoundTrip() throws { try self.roundTrip(.lz4) }

    @Test(.enabled(if: codecIsAvailable(.zstd), "zstd is not implemented in TernCompression yet"))
    func zstdRoundTrip() throws { try self.roundTrip(.zstd) }

    @Test(.enabled(if: [.gzip, .lz4, .zstd].allSatisfy(codecIsAvailable), "needs gzip, lz4 and zstd"))
    func compressionLevelsRoundTrip() throws {
        let records = (0..<300).map(Self.record(_:))
        let expected = records.enumerated().map { $0.element.expected(offset: Int64($0.offset)) }
        for (codec, levels) in [(CompressionCodec.gzip, [1, 9]), (.lz4, [0, 9]), (.zstd, [1, 19])] {
            var sizes: [Int] = []
            for level in levels {
                var builder = RecordBatchBuilder(codec: codec, compressionLevel: level)
                for record in records {
                    builder.append(
                        key: record.key,
                        value: record.value,
                        headers: record.headers,
                        timestampMs: record.timestampMs
                    )
                }
                let batch = try RecordBatch(try builder.build())
                try batch.validate()
                #expect(try readAll(batch) == expected, "\(codec) level \(level)")
                sizes.append(batch.byteCount)
            }
            #expect(sizes[1] <= sizes[0], "\(codec): a higher level should not compress worse here")
        }
    }

    /// The codec reserves room for incompressible input; the builder hands back a right-sized buffer.
    @Test(.enabled(if: codecIsAvailable(.zstd), "zstd is not implemented in TernCompression yet"))
    func compressedBatchIsRightSized() throws {
        let value = ByteBuffer(repeating: 0x61, count: 1000)
        var builder = RecordBatchBuilder(codec: .zstd)
        for index in 0..<1000 {
            builder.append(key: nil, value: value, timestampMs: Int64(index))
        }
        let bytes = try builder.build()
        #expect(bytes.readableBytes < 10_000)
        #expect(bytes.capacity <= 2 * max(bytes.readableBytes, 4096))
    }

    /// Repetitive values (so every codec shrinks them), some null keys and values, some headers,
    /// timestamps around the first one.
    private static func record(_ index: Int) -> TestRecord {
        let key: ByteBuffer? = index % 7 == 0 ? nil : ByteBuffer(string: "key-\(index)")
        let value: ByteBuffer? =
            index % 11 == 0 ? nil : ByteBuffer(string: String(repeating: "payload \(index % 5) ", count: 20))
        let headers: [RecordHeader] =
            index % 3 == 0 ? [RecordHeader(key: "i", value: ByteBuffer(string: "\(index)"))] : []
        let timestampMs: Int64 = 1_700_000_000_000 + Int64(index * 3 % 17) - 8
        return TestRecord(key: key, value: value, headers: headers, timestampMs: timestampMs)
    }

    private func roundTrip(_ codec: CompressionCodec, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let records = (0..<200).map(Self.record(_:))
        let plain = try buildBatch(records)
        let compressed = try buildBatch(records, codec: codec, producerId: 5, producerEpoch: 1, baseSequence: 100)
        #expect(compressed.readableBytes < plain.readableBytes, "\(codec) should shrink repetitive values")

        var batch = try RecordBatch(compressed)
        try batch.validate()
        try batch.validateProducerBatch()
        #expect(batch.attributes.codec == codec, sourceLocation: sourceLocation)
        #expect(batch.recordCount == 200)
        #expect(batch.lastOffsetDelta == 199)
        // The header fields are the same as the uncompressed batch's apart from codec and producer state.
        let plainBatch = try RecordBatch(plain)
        #expect(batch.baseTimestampMs == plainBatch.baseTimestampMs)
        #expect(batch.maxTimestampMs == plainBatch.maxTimestampMs)
        #expect(
            try batch.uncompressedRecordsSection(decompressionLimit: 1 << 20) == plainBatch.recordsSection,
            sourceLocation: sourceLocation
        )

        let expected = records.enumerated().map { $0.element.expected(offset: Int64($0.offset)) }
        try batch.validateRecords(decompressionLimit: 1 << 20)
        #expect(try readAll(batch) == expected, sourceLocation: sourceLocation)
        #expect(Array(try batch.records(decompressionLimit: 1 << 20)) == expected, sourceLocation: sourceLocation)

        // Patching the header of a compressed batch does not touch the compressed bytes.
        batch.setBaseOffset(1_000)
        batch.setMaxTimestampAndLogAppendTime(42)
        try batch.validate()
        #expect(try readAll(batch).map(\.offset) == Array(1_000..<1_200))

        let sectionByteCount = plainBatch.recordsSection.readableBytes
        let limitError = try #require(throws: RecordBatchError.self, sourceLocation: sourceLocation) {
            try batch.validateRecords(decompressionLimit: sectionByteCount - 1)
        }
        #expect(limitError.code == .decompressionLimitExceeded, sourceLocation: sourceLocation)

        // Garbage in place of the compressed stream (CRC rewritten so only the codec can object).
        var garbled = compressed
        for index in 61..<garbled.writerIndex {
            garbled.setInteger(UInt8(truncatingIfNeeded: index &* 131), at: index)
        }
        garbled.fixBatchCRC()
        let garbledBatch = try RecordBatch(garbled)
        try garbledBatch.validate()
        let garbledError = try #require(throws: RecordBatchError.self, sourceLocation: sourceLocation) {
            try garbledBatch.validateRecords(decompressionLimit: 1 << 20)
        }
        #expect(
            garbledError.code == .decompressionFailed || garbledError.code == .invalidRecord
                || garbledError.code == .invalidRecordCount,
            "\(garbledError)",
            sourceLocation: sourceLocation
        )
    }
}
