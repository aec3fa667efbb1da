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
    /// Compresses `input` with `codec` in the format Kafka clients write for record batches.
    /// `.none` returns the input unchanged.
    public static func compress(_ input: ByteBuffer, codec: CompressionCodec) throws(CompressionError) -> ByteBuffer {
        switch codec {
        case .none:
            return input
        default:
            throw CompressionError(code: .unsupportedCodec, message: "\(codec) is not implemented yet")
        }
    }

    /// Decompresses `input`, refusing to produce more than `limit` bytes.
    public static func decompress(
        _ input: ByteBuffer,
        codec: CompressionCodec,
        limit: Int
    ) throws(CompressionError) -> ByteBuffer {
        switch codec {
        case .none:
            guard input.readableBytes <= limit else {
                throw CompressionError(code: .outputLimitExceeded, message: "\(input.readableBytes) > \(limit)")
            }
            return input
        default:
            throw CompressionError(code: .unsupportedCodec, message: "\(codec) is not implemented yet")
        }
    }
}
