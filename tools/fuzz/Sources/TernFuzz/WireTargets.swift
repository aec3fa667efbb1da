import NIOCore
import TernWire

/// `frame`: KafkaFrameDecoder over the input cut into chunks at arbitrary points (as TCP delivers
/// it), with a maximum frame size from the first byte. Every frame it emits must be exactly the
/// bytes its size prefix announced, in order, and each one goes through the request decoder as the
/// server would hand it on.
func fuzzFrame(_ input: ByteBuffer) {
    var input = input
    let control = input.readControlByte()
    let maximum = control & 0x80 == 0 ? Int(control) * 16 : KafkaFrameDecoder.defaultMaximumFrameLength
    var decoder = KafkaFrameDecoder(maximumFrameLength: maximum)
    let stream = input
    var pending = ByteBufferAllocator().buffer(capacity: stream.readableBytes)
    var expected = stream
    var chunkSeed = UInt32(control) | 1
    while input.readableBytes > 0 {
        // A small xorshift picks chunk sizes of 1…64 bytes; deterministic for the input.
        chunkSeed ^= chunkSeed << 13
        chunkSeed ^= chunkSeed >> 17
        chunkSeed ^= chunkSeed << 5
        var chunk = input.readSlice(length: min(input.readableBytes, Int(chunkSeed % 64) + 1))!
        pending.writeBuffer(&chunk)
        while true {
            let frame: ByteBuffer?
            do {
                frame = try decoder.decode(buffer: &pending)
            } catch {
                // The stream can no longer be framed; the server closes the connection.
                return
            }
            guard let frame else { break }
            let size = expected.readInteger(as: Int32.self)
            check(
                size.map(Int.init) == frame.readableBytes,
                "frame of \(frame.readableBytes) bytes, prefix \(size as Any)"
            )
            check(frame.readableBytes <= maximum, "frame of \(frame.readableBytes) bytes above the maximum \(maximum)")
            check(expected.readSlice(length: frame.readableBytes) == frame, "frame bytes differ from the stream's")
            _ = try? KafkaRequest.decode(frame: frame)
        }
    }
}

/// `request`: a request frame (header, then body) through `KafkaRequest.decode(frame:)`, which
/// picks the header version and the generated body decoder for every served API and version.
/// A request that decodes must encode back to bytes that decode to the same request (the codec
/// reads what it writes, so the broker acts on what the client sent).
func fuzzRequest(_ input: ByteBuffer) {
    guard let (header, request) = try? KafkaRequest.decode(frame: input) else { return }
    let versions = KafkaRequest.versions(of: header.apiKey)
    check(
        versions?.contains(header.apiVersion) == true,
        "decoded \(header.apiKey) v\(header.apiVersion) outside \(versions as Any)"
    )
    // Each case of the generated enum carries one message; reflection reaches it without a switch
    // that would have to follow the generator.
    guard let message = Mirror(reflecting: request).children.first?.value as? any KafkaMessage else {
        check(false, "\(header.apiKey) decoded to no message")
        return
    }
    check(reencodes(message, version: header.apiVersion), "\(header.apiKey) v\(header.apiVersion) does not round-trip")
    // The consumer protocol's payloads inside group requests, which the coordinator and clients parse.
    switch request {
    case .joinGroup(let join):
        for offered in join.protocols {
            _ = try? ConsumerProtocolSubscription.decode(from: offered.metadata)
        }
    case .syncGroup(let sync):
        for assignment in sync.assignments {
            _ = try? ConsumerProtocolAssignment.decode(from: assignment.assignment)
        }
    default:
        break
    }
}

private func reencodes<Message: KafkaMessage>(_ message: Message, version: Int16) -> Bool {
    let bytes = message.encoded(version: version)
    guard let again = try? Message.decode(bytes, version: version) else { return false }
    return again == message
}
