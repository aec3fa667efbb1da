import NIOCore
import TernCompression
import Testing

/// zstd decompression contexts are pooled and reused: a call that fails halfway through a frame must not
/// leave anything behind for the next one, and concurrent calls must never share one.
@Suite("zstd context reuse")
struct ZstdContextTests {
    static let fixture = decodeBase64(InteropFixtures.zstdStreaming.base64)
    static let expected = InteropFixtures.fullText

    /// A frame with a 1 KiB window (so decoding it leaves the context small enough to be kept) cut off
    /// after two 1 KiB RLE blocks: the streaming decoder stops halfway through it.
    static let truncated: ByteBuffer = {
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x00]  // no content size; window 2^10
        let header = UInt32(1) << 1 | UInt32(1024) << 3  // not last, RLE, 1 KiB
        for _ in 0..<2 { frame += [UInt8(header & 0xFF), UInt8(header >> 8 & 0xFF), UInt8(header >> 16), 0x61] }
        return buffer(frame)
    }()

    @Test func failuresLeaveNothingBehind() throws {
        let truncated = Self.truncated
        let bomb = BoundsTests.zstdRLEFrame(blocks: 9)
        var damaged = Self.fixture
        damaged[damaged.count - 1] ^= 0x10
        for _ in 0..<3 {
            #expect(throws: error(.corruptInput)) {
                try Compression.decompress(truncated, codec: .zstd, limit: mebibyte)
            }
            // Step by step (the blocks' bound is over this limit), on the context the failure used.
            let stepped = try Compression.decompress(buffer(Self.fixture), codec: .zstd, limit: Self.expected.count)
            #expect(bytes(stepped) == Self.expected)
            #expect(throws: error(.outputLimitExceeded)) {
                try Compression.decompress(bomb, codec: .zstd, limit: mebibyte)
            }
            #expect(throws: error(.corruptInput)) {
                try Compression.decompress(buffer(damaged), codec: .zstd, limit: mebibyte)
            }
            let whole = try Compression.decompress(buffer(Self.fixture), codec: .zstd, limit: mebibyte)
            #expect(bytes(whole) == Self.expected)
        }
    }

    @Test func concurrentCalls() async throws {
        let inputs: [(ByteBuffer, [UInt8])] = [
            (buffer(Self.fixture), Self.expected),
            (try Compression.compress(buffer(compressibleBytes(300_000)), codec: .zstd), compressibleBytes(300_000)),
            (BoundsTests.zstdRLEFrame(blocks: 3), [UInt8](repeating: 0x5A, count: 3 * 128 * 1024)),
        ]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for round in 0..<20 {
                        let (input, expected) = inputs[(task + round) % inputs.count]
                        // Alternate between one call and steps (a limit just fitting the output).
                        let limit = round % 2 == 0 ? 4 * mebibyte : expected.count
                        let output = try Compression.decompress(input, codec: .zstd, limit: limit)
                        #expect(bytes(output) == expected)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
