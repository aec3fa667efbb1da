import NIOCore

/// Splits a byte stream into Kafka frames (int32 size, then that many bytes), emitting each
/// frame's bytes without the size.
///
/// A frame whose size is above `maximumFrameLength` is refused as soon as its 4-byte prefix
/// arrives, before any of its body is buffered; so is a negative size. The error is thrown and
/// the decoder should not be used again: the stream can no longer be framed.
public struct KafkaFrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    /// Kafka's `socket.request.max.bytes` default.
    public static let defaultMaximumFrameLength = 100 * 1024 * 1024

    public let maximumFrameLength: Int

    public init(maximumFrameLength: Int = Self.defaultMaximumFrameLength) {
        precondition(maximumFrameLength >= 0 && maximumFrameLength <= Int(Int32.max))
        self.maximumFrameLength = maximumFrameLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return nil }
        guard size >= 0 else {
            throw WireError(.invalidFrameSize, "negative frame size \(size)")
        }
        guard Int(size) <= self.maximumFrameLength else {
            throw WireError(.frameTooLarge, "frame of \(size) bytes exceeds the maximum of \(self.maximumFrameLength)")
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try self.decode(buffer: &buffer)
    }
}
