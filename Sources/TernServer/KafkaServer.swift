import Logging
import NIOCore
import NIOPosix
import TernBroker
import TernWire

/// The Kafka listener: accepts TCP connections, frames requests, hands each frame to the broker
/// and writes its reply. Requests on one connection are handled one at a time, in order.
public final class KafkaServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Kafka's `socket.request.max.bytes`: larger frames are refused at their size prefix and
        /// the connection is closed.
        public var maximumRequestBytes: Int

        public init(
            host: String = "127.0.0.1",
            port: Int = 9092,
            maximumRequestBytes: Int = KafkaFrameDecoder.defaultMaximumFrameLength
        ) {
            self.host = host
            self.port = port
            self.maximumRequestBytes = maximumRequestBytes
        }
    }

    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    private let broker: Broker
    private let logger: Logger

    /// The address actually bound (port 0 in the configuration picks a free port).
    public let localAddress: SocketAddress

    private init(
        serverChannel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>,
        broker: Broker,
        logger: Logger
    ) throws {
        self.serverChannel = serverChannel
        self.broker = broker
        self.logger = logger
        guard let address = serverChannel.channel.localAddress else {
            throw ChannelError.inappropriateOperationForState
        }
        self.localAddress = address
    }

    /// Binds the listener. Connections are served once `run()` is called.
    public static func bind(
        configuration: Configuration,
        broker: Broker,
        logger: Logger,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) async throws -> KafkaServer {
        let maximumRequestBytes = configuration.maximumRequestBytes
        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(maximumFrameLength: maximumRequestBytes))
                    )
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        return try KafkaServer(serverChannel: channel, broker: broker, logger: logger)
    }

    /// Serves connections until the listener is closed.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await self.serverChannel.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    /// Stops accepting connections; `run()` returns once the open ones have ended.
    public func close() async throws {
        try await self.serverChannel.channel.close()
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let remote = connection.channel.remoteAddress.map { "\($0)" } ?? "unknown"
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await frame in inbound {
                    switch await self.broker.handle(frame: frame) {
                    case .response(let bytes):
                        try await outbound.write(bytes)
                    case .noResponse:
                        continue
                    case .closeConnection(let reason):
                        self.logger.info(
                            "closing connection",
                            metadata: ["remote": "\(remote)", "reason": "\(reason)"]
                        )
                        return
                    }
                }
            }
        } catch {
            // Oversized or negative frame sizes end up here, thrown by the frame decoder.
            self.logger.info("connection closed on error", metadata: ["remote": "\(remote)", "error": "\(error)"])
        }
    }
}
