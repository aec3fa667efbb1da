import Logging
import NIOCore
import NIOPosix
import TernBroker
import TernServer
import TernStorage
import TernWire
import Testing

/// The listener over real loopback sockets: framing, ordering, and bad input that must close
/// one connection without disturbing the others.
@Suite struct KafkaServerTests {
    private typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    private func withServer(
        maximumRequestBytes: Int = 1024 * 1024,
        _ body: (SocketAddress) async throws -> Void
    ) async throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = try await KafkaServer.bind(
            configuration: .init(host: "127.0.0.1", port: 0, maximumRequestBytes: maximumRequestBytes),
            broker: try Broker(
                configuration: BrokerConfiguration(),
                logs: try await LogManager.open(
                    dataDirectory: "/data",
                    defaultConfig: LogConfig(),
                    fileSystem: InMemoryFileSystem(),
                    logger: logger
                ),
                logger: logger
            ),
            logger: logger
        )
        try await withThrowingTaskGroup { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            try await body(server.localAddress)
            await server.shutdownGracefully()
        }
    }

    private func connect(to address: SocketAddress) async throws -> Connection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(to: address) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
    }

    private func apiVersionsFrame(correlationId: Int32, version: Int16 = 3) -> ByteBuffer {
        var frame = ByteBuffer()
        ApiVersionsRequest(clientSoftwareName: "test", clientSoftwareVersion: "1")
            .writeFrame(to: &frame, version: version, correlationId: correlationId, clientId: "test")
        return frame
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withServer { address in
            let connection = try await connect(to: address)
            try await connection.executeThenClose { inbound, outbound in
                var pipelined = ByteBuffer()
                for id in Int32(1)...20 {
                    var frame = apiVersionsFrame(correlationId: id, version: Int16(id % 4))
                    pipelined.writeBuffer(&frame)
                }
                try await outbound.write(pipelined)
                var correlationIds: [Int32] = []
                for try await var response in inbound {
                    correlationIds.append(try ResponseHeader(from: &response, headerVersion: 0).correlationId)
                    if correlationIds.count == 20 { break }
                }
                #expect(correlationIds == Array(1...20))
            }
        }
    }

    /// Each kind of bad input closes its own connection; a connection opened before it keeps working.
    @Test(arguments: ["oversized", "negativeSize", "unknownApi", "garbageBody"])
    func badInputClosesOnlyItsConnection(kind: String) async throws {
        try await withServer(maximumRequestBytes: 4096) { address in
            let bystander = try await connect(to: address)
            let offender = try await connect(to: address)
            var bad = ByteBuffer()
            switch kind {
            case "oversized":
                bad.writeInteger(Int32(4097))  // refused at the prefix: no body follows
            case "negativeSize":
                bad.writeInteger(Int32(-7))
            case "unknownApi":
                bad.writeKafkaFrame {
                    RequestHeader(apiKey: ApiKey(rawValue: 777), apiVersion: 0, correlationId: 1).write(to: &$0)
                }
            default:
                bad.writeKafkaFrame { $0.writeBytes([0, 18, 0, 3, 0, 0, 0, 1, 0x7f]) }
            }
            try await offender.executeThenClose { inbound, outbound in
                try await outbound.write(bad)
                var received = 0
                for try await _ in inbound { received += 1 }
                #expect(received == 0, "the offender's connection ends without a response")
            }
            try await bystander.executeThenClose { inbound, outbound in
                try await outbound.write(apiVersionsFrame(correlationId: 99))
                var iterator = inbound.makeAsyncIterator()
                var response = try #require(try await iterator.next())
                #expect(try ResponseHeader(from: &response, headerVersion: 0).correlationId == 99)
                #expect(try ApiVersionsResponse.decode(response, version: 3).apiKeys == Broker.advertisedApis)
            }
        }
    }
}
