import Logging
import NIOCore
import TernWire

/// What the transport does after the broker has seen one request frame.
public enum BrokerReply: Sendable, Equatable {
    /// Send this response frame (size prefix included).
    case response(ByteBuffer)
    /// Send nothing (e.g. Produce with acks=0) and read the next request.
    case noResponse
    /// Close the connection, as Kafka does for requests it cannot parse or does not support.
    case closeConnection(reason: String)
}

/// The broker's request handling, independent of any transport: one request frame in, one reply
/// out. The transport calls `handle` for one frame at a time per connection, so responses keep
/// request order as Kafka clients expect.
public struct Broker: Sendable {
    /// The APIs and versions this broker advertises in ApiVersions. Only what is served is listed:
    /// a client picks the highest common version, so advertising an API means answering it.
    public static let advertisedApis: [ApiVersionsResponse.ApiVersion] = [
        .init(
            apiKey: .apiVersions,
            minVersion: ApiVersionsRequest.versions.lowerBound,
            maxVersion: ApiVersionsRequest.versions.upperBound
        )
    ]

    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func handle(frame: ByteBuffer) async -> BrokerReply {
        let prefix: RequestHeader.Prefix
        do {
            prefix = try RequestHeader.peekPrefix(frame)
        } catch {
            return .closeConnection(reason: "request of \(frame.readableBytes) bytes is too short for a header")
        }
        guard prefix.apiKey == .apiVersions else {
            return .closeConnection(reason: "unsupported API \(prefix.apiKey) v\(prefix.apiVersion)")
        }
        return self.handleApiVersions(frame: frame, prefix: prefix)
    }

    private func handleApiVersions(frame: ByteBuffer, prefix: RequestHeader.Prefix) -> BrokerReply {
        var response = ByteBuffer()
        // KIP-511: a version this broker does not know gets a v0 body naming the ApiVersions range
        // it does support, so the client can retry with that version instead of giving up.
        guard ApiVersionsRequest.versions.contains(prefix.apiVersion) else {
            ApiVersionsResponse(
                errorCode: .unsupportedVersion,
                apiKeys: Self.advertisedApis.filter { $0.apiKey == .apiVersions }
            ).writeFrame(to: &response, version: 0, correlationId: prefix.correlationId)
            return .response(response)
        }
        do {
            var body = frame
            _ = try RequestHeader(from: &body)
            _ = try ApiVersionsRequest.decode(body, version: prefix.apiVersion)
        } catch {
            return .closeConnection(reason: "malformed ApiVersions v\(prefix.apiVersion) request: \(error)")
        }
        ApiVersionsResponse(apiKeys: Self.advertisedApis)
            .writeFrame(to: &response, version: prefix.apiVersion, correlationId: prefix.correlationId)
        return .response(response)
    }
}
