import NIOCore
import TernWire
import Testing

/// A message with a representative value for each version: every field that exists at that
/// version set to something other than its default, every absent field left at its default, so
/// that `decode(encode(sample)) == sample` holds at that version.
protocol SampledMessage: KafkaMessage {
    static func sample(version: Int16) -> Self
}

func hex(_ buffer: ByteBuffer) -> String {
    let digits = Array("0123456789abcdef")
    return String(buffer.readableBytesView.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
}

func buffer(hex: String) -> ByteBuffer {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return ByteBuffer(bytes: bytes)
}

/// Round trip at one version, plus the two malformed-input checks every message gets: each strict
/// prefix of the encoding fails to decode (truncation), and one extra byte is refused.
func expectRoundTrip<M: KafkaMessage>(
    _ message: M,
    version: Int16,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let encoded = message.encoded(version: version)
    let decoded = try M.decode(encoded, version: version)
    #expect(decoded == message, "\(M.self) v\(version)", sourceLocation: sourceLocation)
    #expect(decoded.encoded(version: version) == encoded, sourceLocation: sourceLocation)

    for length in 0..<encoded.readableBytes {
        let prefix = encoded.getSlice(at: encoded.readerIndex, length: length)!
        #expect(
            throws: WireError.self,
            "\(M.self) v\(version) prefix \(length)/\(encoded.readableBytes)",
            sourceLocation: sourceLocation
        ) {
            try M.decode(prefix, version: version)
        }
    }

    var withTrailingByte = encoded
    withTrailingByte.writeInteger(UInt8(0))
    let error = #expect(throws: WireError.self, sourceLocation: sourceLocation) {
        try M.decode(withTrailingByte, version: version)
    }
    #expect(error?.code == .trailingBytes, sourceLocation: sourceLocation)
}

func expectRoundTripAtEveryVersion<M: SampledMessage>(
    _ type: M.Type,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for version in M.versions {
        try expectRoundTrip(M.sample(version: version), version: version, sourceLocation: sourceLocation)
    }
}

/// The message encodes to exactly the golden bytes (from kafka-python) and decodes from them.
func expectGolden<M: KafkaMessage>(
    _ message: M,
    version: Int16,
    _ goldenHex: String?,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let golden = try #require(goldenHex, "missing golden case", sourceLocation: sourceLocation)
    #expect(hex(message.encoded(version: version)) == golden, sourceLocation: sourceLocation)
    #expect(try M.decode(buffer(hex: golden), version: version) == message, sourceLocation: sourceLocation)
}
