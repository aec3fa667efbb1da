internal import CLZ4
import NIOCore

/// lz4: the standard LZ4 frame format, which magic 2 batches use. (Kafka 0.8–0.9 wrote a broken
/// header checksum, but only in magic 0 message sets, which Tern does not accept.)
enum LZ4Codec {
    static func compress(_ input: ByteBuffer, level: Int?, into output: inout ByteBuffer) throws(CompressionError) {
        var preferences = LZ4F_preferences_t()
        // Java's KafkaLZ4BlockInputStream decodes each block on its own, so blocks must not reference
        // earlier ones; 64 KiB blocks are what both Java and librdkafka write. No block or content
        // checksums, like Java: the batch CRC already covers the payload.
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.compressionLevel = Int32(clamping: level ?? 0)
        try input.withUnsafeReadableBytes { (source) throws(CompressionError) in
            let bound = LZ4F_compressFrameBound(source.count, &preferences)
            try output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) {
                (destination) throws(CompressionError) -> Int in
                let written = LZ4F_compressFrame(
                    destination.baseAddress,
                    destination.count,
                    source.baseAddress,
                    source.count,
                    &preferences
                )
                if LZ4F_isError(written) != 0 { throw .library(.lz4, self.errorName(written)) }
                return written
            }
        }
    }

    static func decompress(_ input: ByteBuffer, limit: Int) throws(CompressionError) -> ByteBuffer {
        var dctx: OpaquePointer?
        let rc = LZ4F_createDecompressionContext(&dctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(rc) == 0, let dctx else { throw .library(.lz4, self.errorName(rc)) }
        defer { LZ4F_freeDecompressionContext(dctx) }

        return try input.withUnsafeReadableBytes { (source) throws(CompressionError) -> ByteBuffer in
            var consumed = 0
            return try BoundedOutput.decode(
                codec: .lz4,
                limit: limit,
                initialCapacity: BoundedOutput.capacityGuess(compressedCount: source.count)
            ) { (window) throws(CompressionError) -> DecodeProgress in
                var produced = 0
                while true {
                    var outCount = window.count - produced
                    var inCount = source.count - consumed
                    // Returns 0 at the end of a frame; the context is then ready for a following frame.
                    let hint = LZ4F_decompress(
                        dctx,
                        window.baseAddress.map { $0 + produced },
                        &outCount,
                        source.baseAddress.map { $0 + consumed },
                        &inCount,
                        nil
                    )
                    consumed += inCount
                    produced += outCount
                    // Allocation failures are indistinguishable here without lz4's static-only API; they
                    // are far rarer than bad input.
                    if LZ4F_isError(hint) != 0 { throw .corrupt(.lz4, self.errorName(hint)) }
                    if hint == 0 && consumed == source.count {
                        return DecodeProgress(produced: produced, finished: true)
                    }
                    if produced == window.count { return DecodeProgress(produced: produced, finished: false) }
                    if consumed == source.count { throw .corrupt(.lz4, "truncated frame") }
                    if inCount == 0 && outCount == 0 { throw .corrupt(.lz4, "decoder made no progress") }
                }
            }
        }
    }

    private static func errorName(_ code: Int) -> String {
        String(cString: LZ4F_getErrorName(code))
    }
}
