import NIOCore
import NIOPosix
import TernWire

/// A bare Kafka connection for tests: writes frames (well-formed or not) and reads response frames.
final class RawConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var nextCorrelationId: Int32 = 1

    fileprivate init(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.inbound = inbound
        self.outbound = outbound
    }

    func send<Request: KafkaRequestMessage>(_ request: Request, version: Int16) async throws -> Request.Response {
        let correlationId = self.nextCorrelationId
        self.nextCorrelationId += 1
        var frame = ByteBuffer()
        request.writeFrame(to: &frame, version: version, correlationId: correlationId, clientId: "raw-test")
        try await self.outbound.write(frame)
        guard var response = try await self.inbound.next() else { throw TestFailure("connection closed") }
        let header = try ResponseHeader(
            from: &response,
            headerVersion: Request.apiKey.responseHeaderVersion(for: version)
        )
        guard header.correlationId == correlationId else {
            throw TestFailure("correlation id \(header.correlationId), expected \(correlationId)")
        }
        return try Request.Response.decode(response, version: version)
    }

    func writeRaw(_ bytes: ByteBuffer) async throws {
        try await self.outbound.write(bytes)
    }

    /// Waits for the broker to close the connection; true if nothing was sent back before.
    func closedWithoutResponse() async -> Bool {
        do {
            return try await self.inbound.next() == nil
        } catch {
            return true
        }
    }
}

/// Opens a connection to the broker on `port`, runs `body` with it, and closes it.
func withRawConnection<T>(port: Int, _ body: (RawConnection) async throws -> T) async throws -> T {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await body(RawConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound))
    }
}
