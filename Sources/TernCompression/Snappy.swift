internal import CSnappy
import NIOCore

/// snappy, in the two shapes Kafka clients write: the xerial framing of Java's SnappyOutputStream
/// (16-byte header, then blocks each prefixed with a big-endian int32 compressed length) and a bare
/// snappy block (librdkafka, kafka-python with `xerial_compatible=False`).
enum SnappyCodec {
    /// 0x82 "SNAPPY" 0x00: xerial's magic, followed by int32 BE version and minimum compatible version.
    private static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    private static let xerialHeaderCount = 16
    /// xerial's default block size, which is what the Java client writes.
    private static let xerialBlockSize = 32 * 1024

    /// Writes the xerial framing with 32 KiB blocks, byte-compatible with what the Java producer
    /// writes, so Java consumers (xerial's SnappyInputStream) read it natively; librdkafka and
    /// kafka-python detect the xerial magic and decode it too. A raw block would save only 16 bytes plus
    /// 4 per 32 KiB, and would make every decoder allocate the whole output for one block.
    static func compress(_ input: ByteBuffer, into output: inout ByteBuffer) throws(CompressionError) {
        try input.withUnsafeReadableBytes { (source) throws(CompressionError) in
            let blocks = (source.count + self.xerialBlockSize - 1) / self.xerialBlockSize
            let bound = self.xerialHeaderCount + blocks * (4 + snappy_max_compressed_length(self.xerialBlockSize))
            try output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) {
                (destination) throws(CompressionError) -> Int in
                var written = 0
                func put(_ bytes: some Sequence<UInt8>) {
                    for byte in bytes {
                        destination[written] = byte
                        written += 1
                    }
                }
                put(self.xerialMagic)
                put(self.bigEndian(1))  // version
                put(self.bigEndian(1))  // minimum compatible version
                var offset = 0
                while offset < source.count {
                    let count = min(self.xerialBlockSize, source.count - offset)
                    var compressedCount = destination.count - written - 4
                    let status = snappy_compress(
                        source.baseAddress! + offset,
                        count,
                        destination.baseAddress! + written + 4,
                        &compressedCount
                    )
                    guard status == SNAPPY_OK else { throw .library(.snappy, "snappy_compress returned \(status)") }
                    put(self.bigEndian(UInt32(compressedCount)))
                    written += compressedCount
                    offset += count
                }
                return written
            }
        }
    }

    static func decompress(_ input: ByteBuffer, limit: Int) throws(CompressionError) -> ByteBuffer {
        try input.withUnsafeReadableBytes { (source) throws(CompressionError) -> ByteBuffer in
            if source.starts(with: self.xerialMagic) {
                return try self.decompressXerial(source, limit: limit)
            }
            return try self.decompressBlocks([source], limit: limit)
        }
    }

    /// Splits the xerial framing into its blocks; the version fields are ignored, as librdkafka does
    /// (xerial has only ever written 1 and 1).
    private static func decompressXerial(
        _ source: UnsafeRawBufferPointer,
        limit: Int
    ) throws(CompressionError) -> ByteBuffer {
        guard source.count >= self.xerialHeaderCount else { throw .corrupt(.snappy, "truncated xerial header") }
        var blocks: [UnsafeRawBufferPointer] = []
        var offset = self.xerialHeaderCount
        while offset < source.count {
            guard source.count - offset >= 4 else { throw .corrupt(.snappy, "truncated xerial block length") }
            var count = 0
            for i in 0..<4 { count = count << 8 | Int(source[offset + i]) }
            offset += 4
            guard count > 0, count <= source.count - offset else {
                throw .corrupt(.snappy, "xerial block length \(count) with \(source.count - offset) bytes left")
            }
            blocks.append(UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]))
            offset += count
        }
        return try self.decompressBlocks(blocks, limit: limit)
    }

    /// Decodes raw snappy blocks into one buffer. Each block states its uncompressed length up front,
    /// so the total is checked against the limit before anything is allocated, and allocated once.
    private static func decompressBlocks(
        _ blocks: [UnsafeRawBufferPointer],
        limit: Int
    ) throws(CompressionError) -> ByteBuffer {
        var lengths: [Int] = []
        lengths.reserveCapacity(blocks.count)
        var total = 0
        for block in blocks {
            var length = 0
            guard snappy_uncompressed_length(self.chars(block), block.count, &length) == SNAPPY_OK else {
                throw .corrupt(.snappy, "bad block length header")
            }
            // No snappy element expands more than 64 bytes from 3 (a copy with a 2-byte offset), so a
            // larger declared length is a lie, whatever the limit.
            guard length / 22 <= block.count else { throw .corrupt(.snappy, "declared length \(length) too large") }
            // Checked per block, so a sum of declared lengths cannot overflow before it trips.
            guard length <= limit - total else { throw .limitExceeded(.snappy, limit: limit) }
            total += length
            lengths.append(length)
        }

        var output = ByteBufferAllocator().buffer(capacity: total)
        for (block, length) in zip(blocks, lengths) {
            if length == 0 {
                // Nothing to write, but the block must still be well-formed (and there may be no
                // destination pointer for snappy_uncompress to take).
                guard snappy_validate_compressed_buffer(self.chars(block), block.count) == SNAPPY_OK else {
                    throw .corrupt(.snappy, "invalid block")
                }
                continue
            }
            try output.writeWithUnsafeMutableBytes(minimumWritableBytes: length) {
                (destination) throws(CompressionError) -> Int in
                var written = length
                let status = snappy_uncompress(
                    self.chars(block),
                    block.count,
                    destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                    &written
                )
                guard status == SNAPPY_OK, written == length else { throw .corrupt(.snappy, "invalid block") }
                return written
            }
        }
        return output
    }

    private static func chars(_ block: UnsafeRawBufferPointer) -> UnsafePointer<CChar>? {
        block.baseAddress?.assumingMemoryBound(to: CChar.self)
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
