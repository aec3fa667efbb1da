import NIOCore
import NIOTestUtils
import TernWire
import Testing

@Suite struct FramingTests {
    private func frame(_ body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeKafkaFrame { $0.writeBytes(body) }
        return buffer
    }

    @Test func decodesFramesDripFedAndBatched() throws {
        let bodies: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 9, count: 1000)]
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: bodies.map { (frame($0), [ByteBuffer(bytes: $0)]) },
            decoderFactory: { KafkaFrameDecoder() }
        )
    }

    /// The size prefix alone is enough to refuse a frame: nothing of its body has arrived.
    @Test func refusesAnOversizedFrameAtItsLengthPrefix() throws {
        var decoder = KafkaFrameDecoder(maximumFrameLength: 1024)
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(1025))
        #expect(throws: WireError(.frameTooLarge, "")) { try decoder.decode(buffer: &buffer) }

        var atLimit = ByteBuffer()
        atLimit.writeInteger(Int32(1024))
        #expect(try decoder.decode(buffer: &atLimit) == nil)
    }

    @Test func defaultMaximumIs100MiB() {
        #expect(KafkaFrameDecoder().maximumFrameLength == 104_857_600)
        var decoder = KafkaFrameDecoder()
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(104_857_601))
        #expect(throws: WireError(.frameTooLarge, "")) { try decoder.decode(buffer: &buffer) }
    }

    @Test func refusesANegativeSize() {
        var decoder = KafkaFrameDecoder()
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(-1))
        #expect(throws: WireError(.invalidFrameSize, "")) { try decoder.decode(buffer: &buffer) }
    }

    @Test func waitsForAPartialFrameWithoutConsumingIt() throws {
        var decoder = KafkaFrameDecoder()
        var buffer = frame([1, 2, 3, 4])
        var partial = buffer.readSlice(length: 6)!
        #expect(try decoder.decode(buffer: &partial) == nil)
        #expect(partial.readableBytes == 6)
    }

    @Test func requestFrameWithHeaderRoundTrips() throws {
        var wire = ByteBuffer()
        ApiVersionsRequest(clientSoftwareName: "tern", clientSoftwareVersion: "1")
            .writeFrame(to: &wire, version: 3, correlationId: 42, clientId: "cli")
        var decoder = KafkaFrameDecoder()
        var body = try #require(try decoder.decode(buffer: &wire))
        #expect(wire.readableBytes == 0)
        let header = try RequestHeader(from: &body)
        #expect(header == RequestHeader(apiKey: .apiVersions, apiVersion: 3, correlationId: 42, clientId: "cli"))
        let request = try ApiVersionsRequest.decode(body, version: 3)
        #expect(request.clientSoftwareName == "tern")
    }
}

@Suite struct HeaderTests {
    @Test func headerVersionsFollowTheFlexibleRule() {
        #expect(ApiKey.produce.requestHeaderVersion(for: 7) == 1)
        #expect(ApiKey.produce.requestHeaderVersion(for: 9) == 2)
        #expect(ApiKey.produce.responseHeaderVersion(for: 8) == 0)
        #expect(ApiKey.produce.responseHeaderVersion(for: 9) == 1)
        #expect(ApiKey.apiVersions.requestHeaderVersion(for: 3) == 2)
        #expect(ApiKey.apiVersions.responseHeaderVersion(for: 3) == 0)
        #expect(ApiKey.saslHandshake.requestHeaderVersion(for: 1) == 1)
        #expect(ApiKey(rawValue: 999).requestHeaderVersion(for: 0) == 1)
    }

    /// Golden bytes of kafka-python's header encoding for the same values
    /// (`RequestHeader`/`RequestHeaderV2` of kafka/protocol/api_header.py).
    @Test(arguments: [
        (Int16(1), "0003000400000007" + "0003636c69"),
        (Int16(2), "0003000400000007" + "0003636c69" + "00"),
        (Int16(0), "0003000400000007"),
    ])
    func requestHeaderBytes(headerVersion: Int16, expected: String) throws {
        let header = RequestHeader(
            apiKey: .metadata,
            apiVersion: 4,
            correlationId: 7,
            clientId: headerVersion == 0 ? nil : "cli"
        )
        var buffer = ByteBuffer()
        header.write(to: &buffer, headerVersion: headerVersion)
        #expect(hex(buffer) == expected)
        #expect(try RequestHeader(from: &buffer, headerVersion: headerVersion) == header)
        #expect(buffer.readableBytes == 0)
    }

    @Test func nullClientIdAndTaggedFields() throws {
        let header = RequestHeader(
            apiKey: .apiVersions,
            apiVersion: 3,
            correlationId: -5,
            clientId: nil,
            taggedFields: [TaggedField(tag: 3, data: ByteBuffer(bytes: [1]))]
        )
        var buffer = ByteBuffer()
        header.write(to: &buffer)
        #expect(hex(buffer) == "00120003fffffffb" + "ffff" + "01030101")
        #expect(try RequestHeader(from: &buffer) == header)
    }

    @Test func prefixIsReadableWithoutUnderstandingTheRest() throws {
        let bytes = buffer(hex: "0012006300000009" + "ff")
        let prefix = try RequestHeader.peekPrefix(bytes)
        #expect(prefix.apiKey == .apiVersions)
        #expect(prefix.apiVersion == 99)
        #expect(prefix.correlationId == 9)
        #expect(throws: WireError(.truncated, "")) { try RequestHeader.peekPrefix(buffer(hex: "001200")) }
    }

    @Test func responseHeaders() throws {
        var buffer = ByteBuffer()
        ResponseHeader(correlationId: 3).write(to: &buffer, headerVersion: 1)
        ResponseHeader(correlationId: 4).write(to: &buffer, headerVersion: 0)
        #expect(hex(buffer) == "0000000300" + "00000004")
        #expect(try ResponseHeader(from: &buffer, headerVersion: 1).correlationId == 3)
        #expect(try ResponseHeader(from: &buffer, headerVersion: 0).correlationId == 4)
    }

    @Test func unsupportedVersionIsRefusedBeforeDecoding() {
        #expect(throws: WireError(.unsupportedVersion, "")) {
            try ApiVersionsRequest.decode(ByteBuffer(), version: ApiVersionsRequest.versions.upperBound + 1)
        }
    }
}
