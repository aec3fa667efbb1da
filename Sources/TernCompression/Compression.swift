import NIOCore

/// The compression codecs of Kafka record batches. Raw values are the codec bits (0–2) of a
/// v2 batch's attributes.
public enum CompressionCodec: Int8, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }
}

/// A failure to compress or decompress. Equality compares the code only, so tests can match on it.
public struct CompressionError: Error, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case outputLimitExceeded, corruptInput, unsupportedCodec, libraryFailure
        }
        private let base: Base
        /// Decompressed output would exceed the caller's limit (a zip bomb, or a limit too small).
        public static let outputLimitExceeded = Code(base: .outputLimitExceeded)
        /// The input is not a valid stream of the codec.
        public static let corruptInput = Code(base: .corruptInput)
        /// The codec is not one this build can handle.
        public static let unsupportedCodec = Code(base: .unsupportedCodec)
        /// The C library failed for a reason other than bad input (e.g. out of memory).
        public static let libraryFailure = Code(base: .libraryFailure)

        public var description: String { "\(self.base)" }
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
    public var description: String { "CompressionError(\(self.code)): \(self.message)" }
}

public enum Compression {
    /// Compresses `input` with `codec` in the format Kafka clients write for record batches, at the
    /// codec's default level. `.none` returns the input unchanged.
    public static func compress(_ input: ByteBuffer, codec: CompressionCodec) throws(CompressionError) -> ByteBuffer {
        try self.compress(input, codec: codec, level: nil)
    }

    /// Compresses `input` with `codec` at `level` (`nil` = the codec's default). `.none` returns the
    /// input unchanged.
    ///
    /// Levels go to the library as Kafka's `compression.<codec>.level` configs do: gzip takes -1
    /// (default, 6) or 0–9 and is clamped to that range; lz4 frame levels above 12 act as 12 (default 0,
    /// the fast mode librdkafka uses; Java's default is 9); zstd clamps to its own range (default 3, as
    /// Java and librdkafka use). Snappy has no levels and ignores it.
    public static func compress(
        _ input: ByteBuffer,
        codec: CompressionCodec,
        level: Int?
    ) throws(CompressionError) -> ByteBuffer {
        if codec == .none { return input }
        var output = ByteBufferAllocator().buffer(capacity: 0)
        try self.compress(input, codec: codec, level: level, into: &output)
        // The output was sized for the worst case; for compressible input most of it is unused, and
        // the caller may keep this buffer around, so hand back a right-sized copy.
        if output.capacity > 2 * max(output.readableBytes, 4096) {
            output = ByteBufferAllocator().buffer(buffer: output)
        }
        return output
    }

    /// Appends `input` compressed with `codec` (see `compress(_:codec:level:)`) at `output`'s writer
    /// index, so a batch writer can put the compressed records right after the batch header. On error
    /// `output`'s writer index is unchanged.
    public static func compress(
        _ input: ByteBuffer,
        codec: CompressionCodec,
        level: Int? = nil,
        into output: inout ByteBuffer
    ) throws(CompressionError) {
        switch codec {
        case .none: output.writeImmutableBuffer(input)
        case .gzip: try GzipCodec.compress(input, level: level, into: &output)
        case .snappy: try SnappyCodec.compress(input, into: &output)
        case .lz4: try LZ4Codec.compress(input, level: level, into: &output)
        case .zstd: try ZstdCodec.compress(input, level: level, into: &output)
        }
    }

    /// Decompresses `input`, refusing to produce more than `limit` bytes: output beyond it throws
    /// `.outputLimitExceeded`, and memory for the output never exceeds `limit` rounded up to a power of
    /// two (`ByteBuffer`'s allocation granularity). Limits above `ByteBuffer`'s maximum capacity (4 GiB − 1)
    /// act as that maximum. An empty `input` is `.corruptInput` for every codec but `.none`: even empty
    /// data compresses to a non-empty frame.
    public static func decompress(
        _ input: ByteBuffer,
        codec: CompressionCodec,
        limit: Int
    ) throws(CompressionError) -> ByteBuffer {
        precondition(limit >= 0, "negative decompression limit \(limit)")
        if codec == .none {
            guard input.readableBytes <= limit else {
                throw CompressionError(code: .outputLimitExceeded, message: "\(input.readableBytes) > \(limit)")
            }
            return input
        }
        guard input.readableBytes > 0 else {
            throw CompressionError(code: .corruptInput, message: "\(codec): empty input")
        }
        let limit = min(limit, BoundedOutput.maximumCapacity)
        let output: ByteBuffer
        switch codec {
        case .none: return input
        case .gzip: output = try GzipCodec.decompress(input, limit: limit)
        case .snappy: output = try SnappyCodec.decompress(input, limit: limit)
        case .lz4: output = try LZ4Codec.decompress(input, limit: limit)
        case .zstd: output = try ZstdCodec.decompress(input, limit: limit)
        }
        return BoundedOutput.rightSized(output)
    }
}
