import NIOCore
import TernCompression
import Testing

@Suite("Round trips")
struct RoundTripTests {
    enum Payload: String, CaseIterable, Sendable, CustomStringConvertible {
        case empty, small, random1MiB, compressible1MiB

        static let random = randomBytes(mebibyte, seed: 42)
        static let compressible = compressibleBytes(mebibyte)

        var bytes: [UInt8] {
            switch self {
            case .empty: []
            case .small: Array("hello, tern".utf8)
            case .random1MiB: Self.random
            case .compressible1MiB: Self.compressible
            }
        }

        var description: String { self.rawValue }
    }

    @Test(arguments: CompressionCodec.allCases, Payload.allCases)
    func roundTrip(codec: CompressionCodec, payload: Payload) throws {
        let input = buffer(payload.bytes)
        let compressed = try Compression.compress(input, codec: codec)
        #expect(codec == .none || compressed.readableBytes > 0)
        let output = try Compression.decompress(compressed, codec: codec, limit: payload.bytes.count)
        #expect(bytes(output) == payload.bytes)
        if payload == .compressible1MiB {
            #expect(codec == .none || compressed.readableBytes < payload.bytes.count / 3)
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func limitIsInclusive(codec: CompressionCodec) throws {
        let payload = Payload.compressible.prefix(100_000)
        let compressed = try Compression.compress(buffer(payload), codec: codec)
        let output = try Compression.decompress(compressed, codec: codec, limit: payload.count)
        #expect(bytes(output) == Array(payload))
        #expect(throws: error(.outputLimitExceeded)) {
            try Compression.decompress(compressed, codec: codec, limit: payload.count - 1)
        }
    }

    @Test(arguments: compressingCodecs)
    func emptyPayloadFitsZeroLimit(codec: CompressionCodec) throws {
        let compressed = try Compression.compress(buffer([]), codec: codec)
        #expect(try Compression.decompress(compressed, codec: codec, limit: 0).readableBytes == 0)
    }

    @Test(arguments: compressingCodecs)
    func outputCapacityStaysNearTheLimit(codec: CompressionCodec) throws {
        let compressed = try Compression.compress(buffer(Payload.compressible), codec: codec)
        let output = try Compression.decompress(compressed, codec: codec, limit: mebibyte)
        #expect(output.capacity <= mebibyte)
    }

    @Test(arguments: [
        (CompressionCodec.gzip, [1, 9, -1, 0, 42, -7]),
        (.lz4, [0, 1, 9, 12, 99, -5]),
        (.zstd, [1, 3, 19, -5, 99]),
        (.snappy, [1, 9]),
    ])
    func levels(codec: CompressionCodec, levels: [Int]) throws {
        let payload = Array(Payload.compressible.prefix(200_000))
        for level in levels {
            let compressed = try Compression.compress(buffer(payload), codec: codec, level: level)
            let output = try Compression.decompress(compressed, codec: codec, limit: payload.count)
            #expect(bytes(output) == payload, "level \(level)")
        }
    }

    @Test(arguments: CompressionCodec.allCases)
    func compressAppendsAfterExistingBytes(codec: CompressionCodec) throws {
        let header: [UInt8] = Array(repeating: 0xAB, count: 61)
        let payload = Array(Payload.compressible.prefix(50_000))
        var output = buffer(header)
        try Compression.compress(buffer(payload), codec: codec, into: &output)
        #expect(output.readBytes(length: header.count) == header)
        #expect(bytes(try Compression.decompress(output, codec: codec, limit: payload.count)) == payload)
    }

    @Test func compressedBufferIsRightSized() throws {
        let compressed = try Compression.compress(buffer(Payload.compressible), codec: .zstd)
        #expect(compressed.capacity <= 2 * max(compressed.readableBytes, 4096))
    }

    /// Framing details other Kafka clients depend on.
    @Test func writesTheFormatsKafkaClientsRead() throws {
        let payload = buffer(Payload.random)

        let gzip = bytes(try Compression.compress(payload, codec: .gzip))
        #expect(gzip.prefix(3) == [0x1F, 0x8B, 0x08])

        // Java's KafkaLZ4BlockInputStream decodes every block on its own: independent blocks required.
        let lz4 = bytes(try Compression.compress(payload, codec: .lz4))
        #expect(lz4.prefix(4) == [0x04, 0x22, 0x4D, 0x18])
        #expect(lz4[4] == 0x60, "FLG: version 1, independent blocks, no checksums, no content size")
        #expect(lz4[5] == 0x40, "BD: 64 KiB blocks")

        let zstd = bytes(try Compression.compress(payload, codec: .zstd))
        #expect(zstd.prefix(4) == [0x28, 0xB5, 0x2F, 0xFD])

        // xerial framing: magic, version 1, compatible version 1, then 32 KiB blocks.
        let snappy = bytes(try Compression.compress(payload, codec: .snappy))
        #expect(snappy.prefix(16) == [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
        var offset = 16
        var blocks = 0
        while offset + 4 <= snappy.count {
            let length = snappy[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let block = buffer(snappy[offset + 4..<offset + 4 + length])
            let decoded = try Compression.decompress(block, codec: .snappy, limit: 32 * 1024)
            #expect(decoded.readableBytes == 32 * 1024)
            offset += 4 + length
            blocks += 1
        }
        #expect(offset == snappy.count)
        #expect(blocks == 32)
    }
}
