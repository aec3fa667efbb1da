internal import CZlib
import NIOCore

/// gzip (RFC 1952) through zlib, as Java's GZIPOutputStream and librdkafka write it.
enum GzipCodec {
    /// zlib's windowBits: 15 is the largest window; +16 selects the gzip wrapper, +32 detects gzip or
    /// zlib headers when inflating.
    private static let gzipWindowBits: Int32 = 15 + 16
    private static let autodetectWindowBits: Int32 = 15 + 32

    static func compress(_ input: ByteBuffer, level: Int?, into output: inout ByteBuffer) throws(CompressionError) {
        let level = level.map { Int32(max(-1, min(9, $0))) } ?? Z_DEFAULT_COMPRESSION
        // zlib keeps a pointer back to the z_stream and checks it on every call, so it must not move.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        let rc = tern_deflateInit2(stream, level, self.gzipWindowBits, 8)
        guard rc == Z_OK else { throw .library(.gzip, "deflateInit2 failed (\(rc))") }
        defer { deflateEnd(stream) }

        try input.withUnsafeReadableBytes { (source) throws(CompressionError) in
            // ByteBuffer sizes fit in UInt32, so a single call takes the whole input.
            let bound = Int(deflateBound(stream, uLong(source.count)))
            try output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) {
                (destination) throws(CompressionError) -> Int in
                stream.pointee.next_in = UnsafeMutablePointer(
                    mutating: source.baseAddress?.assumingMemoryBound(to: Bytef.self)
                )
                stream.pointee.avail_in = uInt(source.count)
                stream.pointee.next_out = destination.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(min(destination.count, Int(UInt32.max)))
                let rc = deflate(stream, Z_FINISH)
                // With deflateBound bytes of room, Z_FINISH completes in one call.
                guard rc == Z_STREAM_END else { throw .library(.gzip, "deflate returned \(rc)") }
                return Int(stream.pointee.total_out)
            }
        }
    }

    static func decompress(_ input: ByteBuffer, limit: Int) throws(CompressionError) -> ByteBuffer {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        let rc = tern_inflateInit2(stream, self.autodetectWindowBits)
        guard rc == Z_OK else { throw .library(.gzip, "inflateInit2 failed (\(rc))") }
        defer { inflateEnd(stream) }

        return try input.withUnsafeReadableBytes { (source) throws(CompressionError) -> ByteBuffer in
            stream.pointee.next_in = UnsafeMutablePointer(
                mutating: source.baseAddress?.assumingMemoryBound(to: Bytef.self)
            )
            stream.pointee.avail_in = uInt(source.count)
            return try BoundedOutput.decode(
                codec: .gzip,
                limit: limit,
                initialCapacity: self.sizeHint(source)
            ) { (window) throws(CompressionError) -> DecodeProgress in
                stream.pointee.next_out = window.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(window.count)
                while true {
                    let rc = inflate(stream, Z_NO_FLUSH)
                    let produced = window.count - Int(stream.pointee.avail_out)
                    switch rc {
                    case Z_STREAM_END:
                        if stream.pointee.avail_in == 0 { return DecodeProgress(produced: produced, finished: true) }
                        // Another gzip member follows (GZIPInputStream and `gzip -d` read those too);
                        // anything else there fails as a bad header.
                        guard inflateReset(stream) == Z_OK else { throw .library(.gzip, "inflateReset failed") }
                    case Z_OK, Z_BUF_ERROR:
                        // Z_BUF_ERROR only says no progress was possible: full output or no more input.
                        break
                    case Z_DATA_ERROR, Z_NEED_DICT:
                        throw .corrupt(.gzip, self.message(stream) ?? "invalid deflate data")
                    case Z_MEM_ERROR:
                        throw .library(.gzip, "out of memory")
                    default:
                        throw .library(.gzip, "inflate returned \(rc)")
                    }
                    if stream.pointee.avail_out == 0 { return DecodeProgress(produced: produced, finished: false) }
                    if stream.pointee.avail_in == 0 { throw .corrupt(.gzip, "truncated stream") }
                }
            }
        }
    }

    /// The gzip trailer's ISIZE (uncompressed size mod 2^32) makes a good first capacity. It is only a
    /// hint: capped by deflate's maximum ratio (~1032:1) here and by the limit in the decoder.
    private static func sizeHint(_ source: UnsafeRawBufferPointer) -> Int {
        let fallback = BoundedOutput.capacityGuess(compressedCount: source.count)
        guard source.count >= 18 else { return fallback }
        var isize = 0
        for i in 0..<4 { isize |= Int(source[source.count - 4 + i]) << (8 * i) }
        return min(isize, source.count * 1032)
    }

    private static func message(_ stream: UnsafeMutablePointer<z_stream>) -> String? {
        stream.pointee.msg.map { String(cString: $0) }
    }
}
