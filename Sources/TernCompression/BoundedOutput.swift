import NIOCore

extension CompressionError {
    static func corrupt(_ codec: CompressionCodec, _ detail: String) -> Self {
        Self(code: .corruptInput, message: "\(codec): \(detail)")
    }

    static func limitExceeded(_ codec: CompressionCodec, limit: Int) -> Self {
        Self(code: .outputLimitExceeded, message: "\(codec): decompressed data exceeds \(limit) bytes")
    }

    static func library(_ codec: CompressionCodec, _ detail: String) -> Self {
        Self(code: .libraryFailure, message: "\(codec): \(detail)")
    }
}

/// What a streaming decoder did with one output window.
struct DecodeProgress {
    /// Bytes written at the start of the window.
    var produced: Int
    /// The whole input has been decoded and nothing is left buffered inside the decoder.
    var finished: Bool
}

/// Drives streaming decoders so their output can never grow past the caller's limit.
enum BoundedOutput {
    /// `ByteBuffer` indexes with `UInt32`, so no buffer can hold more.
    static let maximumCapacity = Int(UInt32.max)

    /// Smallest growth step, so tiny first guesses do not cost many reallocations.
    static let minimumGrowth = 16 * 1024

    /// A first capacity for output of unknown size: compressed Kafka batches typically shrink 2–10×;
    /// doubling covers the rest.
    static func capacityGuess(compressedCount: Int) -> Int {
        max(minimumGrowth, compressedCount.multipliedReportingOverflow(by: 2).partialValue)
    }

    /// Runs `step` over windows of a fresh buffer until it reports `finished`.
    ///
    /// `step` must fill its window as far as the input allows. If it returns unfinished the window must
    /// be full; if the input ends before the stream does it must throw. Once `limit` bytes are out, the
    /// decoder gets a one-byte scratch window: a stream may still legitimately finish there (a trailer or
    /// checksum left to read), but any further byte means the output is over the limit. Growth is by
    /// doubling and never past `limit`.
    static func decode(
        codec: CompressionCodec,
        limit: Int,
        initialCapacity: Int,
        _ step: (UnsafeMutableRawBufferPointer) throws(CompressionError) -> DecodeProgress
    ) throws(CompressionError) -> ByteBuffer {
        var output = ByteBufferAllocator().buffer(capacity: min(max(initialCapacity, 0), limit))
        while true {
            let room = limit - output.writerIndex
            if room == 0 {
                var probe: UInt8 = 0
                let progress = try withUnsafeMutableBytes(of: &probe) {
                    (window) throws(CompressionError) -> DecodeProgress in try step(window)
                }
                guard progress.finished, progress.produced == 0 else {
                    throw .limitExceeded(codec, limit: limit)
                }
                return output
            }
            let wanted = output.writableBytes > 0 ? output.writableBytes : max(output.capacity, self.minimumGrowth)
            var finished = false
            try output.writeWithUnsafeMutableBytes(minimumWritableBytes: min(room, wanted)) {
                (writable) throws(CompressionError) -> Int in
                let window = UnsafeMutableRawBufferPointer(rebasing: writable.prefix(room))
                let progress = try step(window)
                assert(progress.finished || progress.produced == window.count, "decoder stopped short")
                finished = progress.finished
                return progress.produced
            }
            if finished { return output }
        }
    }
}
