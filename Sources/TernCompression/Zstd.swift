internal import CZstd
import NIOCore

/// zstd: standard frames, as zstd-jni (Java) and librdkafka write and read them.
enum ZstdCodec {
    static func compress(_ input: ByteBuffer, level: Int?, into output: inout ByteBuffer) throws(CompressionError) {
        guard let cctx = ZSTD_createCCtx() else { throw .library(.zstd, "ZSTD_createCCtx failed") }
        defer { ZSTD_freeCCtx(cctx) }
        // zstd clamps out-of-range levels itself.
        let level = Int32(clamping: level ?? Int(ZSTD_CLEVEL_DEFAULT))
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level), library: true)
        try input.withUnsafeReadableBytes { (source) throws(CompressionError) in
            let bound = ZSTD_compressBound(source.count)
            try output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) {
                (destination) throws(CompressionError) -> Int in
                // One-shot compression records the content size in the frame header.
                let written = ZSTD_compress2(
                    cctx,
                    destination.baseAddress,
                    destination.count,
                    source.baseAddress,
                    source.count
                )
                try check(written, library: true)
                return written
            }
        }
    }

    static func decompress(_ input: ByteBuffer, limit: Int) throws(CompressionError) -> ByteBuffer {
        guard let dctx = ZSTD_createDCtx() else { throw .library(.zstd, "ZSTD_createDCtx failed") }
        defer { ZSTD_freeDCtx(dctx) }
        // The window size stays at zstd's default maximum (2^27): Kafka allows levels up to 22, whose
        // streaming frames declare windows that large. The window buffer is allocated at the declared
        // size but only touched as output is produced, and output stops at `limit`.
        return try input.withUnsafeReadableBytes { (source) throws(CompressionError) -> ByteBuffer in
            // Frames written in one shot declare their size; use the first frame's to size the output
            // exactly (zstd then decodes straight into it) or to refuse at once. Streaming frames (Java's)
            // declare none. (Summing all frames' sizes needs zstd's static-only API.)
            var initialCapacity = BoundedOutput.capacityGuess(compressedCount: source.count)
            let declared = ZSTD_getFrameContentSize(source.baseAddress, source.count)
            if declared != tern_zstd_contentsize_unknown() && declared != tern_zstd_contentsize_error() {
                guard declared <= UInt64(limit) else { throw .limitExceeded(.zstd, limit: limit) }
                initialCapacity = Int(declared)
            }
            var consumed = 0
            return try BoundedOutput.decode(codec: .zstd, limit: limit, initialCapacity: initialCapacity) {
                (window) throws(CompressionError) -> DecodeProgress in
                var out = ZSTD_outBuffer(dst: window.baseAddress, size: window.count, pos: 0)
                while true {
                    var inp = ZSTD_inBuffer(
                        src: source.baseAddress.map { $0 + consumed },
                        size: source.count - consumed,
                        pos: 0
                    )
                    // Returns 0 once a frame is fully decoded and flushed; a following frame, if any,
                    // starts on the next call.
                    let hint = ZSTD_decompressStream(dctx, &out, &inp)
                    consumed += inp.pos
                    try check(hint, library: false)
                    if hint == 0 && consumed == source.count {
                        return DecodeProgress(produced: out.pos, finished: true)
                    }
                    if out.pos == out.size { return DecodeProgress(produced: out.pos, finished: false) }
                    if consumed == source.count { throw .corrupt(.zstd, "truncated frame") }
                }
            }
        }
    }

    /// Throws if `result` is a zstd error code. Decoder errors are bad input except allocation failures.
    private static func check(_ result: Int, library: Bool) throws(CompressionError) {
        guard ZSTD_isError(result) != 0 else { return }
        let name = String(cString: ZSTD_getErrorName(result))
        if library || ZSTD_getErrorCode(result) == ZSTD_error_memory_allocation {
            throw .library(.zstd, name)
        }
        throw .corrupt(.zstd, name)
    }
}
