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

/// What a compressed stream's headers say about its decoded size, read without decoding anything. The
/// figures hold for valid input only (a lying header is found out by the decoder) and saturate at
/// `Int.max`.
struct DeclaredSizes {
    /// Valid input decodes to at least this many bytes: the content sizes that frames declare, and the
    /// lengths of stored or run-length blocks.
    var minimum = 0
    /// Valid input decodes to at most this many bytes: `minimum`, plus the largest output each compressed
    /// block may have (a frame's declared size caps its blocks).
    var maximum = 0
    /// What writers that fill every block but the last (every Kafka client) produce, less that last
    /// compressed block: a first capacity that is rarely short by more than one block, and for a
    /// single-block frame no better than a guess.
    var typical = 0

    /// Adds one frame: `declared` is its content size if it has one; `exact` sums its stored (or
    /// run-length) blocks' lengths, and it has `compressedBlocks` compressed blocks of at most
    /// `blockMaximum` bytes of output each.
    mutating func addFrame(declared: Int?, exact: Int, compressedBlocks: Int, blockMaximum: Int) {
        let blocks = Self.sum(exact, Self.product(compressedBlocks, blockMaximum))
        let fullBlocks = Self.sum(exact, Self.product(max(compressedBlocks - 1, 0), blockMaximum))
        self.minimum = Self.sum(self.minimum, declared ?? exact)
        self.maximum = Self.sum(self.maximum, declared.map { min($0, blocks) } ?? blocks)
        self.typical = Self.sum(self.typical, declared.map { min($0, blocks) } ?? fullBlocks)
    }

    static func sum(_ a: Int, _ b: Int) -> Int {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : total
    }

    static func product(_ a: Int, _ b: Int) -> Int {
        let (total, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : total
    }
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

    /// `output` itself, or a copy in a right-sized buffer when most of its capacity is unused: a size
    /// estimate may overshoot small outputs many times over, and callers keep slices of the output. Up to
    /// `minimumGrowth` counts as used, as the smallest buffer a guess allocates anyway.
    static func rightSized(_ output: ByteBuffer) -> ByteBuffer {
        guard output.capacity > 2 * max(output.readableBytes, self.minimumGrowth) else { return output }
        return ByteBufferAllocator().buffer(buffer: output)
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
