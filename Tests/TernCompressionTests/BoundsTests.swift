import NIOCore
import TernCompression
import Testing

@Suite("Bounded decompression")
struct BoundsTests {
    /// 100 MiB of zeros, compressed once per codec by our own encoder.
    static let bombs: [CompressionCodec: ByteBuffer] = {
        let zeros = ByteBuffer(repeating: 0, count: 100 * mebibyte)
        var bombs: [CompressionCodec: ByteBuffer] = [:]
        for codec in compressingCodecs {
            bombs[codec] = try! Compression.compress(zeros, codec: codec)
        }
        return bombs
    }()

    /// The tests below must finish in milliseconds; this bound only catches decoding the whole bomb
    /// or allocating for it, with room for a loaded machine.
    static let quickly = Duration.seconds(5)

    @Test(arguments: compressingCodecs)
    func zipBombStopsAtTheLimit(codec: CompressionCodec) throws {
        let bomb = try #require(Self.bombs[codec])
        #expect(bomb.readableBytes < 6 * mebibyte)
        let elapsed = ContinuousClock().measure {
            #expect(throws: error(.outputLimitExceeded)) {
                try Compression.decompress(bomb, codec: codec, limit: mebibyte)
            }
        }
        #expect(elapsed < Self.quickly)
    }

    @Test(arguments: compressingCodecs)
    func zipBombDecodesUnderAHighEnoughLimit(codec: CompressionCodec) throws {
        let bomb = try #require(Self.bombs[codec])
        let output = try Compression.decompress(bomb, codec: codec, limit: 100 * mebibyte)
        #expect(output.readableBytes == 100 * mebibyte)
        #expect(output == ByteBuffer(repeating: 0, count: 100 * mebibyte))
    }

    /// A zstd frame with no content size (as streaming writers like Java's produce) made of RLE blocks,
    /// each expanding 4 bytes into 128 KiB.
    static func zstdRLEFrame(blocks: Int, byte: UInt8 = 0x5A) -> ByteBuffer {
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
        frame.append(0x00)  // frame header descriptor: no content size, not single segment, no checksum
        frame.append(0x38)  // window descriptor: 2^(10 + 7) = 128 KiB
        for index in 0..<blocks {
            // Block header, 24 bits little-endian: last-block flag, type 1 (RLE), size 128 KiB.
            let header = UInt32(index == blocks - 1 ? 1 : 0) | 1 << 1 | UInt32(128 * 1024) << 3
            frame += [UInt8(header & 0xFF), UInt8(header >> 8 & 0xFF), UInt8(header >> 16), byte]
        }
        return buffer(frame)
    }

    @Test func zstdStreamingFrameAtExactlyTheLimit() throws {
        let output = try Compression.decompress(Self.zstdRLEFrame(blocks: 8), codec: .zstd, limit: mebibyte)
        #expect(output.readableBytes == mebibyte)
        #expect(output == ByteBuffer(repeating: 0x5A, count: mebibyte))
        #expect(output.capacity == mebibyte)
        #expect(throws: error(.outputLimitExceeded)) {
            try Compression.decompress(Self.zstdRLEFrame(blocks: 9), codec: .zstd, limit: mebibyte)
        }
    }

    /// 6 GiB of output from 192 KiB: more than a ByteBuffer can hold, so decoding it all would trap.
    @Test func zstdStreamingBombLargerThanAnyBuffer() {
        let bomb = Self.zstdRLEFrame(blocks: 6 * 8 * 1024)
        let elapsed = ContinuousClock().measure {
            #expect(throws: error(.outputLimitExceeded)) {
                try Compression.decompress(bomb, codec: .zstd, limit: mebibyte)
            }
        }
        #expect(elapsed < Self.quickly)
    }

    /// Limits beyond what a ByteBuffer can hold act as its maximum rather than overflowing anything.
    @Test(arguments: compressingCodecs)
    func unboundedLimit(codec: CompressionCodec) throws {
        let payload = compressibleBytes(100_000)
        let compressed = try Compression.compress(buffer(payload), codec: codec)
        #expect(bytes(try Compression.decompress(compressed, codec: codec, limit: Int.max)) == payload)
    }

    @Test func zstdDeclaredSizeOverTheLimitIsRefusedUpFront() {
        // Single-segment frame declaring 6 GiB in an 8-byte content size field, then one RLE block.
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0xE0]
        withUnsafeBytes(of: UInt64(6 << 30).littleEndian) { frame += $0 }
        frame += [0x03, 0x00, 0x10, 0x00]
        let elapsed = ContinuousClock().measure {
            #expect(throws: error(.outputLimitExceeded)) {
                try Compression.decompress(buffer(frame), codec: .zstd, limit: mebibyte)
            }
        }
        #expect(elapsed < Self.quickly)
    }

    @Test func zstdDeclaredSizeSmallerThanTheDataIsCorrupt() {
        // Declares 1,000 bytes, then carries 128 KiB.
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x60]  // content size in 2 bytes (+256), single segment
        withUnsafeBytes(of: UInt16(1000 - 256).littleEndian) { frame += $0 }
        frame += [0x03, 0x00, 0x10, 0x00]
        #expect(throws: error(.corruptInput)) {
            try Compression.decompress(buffer(frame), codec: .zstd, limit: mebibyte)
        }
    }

    @Test func snappyDeclaredLengthIsCheckedBeforeAllocating() {
        // A raw block declaring 4 GiB - 1 (varint) and nothing behind it: impossible for 5 bytes.
        let lying = buffer([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00])
        #expect(throws: error(.corruptInput)) {
            try Compression.decompress(lying, codec: .snappy, limit: Int.max)
        }
        // Lengths a block of this size could reach are refused by the limit first.
        var plausible = [UInt8](repeating: 0, count: 100_000)
        plausible.replaceSubrange(0..<4, with: [0x80, 0x80, 0x80, 0x01])  // 2 MiB
        #expect(throws: error(.outputLimitExceeded)) {
            try Compression.decompress(buffer(plausible), codec: .snappy, limit: mebibyte)
        }
    }

    @Test func snappyXerialBlocksCountTowardsTheLimitTogether() throws {
        let payload = compressibleBytes(200_000)
        let compressed = try Compression.compress(buffer(payload), codec: .snappy)
        #expect(throws: error(.outputLimitExceeded)) {
            try Compression.decompress(compressed, codec: .snappy, limit: 150_000)
        }
    }
}
