import NIOCore
import TernWire
import Testing

extension ApiVersionsRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        version >= 3
            ? Self(
                clientSoftwareName: "tern",
                clientSoftwareVersion: "1.0",
                taggedFields: [TaggedField(tag: 9, data: ByteBuffer(bytes: [1, 2]))]
            )
            : Self()
    }
}

extension ApiVersionsResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        let flexible = version >= 3
        return Self(
            errorCode: .unsupportedVersion,
            apiKeys: [
                ApiVersion(apiKey: .produce, minVersion: 0, maxVersion: 7),
                ApiVersion(
                    apiKey: .apiVersions,
                    minVersion: 0,
                    maxVersion: 3,
                    taggedFields: flexible ? [TaggedField(tag: 0, data: ByteBuffer(bytes: [7]))] : []
                ),
            ],
            throttleTimeMs: version >= 1 ? 250 : 0,
            taggedFields: flexible ? [TaggedField(tag: 1, data: ByteBuffer(bytes: [0, 0, 0, 0, 0, 0, 0, 9]))] : []
        )
    }
}

@Suite struct ApiVersionsTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(ApiVersionsRequest.self)
        try expectRoundTripAtEveryVersion(ApiVersionsResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenApiVersions.bodies
        try expectGolden(ApiVersionsRequest(), version: 0, golden["request_v0"])
        try expectGolden(
            ApiVersionsRequest(clientSoftwareName: "tern", clientSoftwareVersion: "0.1.0"),
            version: 3,
            golden["request_v3"]
        )
        try expectGolden(
            ApiVersionsResponse(
                errorCode: .unsupportedVersion,
                apiKeys: [.init(apiKey: .apiVersions, minVersion: 0, maxVersion: 2)]
            ),
            version: 0,
            golden["response_v0_unsupported"]
        )
        try expectGolden(
            ApiVersionsResponse(
                apiKeys: [
                    .init(apiKey: .produce, minVersion: 0, maxVersion: 7),
                    .init(apiKey: .fetch, minVersion: 4, maxVersion: 11),
                ],
                throttleTimeMs: 7
            ),
            version: 2,
            golden["response_v2"]
        )
        try expectGolden(
            ApiVersionsResponse(apiKeys: [.init(apiKey: .apiVersions, minVersion: 0, maxVersion: 3)]),
            version: 3,
            golden["response_v3"]
        )
    }

    /// The exact frame of kafka-compat.md §1.4: what a broker sends back to an ApiVersions request
    /// of a version it does not support.
    @Test func unsupportedVersionReplyFrame() {
        var frame = ByteBuffer()
        ApiVersionsResponse(
            errorCode: .unsupportedVersion,
            apiKeys: [.init(apiKey: .apiVersions, minVersion: 0, maxVersion: 2)]
        ).writeFrame(to: &frame, version: 0, correlationId: 1)
        #expect(hex(frame) == "00000010" + "00000001" + "0023" + "00000001" + "001200000002")
    }

    /// An ApiVersions v3 response still uses response header v0: no tagged-field byte after the
    /// correlation id.
    @Test func flexibleResponseKeepsHeaderV0() throws {
        var frame = ByteBuffer()
        ApiVersionsResponse().writeFrame(to: &frame, version: 3, correlationId: 5)
        #expect(frame.readInteger(as: Int32.self) == Int32(frame.readableBytes))
        let header = try ResponseHeader(from: &frame, headerVersion: 0)
        #expect(header.correlationId == 5)
        #expect(try ApiVersionsResponse.decode(frame, version: 3) == ApiVersionsResponse())
    }
}
