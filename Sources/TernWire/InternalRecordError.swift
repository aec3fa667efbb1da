import NIOCore

/// A record of an internal topic (`__consumer_offsets`, `__transaction_state`) whose key or value
/// cannot be decoded. Equality compares the code only.
public struct InternalRecordError: Error, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case unknownKeyVersion, unknownValueVersion, malformed, trailingBytes
        }
        private let base: Base
        /// The key's version is not one the record format defines.
        public static let unknownKeyVersion = Code(base: .unknownKeyVersion)
        /// The value's version is newer than this code knows.
        public static let unknownValueVersion = Code(base: .unknownValueVersion)
        /// The bytes end early, or hold an impossible length or an unknown enumeration value.
        public static let malformed = Code(base: .malformed)
        /// Bytes are left after the known fields.
        public static let trailingBytes = Code(base: .trailingBytes)

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
    public var description: String { "InternalRecordError(\(self.code)): \(self.message)" }
}

/// Reads one field of an internal record; a wire error becomes `.malformed`, naming the field.
/// `what` is an autoclosure: it names the field only in an error, and building that string for
/// every field of every record was a large part of replaying `__consumer_offsets` at startup.
@inlinable
public func readRecordField<T>(
    _ buffer: inout ByteBuffer,
    _ what: @autoclosure () -> String,
    _ body: (inout ByteBuffer) throws(WireError) -> T
) throws(InternalRecordError) -> T {
    do {
        return try body(&buffer)
    } catch {
        throw InternalRecordError(.malformed, "\(what()): \(error.message)")
    }
}

/// Throws `.trailingBytes` when bytes are left after an internal record's known fields.
@inlinable
public func expectRecordConsumed(
    _ buffer: ByteBuffer,
    _ what: @autoclosure () -> String
) throws(InternalRecordError) {
    guard buffer.readableBytes == 0 else {
        throw InternalRecordError(.trailingBytes, "\(buffer.readableBytes) bytes left after \(what())")
    }
}
