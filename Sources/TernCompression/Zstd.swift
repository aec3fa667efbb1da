internal import CZstd
import NIOConcurrencyHelpers
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
        try DecompressionContexts.withContext { (dctx) throws(CompressionError) -> ByteBuffer in
            try self.decompress(input, limit: limit, dctx)
        }
    }

    private static func decompress(
        _ input: ByteBuffer,
        limit: Int,
        _ dctx: OpaquePointer
    ) throws(CompressionError) -> ByteBuffer {
        try input.withUnsafeReadableBytes { (source) throws(CompressionError) -> ByteBuffer in
            // Frames written in one shot declare their size; streaming frames (Java's) do not, but their
            // block headers bound it. When the bound fits the limit, zstd decodes everything in one call
            // straight into a buffer of that size. Otherwise, or if the headers do not parse, the streaming
            // decoder grows the output step by step up to the limit.
            let sizes = self.declaredSizes(source)
            if let sizes {
                // A frame is not allowed to decode to other than its declared size, nor a stored or RLE
                // block to other than its length: no need to decode what must end over the limit.
                guard sizes.minimum <= limit else { throw .limitExceeded(.zstd, limit: limit) }
                if sizes.maximum <= limit {
                    if let output = try self.decompressWhole(source, capacity: sizes.maximum, dctx) { return output }
                    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only)
                }
            }
            let guess = BoundedOutput.capacityGuess(compressedCount: source.count)
            return try self.decompressStream(source, limit: limit, initialCapacity: sizes?.maximum ?? guess, dctx)
        }
    }

    /// Decodes all of `source` in one call into a buffer of `capacity` bytes, or returns `nil` if they are
    /// too few (the headers promised otherwise; only the streaming decoder can then tell whether the
    /// input is corrupt or over the limit).
    private static func decompressWhole(
        _ source: UnsafeRawBufferPointer,
        capacity: Int,
        _ dctx: OpaquePointer
    ) throws(CompressionError) -> ByteBuffer? {
        var output = ByteBufferAllocator().buffer(capacity: capacity)
        var tooSmall = false
        try output.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) {
            (destination) throws(CompressionError) -> Int in
            // `capacity`, not `destination.count`: the allocator may have rounded up.
            let written = ZSTD_decompressDCtx(dctx, destination.baseAddress, capacity, source.baseAddress, source.count)
            if ZSTD_isError(written) != 0 && ZSTD_getErrorCode(written) == ZSTD_error_dstSize_tooSmall {
                tooSmall = true
                return 0
            }
            try check(written, library: false)
            return written
        }
        return tooSmall ? nil : output
    }

    /// The window size stays at zstd's default maximum (2^27): Kafka allows levels up to 22, whose
    /// streaming frames declare windows that large. The window buffer is allocated at the declared size
    /// but only touched as output is produced, and output stops at `limit`.
    private static func decompressStream(
        _ source: UnsafeRawBufferPointer,
        limit: Int,
        initialCapacity: Int,
        _ dctx: OpaquePointer
    ) throws(CompressionError) -> ByteBuffer {
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

    /// Walks the frame and block headers of `source` (RFC 8878) without decoding. `nil` if they do not
    /// parse, including trailing bytes that are no frame: the decoder then says what is wrong.
    static func declaredSizes(_ source: UnsafeRawBufferPointer) -> DeclaredSizes? {
        var sizes = DeclaredSizes()
        var offset = 0
        func littleEndian(_ count: Int) -> Int {
            var value = 0
            for i in 0..<count { value |= Int(source[offset + i]) << (8 * i) }
            return value
        }
        while offset < source.count {
            guard source.count - offset >= 5 else { return nil }
            let magic = littleEndian(4)
            offset += 4
            if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                // Skippable frame: a 4-byte length, then data that decodes to nothing.
                guard source.count - offset >= 4 else { return nil }
                let count = littleEndian(4)
                offset += 4
                guard count <= source.count - offset else { return nil }
                offset += count
                continue
            }
            guard magic == 0xFD2F_B528 else { return nil }
            let descriptor = Int(source[offset])
            offset += 1
            guard descriptor & 0x08 == 0 else { return nil }  // reserved bit
            let singleSegment = descriptor & 0x20 != 0
            let dictionaryIDCount = [0, 1, 2, 4][descriptor & 0x03]
            let contentSizeCount = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]
            guard source.count - offset >= (singleSegment ? 0 : 1) + dictionaryIDCount + contentSizeCount else {
                return nil
            }
            var windowSize = Int.max
            if !singleSegment {
                let windowDescriptor = Int(source[offset])
                let base = 1 << (10 + (windowDescriptor >> 3))
                windowSize = base + base / 8 * (windowDescriptor & 0x07)
                offset += 1
            }
            offset += dictionaryIDCount
            var declared: Int?
            if contentSizeCount > 0 {
                var size: UInt64 = 0
                for i in 0..<contentSizeCount { size |= UInt64(source[offset + i]) << (8 * i) }
                declared = Int(clamping: contentSizeCount == 2 ? size + 256 : size)
                offset += contentSizeCount
            }
            // A compressed block decodes to at most the smaller of the window and 128 KiB.
            let blockMaximum = min(windowSize, 128 * 1024)
            var exact = 0
            var compressedBlocks = 0
            while true {
                guard source.count - offset >= 3 else { return nil }
                let header = littleEndian(3)
                offset += 3
                let count = header >> 3
                switch header >> 1 & 0x03 {
                case 0:  // stored
                    guard count <= source.count - offset else { return nil }
                    offset += count
                    exact += count
                case 1:  // RLE: one byte repeated `count` times
                    guard source.count - offset >= 1 else { return nil }
                    offset += 1
                    exact = DeclaredSizes.sum(exact, count)
                case 2:
                    guard count <= source.count - offset else { return nil }
                    offset += count
                    compressedBlocks += 1
                default:
                    return nil
                }
                if header & 0x01 != 0 { break }
            }
            if descriptor & 0x04 != 0 {  // content checksum
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

/// zstd decompression contexts kept for reuse: setting one up costs more than decoding a small batch
/// (over 10 µs, most of the time for a 16 KiB one). A context serves one call at a time: the call takes
/// it out of the pool under the lock, has it to itself, and puts it back when done.
private enum DecompressionContexts {
    /// Only ever used by the one call that took it out of the pool.
    struct Context: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    /// Enough for every core to decode at once; calls beyond that create and free their own.
    static let capacity = max(2, System.coreCount)
    /// A streaming decode leaves buffers the size of the frame's window in the context (up to 128 MiB):
    /// such contexts are freed rather than kept. A fresh one is about 100 KiB.
    static let keptSizeLimit = 256 * 1024
    static let idle = NIOLockedValueBox<[Context]>([])

    static func withContext<Result>(
        _ body: (OpaquePointer) throws(CompressionError) -> Result
    ) throws(CompressionError) -> Result {
        let dctx: OpaquePointer
        if let idle = self.idle.withLockedValue({ $0.popLast() }) {
            dctx = idle.pointer
        } else {
            guard let created = ZSTD_createDCtx() else { throw .library(.zstd, "ZSTD_createDCtx failed") }
            dctx = created
        }
        defer {
            // Drops any half-decoded frame, so the next call starts clean.
            ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only)
            let kept =
                ZSTD_sizeof_DCtx(dctx) <= self.keptSizeLimit
                && self.idle.withLockedValue { idle in
                    guard idle.count < self.capacity else { return false }
                    idle.append(Context(pointer: dctx))
                    return true
                }
            if !kept { ZSTD_freeDCtx(dctx) }
        }
        return try body(dctx)
    }
}
