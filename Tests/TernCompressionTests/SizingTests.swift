import NIOCore
import TernCompression
import Testing

/// The output is sized from what the frame headers declare (lz4 and zstd content sizes, stored and RLE
/// block lengths, compressed blocks' maximum output) when that fits the limit, and grown step by step
/// otherwise. Declarations are only hints: a frame that lies decodes correctly or fails cleanly, and
/// never past the limit.
@Suite("Output sizing")
struct SizingTests {
    static let payload = compressibleBytes(100_000)

    /// Our lz4 frames: no content size, two 64 KiB blocks (the second one partly used).
    static let lz4Frame = bytes(try! Compression.compress(buffer(payload), codec: .lz4))

    /// The xxHash-32 (seed 0) of up to 15 bytes, second byte: the lz4 frame header checksum.
    static func lz4HeaderChecksum(_ descriptor: [UInt8]) -> UInt8 {
        precondition(descriptor.count < 16, "only the short-input path of xxHash-32")
        let prime1: UInt32 = 2_654_435_761
        let prime2: UInt32 = 2_246_822_519
        let prime3: UInt32 = 3_266_489_917
        let prime4: UInt32 = 668_265_263
        let prime5: UInt32 = 374_761_393
        func rotated(_ value: UInt32, _ count: UInt32) -> UInt32 { value << count | value >> (32 - count) }
        var hash = prime5 &+ UInt32(descriptor.count)
        var index = 0
        while index + 4 <= descriptor.count {
            var word: UInt32 = 0
            for i in 0..<4 { word |= UInt32(descriptor[index + i]) << (8 * i) }
            hash = rotated(hash &+ word &* prime3, 17) &* prime4
            index += 4
        }
        for byte in descriptor[index...] { hash = rotated(hash &+ UInt32(byte) &* prime5, 11) &* prime1 }
        hash ^= hash >> 15
        hash = hash &* prime2
        hash ^= hash >> 13
        hash = hash &* prime3
        hash ^= hash >> 16
        return UInt8(hash >> 8 & 0xFF)
    }

    /// `lz4Frame` with a header that declares `contentSize`, true or not.
    static func lz4Frame(declaring contentSize: UInt64) -> [UInt8] {
        let frame = Self.lz4Frame
        // Magic, FLG, BD, header checksum: no content size or dictionary ID yet.
        precondition(frame[4] & 0x09 == 0 && frame[6] == Self.lz4HeaderChecksum([frame[4], frame[5]]))
        var descriptor = [frame[4] | 0x08, frame[5]]
        withUnsafeBytes(of: contentSize.littleEndian) { descriptor += $0 }
        return Array(frame[0..<4]) + descriptor + [Self.lz4HeaderChecksum(descriptor)] + frame[7...]
    }

    @Test func lz4WithoutContentSizeIsSizedFromItsBlocks() throws {
        let output = try Compression.decompress(buffer(Self.lz4Frame), codec: .lz4, limit: mebibyte)
        #expect(bytes(output) == Self.payload)
        // Two blocks of at most 64 KiB. (ByteBuffer allocates powers of two.)
        #expect(output.capacity == 2 * 65_536)
        // Below the blocks' bound the limit caps the buffer, and the last byte still counts.
        let exact = try Compression.decompress(buffer(Self.lz4Frame), codec: .lz4, limit: Self.payload.count)
        #expect(bytes(exact) == Self.payload)
        #expect(throws: error(.outputLimitExceeded)) {
            try Compression.decompress(buffer(Self.lz4Frame), codec: .lz4, limit: Self.payload.count - 1)
        }
    }

    @Test func lz4ContentSizeSizesTheOutputExactly() throws {
        let frame = buffer(Self.lz4Frame(declaring: UInt64(Self.payload.count)))
        let output = try Compression.decompress(frame, codec: .lz4, limit: mebibyte)
        #expect(bytes(output) == Self.payload)
        #expect(output.capacity == 131_072, "100,000 rounded up to a power of two")
        #expect(throws: error(.outputLimitExceeded)) {
            try Compression.decompress(frame, codec: .lz4, limit: Self.payload.count - 1)
        }
    }

    @Test func lz4ContentSizeOverTheLimitIsRefusedUpFront() {
        let frame = buffer(Self.lz4Frame(declaring: 6 << 30))
        #expect(throws: error(.outputLimitExceeded)) {
            try Compression.decompress(frame, codec: .lz4, limit: mebibyte)
        }
    }

    @Test(arguments: [1, 1000, 99_999, 100_001, 131_072, 200_000])
    func lz4ContentSizeThatLies(declared: Int) {
        let frame = buffer(Self.lz4Frame(declaring: UInt64(declared)))
        for limit in [mebibyte, Self.payload.count, declared] {
            #expect(throws: CompressionError.self, "limit \(limit)") {
                try Compression.decompress(frame, codec: .lz4, limit: limit)
            }
        }
        // Under a limit that leaves room for the real data, it is the lie that fails, not the limit.
        #expect(throws: error(.corruptInput)) {
            try Compression.decompress(frame, codec: .lz4, limit: mebibyte)
        }
    }

    /// A single-segment zstd frame that declares `declared` bytes and holds one 128 KiB RLE block.
    static func zstdFrame(declaring declared: UInt32) -> ByteBuffer {
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xA0]  // 4-byte content size, single segment
        withUnsafeBytes(of: declared.littleEndian) { frame += $0 }
        frame += [0x03, 0x00, 0x10, 0x5A]  // last block, RLE, 128 KiB of 0x5A
        return buffer(frame)
    }

    @Test func zstdDeclaredSizeLargerThanTheData() {
        for limit in [mebibyte, 150_000, 140_000] {
            #expect(throws: error(.corruptInput), "limit \(limit)") {
                try Compression.decompress(Self.zstdFrame(declaring: 140_000), codec: .zstd, limit: limit)
            }
        }
        #expect(throws: error(.outputLimitExceeded)) {
            try Compression.decompress(Self.zstdFrame(declaring: 140_000), codec: .zstd, limit: 139_999)
        }
        let honest = try? Compression.decompress(Self.zstdFrame(declaring: 131_072), codec: .zstd, limit: 131_072)
        #expect(honest == ByteBuffer(repeating: 0x5A, count: 131_072))
    }

    /// Frames that declare their sizes count towards the limit together, and size the output exactly.
    @Test func zstdConcatenatedFramesAreSizedTogether() throws {
        let first = bytes(try Compression.compress(buffer(Self.payload), codec: .zstd))
        let second = bytes(try Compression.compress(buffer(Self.payload.reversed()), codec: .zstd))
        let both = buffer(first + second)
        let output = try Compression.decompress(both, codec: .zstd, limit: mebibyte)
        #expect(bytes(output) == Self.payload + Self.payload.reversed())
        #expect(output.capacity == 262_144, "200,000 rounded up to a power of two")
        #expect(throws: error(.outputLimitExceeded)) {
            try Compression.decompress(both, codec: .zstd, limit: 2 * Self.payload.count - 1)
        }
    }

    /// zstd CLI frames without a content size: decoded in one call when their blocks' bound fits the limit,
    /// in steps when only the real size does.
    @Test(arguments: InteropFixtures.zstdFixtures)
    func zstdStreamingFramesUnderEitherPath(fixture: InteropFixtures.Fixture) throws {
        let compressed = buffer(decodeBase64(fixture.base64))
        let expected = Array(InteropFixtures.fullText[fixture.expected])
        for limit in [mebibyte, expected.count + 1, expected.count] {
            let output = try Compression.decompress(compressed, codec: .zstd, limit: limit)
            #expect(bytes(output) == expected, "limit \(limit)")
            // Not the 128 KiB (or more) that the blocks' bound allocated.
            #expect(output.capacity <= 65_536, "limit \(limit)")
        }
    }

    /// Skippable frames decode to nothing, in front of either codec's frames.
    @Test func skippableFramesAreStepped() throws {
        let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]
        let zstd = bytes(try Compression.compress(buffer(Self.payload), codec: .zstd))
        for (codec, frame) in [(CompressionCodec.zstd, zstd), (.lz4, Self.lz4Frame)] {
            let output = try Compression.decompress(buffer(skippable + frame), codec: codec, limit: mebibyte)
            #expect(bytes(output) == Self.payload, "\(codec)")
        }
    }

    /// Estimates may overshoot a small output many times over (an lz4 block may hold 64 KiB, a zstd one
    /// 128 KiB); what is handed back is no larger than a guess would have allocated.
    @Test(arguments: compressingCodecs)
    func smallOutputsAreRightSized(codec: CompressionCodec) throws {
        let small = Array(Self.payload.prefix(2000))
        let compressed = try Compression.compress(buffer(small), codec: codec)
        let output = try Compression.decompress(compressed, codec: codec, limit: mebibyte)
        #expect(bytes(output) == small)
        #expect(output.capacity <= 16_384)
    }
}
