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
            // Size the output from a declared content size, or from the block headers: each block then
            // decodes straight into the output, and the buffer grows at most once, for the last block.
            // (Reserving that block's maximum too would overshoot small batches many times over.)
            var initialCapacity = BoundedOutput.capacityGuess(compressedCount: source.count)
            if let sizes = self.declaredSizes(source) {
                guard sizes.minimum <= limit else { throw .limitExceeded(.lz4, limit: limit) }
                initialCapacity = min(max(sizes.typical, initialCapacity), sizes.maximum)
            }
            var consumed = 0
            return try BoundedOutput.decode(codec: .lz4, limit: limit, initialCapacity: initialCapacity) {
                (window) throws(CompressionError) -> DecodeProgress in
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

    /// Walks the frame and block headers of `source` (the LZ4 frame format) without decoding. `nil` if
    /// they do not parse, including trailing bytes that are no frame: the decoder then says what is wrong.
    static func declaredSizes(_ source: UnsafeRawBufferPointer) -> DeclaredSizes? {
        var sizes = DeclaredSizes()
        var offset = 0
        func littleEndian(_ count: Int) -> Int {
            var value = 0
            for i in 0..<count { value |= Int(source[offset + i]) << (8 * i) }
            return value
        }
        while offset < source.count {
            guard source.count - offset >= 8 else { return nil }
            let magic = littleEndian(4)
            offset += 4
            if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                // Skippable frame: a 4-byte length, then data that decodes to nothing.
                let count = littleEndian(4)
                offset += 4
                guard count <= source.count - offset else { return nil }
                offset += count
                continue
            }
            guard magic == 0x184D_2204 else { return nil }
            let flags = Int(source[offset])
            let blockMaximumID = Int(source[offset + 1]) >> 4 & 0x07
            offset += 2
            // Version 01; block maximum 4 (64 KiB) to 7 (4 MiB).
            guard flags >> 6 == 0x01, blockMaximumID >= 4 else { return nil }
            let blockMaximum = 1 << (8 + 2 * blockMaximumID)
            let blockChecksumCount = flags & 0x10 != 0 ? 4 : 0
            var declared: Int?
            if flags & 0x08 != 0 {
                guard source.count - offset >= 8 else { return nil }
                var size: UInt64 = 0
                for i in 0..<8 { size |= UInt64(source[offset + i]) << (8 * i) }
                declared = Int(clamping: size)
                offset += 8
            }
            offset += (flags & 0x01 != 0 ? 4 : 0) + 1  // dictionary ID, header checksum
            var exact = 0
            var compressedBlocks = 0
            while true {
                guard source.count - offset >= 4 else { return nil }
                let header = littleEndian(4)
                offset += 4
                if header == 0 { break }  // end mark
                let count = header & 0x7FFF_FFFF
                guard count <= blockMaximum, count + blockChecksumCount <= source.count - offset else { return nil }
                offset += count + blockChecksumCount
                if header & 0x8000_0000 != 0 {
                    exact += count  // stored uncompressed
                } else {
                    compressedBlocks += 1
                }
            }
            if flags & 0x04 != 0 {  // content checksum
                guard source.count - offset >= 4 else { return nil }
                offset += 4
            }
            sizes.addFrame(
                declared: declared,
                exact: exact,
                compressedBlocks: compressedBlocks,
                blockMaximum: blockMaximum
            )
        }
        return sizes
    }

    private static func errorName(_ code: Int) -> String {
        String(cString: LZ4F_getErrorName(code))
    }
}
