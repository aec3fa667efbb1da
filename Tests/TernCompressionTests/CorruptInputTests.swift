import NIOCore
import TernCompression
import Testing

@Suite("Corrupt input")
struct CorruptInputTests {
    /// Random bytes then text, so every codec's output has both literal and match-heavy blocks, and
    /// snappy writes two xerial blocks.
    static let payload = randomBytes(20_000, seed: 9) + compressibleBytes(28_000)

    @Test(arguments: compressingCodecs)
    func emptyInput(codec: CompressionCodec) {
        #expect(throws: error(.corruptInput)) {
            try Compression.decompress(buffer([]), codec: codec, limit: mebibyte)
        }
    }

    @Test(arguments: compressingCodecs)
    func truncated(codec: CompressionCodec) throws {
        let compressed = bytes(try Compression.compress(buffer(Self.payload), codec: codec))
        for cut in [1, 4, 10, compressed.count / 2, compressed.count - 1] {
            #expect(throws: error(.corruptInput), "cut at \(cut) of \(compressed.count)") {
                try Compression.decompress(buffer(compressed.prefix(cut)), codec: codec, limit: mebibyte)
            }
        }
    }

    @Test(arguments: compressingCodecs)
    func trailingGarbage(codec: CompressionCodec) throws {
        let compressed = bytes(try Compression.compress(buffer(Self.payload), codec: codec))
        #expect(throws: error(.corruptInput)) {
            try Compression.decompress(buffer(compressed + [0x01, 0x02, 0x03]), codec: codec, limit: mebibyte)
        }
    }

    @Test(arguments: compressingCodecs)
    func garbage(codec: CompressionCodec) {
        let text = Array(String(repeating: "this is not compressed data; ", count: 40).utf8)
        // Not [0x00]: that is a valid raw snappy block of zero bytes.
        for junk in [text, randomBytes(5000, seed: 1), randomBytes(5000, seed: 2), [0x80], [0xFF]] {
            #expect(throws: error(.corruptInput), "\(junk.prefix(8))") {
                try Compression.decompress(buffer(junk), codec: codec, limit: 64 * mebibyte)
            }
        }
    }

    /// gzip always carries a CRC-32 of the content, and the CLI fixtures of zstd and lz4 carry content
    /// checksums: a damaged checksum must be noticed.
    @Test(arguments: [
        (CompressionCodec.gzip, InteropFixtures.gzipSingle, 8),  // CRC-32 is 8 bytes from the end
        (.zstd, InteropFixtures.zstdStreaming, 1),
        (.lz4, InteropFixtures.lz4Linked, 1),
    ])
    func damagedChecksum(codec: CompressionCodec, fixture: InteropFixtures.Fixture, fromEnd: Int) {
        var compressed = decodeBase64(fixture.base64)
        compressed[compressed.count - fromEnd] ^= 0x10
        #expect(throws: error(.corruptInput)) {
            try Compression.decompress(buffer(compressed), codec: codec, limit: mebibyte)
        }
    }

    @Test func snappyXerialHeaderOnlyIsEmpty() throws {
        let header: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]
        #expect(try Compression.decompress(buffer(header), codec: .snappy, limit: 0).readableBytes == 0)
        #expect(throws: error(.corruptInput)) {
            try Compression.decompress(buffer(header.prefix(12)), codec: .snappy, limit: mebibyte)
        }
        // A zero-length block is not a snappy block.
        #expect(throws: error(.corruptInput)) {
            try Compression.decompress(buffer(header + [0, 0, 0, 0]), codec: .snappy, limit: mebibyte)
        }
        // A block length running past the end.
        #expect(throws: error(.corruptInput)) {
            try Compression.decompress(buffer(header + [0, 0, 0, 9, 0x03, 0x08, 0x61]), codec: .snappy, limit: 9)
        }
    }
}
