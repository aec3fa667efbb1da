import Logging
import NIOCore
import TernBroker
import TernWire
import Testing

@Suite struct ApiVersionsHandlingTests {

    private func requestFrameBody(version: Int16, correlationId: Int32) -> ByteBuffer {
        var frame = ByteBuffer()
        ApiVersionsRequest(clientSoftwareName: "test", clientSoftwareVersion: "1")
            .writeFrame(to: &frame, version: version, correlationId: correlationId, clientId: "t")
        frame.moveReaderIndex(forwardBy: 4)
        return frame
    }

    private func responseBody(_ reply: BrokerReply, correlationId: Int32) throws -> ByteBuffer {
        guard case .response(var bytes) = reply else {
            Issue.record("expected a response, got \(reply)")
            return ByteBuffer()
        }
        #expect(bytes.readInteger(as: Int32.self) == Int32(bytes.readableBytes))
        // ApiVersions responses always carry response header v0.
        #expect(try ResponseHeader(from: &bytes, headerVersion: 0).correlationId == correlationId)
        return bytes
    }

    @Test(arguments: ApiVersionsRequest.versions)
    func answersEverySupportedVersionWithTheAdvertisedTable(version: Int16) async throws {
        let reply = try await makeBroker().handle(frame: requestFrameBody(version: version, correlationId: 11))
        let response = try ApiVersionsResponse.decode(try responseBody(reply, correlationId: 11), version: version)
        #expect(response.errorCode == .none)
        #expect(response.apiKeys == Broker.advertisedApis)
    }

    /// KIP-511: a too-new ApiVersions gets a v0 UNSUPPORTED_VERSION body naming the supported range,
    /// and the connection stays open.
    @Test func tooNewVersionGetsTheFallbackReply() async throws {
        var frame = ByteBuffer()
        RequestHeader(apiKey: .apiVersions, apiVersion: 99, correlationId: 3, clientId: "t").write(to: &frame)
        frame.writeBytes([0xde, 0xad])  // a body of a version nobody can parse
        let body = try responseBody(try await makeBroker().handle(frame: frame), correlationId: 3)
        let response = try ApiVersionsResponse.decode(body, version: 0)
        #expect(response.errorCode == .unsupportedVersion)
        #expect(
            response.apiKeys == [
                .init(apiKey: .apiVersions, minVersion: 0, maxVersion: ApiVersionsRequest.versions.upperBound)
            ]
        )
    }

    @Test func unknownApiClosesTheConnection() async throws {
        var frame = ByteBuffer()
        RequestHeader(apiKey: ApiKey(rawValue: 9999), apiVersion: 0, correlationId: 1).write(to: &frame)
        guard case .closeConnection = try await makeBroker().handle(frame: frame) else {
            Issue.record("expected the connection to be closed")
            return
        }
    }

    @Test func malformedRequestsCloseTheConnection() async throws {
        var truncated = requestFrameBody(version: 3, correlationId: 1)
        truncated.moveWriterIndex(to: truncated.writerIndex - 2)
        for frame in [truncated, ByteBuffer(bytes: [0, 18, 0])] {
            guard case .closeConnection = try await makeBroker().handle(frame: frame) else {
                Issue.record("expected the connection to be closed for \(frame)")
                continue
            }
        }
    }

    /// Bytes after the last field are ignored, as Kafka's request parser ignores them (librdkafka
    /// 2.16 sends Metadata v12 with the v8-v10 include_cluster_authorized_operations in it).
    @Test func trailingBytesAfterARequestAreIgnored() async throws {
        var trailing = requestFrameBody(version: 3, correlationId: 5)
        trailing.writeBytes([0, 1, 0])
        let response = try ApiVersionsResponse.decode(
            try responseBody(try await makeBroker().handle(frame: trailing), correlationId: 5),
            version: 3
        )
        #expect(response.errorCode == .none)
    }
}
