import NIOCore
import TernCompression
import Testing

/// Decoding what other implementations wrote (see tools/gen_compression_fixtures.py).
@Suite("Interop fixtures")
struct InteropTests {
    @Test(arguments: [
        (CompressionCodec.zstd, InteropFixtures.zstdFixtures),
        (.gzip, InteropFixtures.gzipFixtures),
        (.lz4, InteropFixtures.lz4Fixtures),
        (.snappy, InteropFixtures.snappyFixtures),
    ])
    func decodesFixtures(codec: CompressionCodec, fixtures: [InteropFixtures.Fixture]) throws {
        for fixture in fixtures {
            let expected = Array(InteropFixtures.fullText[fixture.expected])
            let compressed = buffer(decodeBase64(fixture.base64))
            let output = try Compression.decompress(compressed, codec: codec, limit: expected.count)
            #expect(bytes(output) == expected, "\(fixture.name): \(fixture.origin)")
            #expect(throws: error(.outputLimitExceeded), "\(fixture.name)") {
                try Compression.decompress(compressed, codec: codec, limit: expected.count - 1)
            }
        }
    }

    @Test func fixtureShapes() {
        let xerial = decodeBase64(InteropFixtures.snappyXerial.base64)
        #expect(xerial.prefix(8) == [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00])
        let raw = decodeBase64(InteropFixtures.snappyRaw.base64)
        #expect(raw.prefix(3) == [0xAF, 0x87, 0x02], "varint of the 33,711-byte length")
        #expect(InteropFixtures.fullText.count == 33_711)
    }

    /// A xerial stream assembled by hand from the raw block kafka-python wrote, plus an empty block.
    @Test func handBuiltXerialFromARawBlock() throws {
        let raw = decodeBase64(InteropFixtures.snappyRaw.base64)
        var framed: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]
        for block in [raw, [0x00], raw] {
            framed += [UInt8(block.count >> 24), UInt8(block.count >> 16 & 0xFF)]
            framed += [UInt8(block.count >> 8 & 0xFF), UInt8(block.count & 0xFF)]
            framed += block
        }
        let output = try Compression.decompress(buffer(framed), codec: .snappy, limit: 2 * 33_711)
        #expect(bytes(output) == InteropFixtures.fullText + InteropFixtures.fullText)
    }
}
