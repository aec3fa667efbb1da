import NIOCore

/// A failure to decode (or frame) Kafka protocol bytes. Equality compares the code only, so tests
/// can match on it; `message` says what exactly was wrong.
public struct WireError: Error, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case truncated, invalidLength, invalidVarint, trailingBytes
            case unsupportedVersion, unknownApiKey, frameTooLarge, invalidFrameSize
        }
        private let base: Base
        /// The bytes ended before the value did.
        public static let truncated = Code(base: .truncated)
        /// A length or count is negative (where null is not allowed) or larger than the bytes left.
        public static let invalidLength = Code(base: .invalidLength)
        /// A varint runs past its maximum width.
        public static let invalidVarint = Code(base: .invalidVarint)
        /// A message body was decoded but bytes were left over.
        public static let trailingBytes = Code(base: .trailingBytes)
        /// The API version is outside what this codec implements.
        public static let unsupportedVersion = Code(base: .unsupportedVersion)
        /// The API key is not one this codec knows.
        public static let unknownApiKey = Code(base: .unknownApiKey)
        /// A frame's length prefix is above the configured maximum.
        public static let frameTooLarge = Code(base: .frameTooLarge)
        /// A frame's length prefix is negative or too small to hold a header.
        public static let invalidFrameSize = Code(base: .invalidFrameSize)

        public var description: String { "\(self.base)" }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
    public var description: String { "WireError(\(self.code)): \(self.message)" }

    @usableFromInline
    static func truncated(_ what: String) -> Self { WireError(.truncated, "truncated \(what)") }
}
