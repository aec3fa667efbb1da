import Logging
import NIOCore
import NIOPosix
import TernBroker
import TernServer
import TernStorage
import TernWire
import Testing

/// What ends a connection besides bad input: `connections.max.idle.ms`, a frame left unfinished,
/// the peer closing while a request is parked, and a shutdown while one is.
@Suite struct ConnectionLifecycleTests {
    private typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    private func withServer(
        connectionsMaxIdleMs: Int64 = -1,
        writeTimeoutMs: Int64 = -1,
        initialRebalanceDelayMs: Int64 = 60_000,
        maximumConnections: Int = .max,
        maximumConnectionsPerAddress: Int = .max,
        connectionsPerAddressOverrides: [String: Int] = [:],
        _ body: (KafkaServer) async throws -> Void
    ) async throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let brokerConfiguration = try BrokerSettings.resolve([
            ["group.initial.rebalance.delay.ms": "\(initialRebalanceDelayMs)"]
        ]).broker
        let server = try await KafkaServer.bind(
            configuration: .init(
                host: "127.0.0.1",
                port: 0,
                connectionsMaxIdleMs: connectionsMaxIdleMs,
                writeTimeoutMs: writeTimeoutMs,
                maximumQueuedReplyBytes: 64 << 10,
                maximumConnections: maximumConnections,
                maximumConnectionsPerAddress: maximumConnectionsPerAddress,
                connectionsPerAddressOverrides: connectionsPerAddressOverrides
            ),
            broker: try Broker(
                configuration: brokerConfiguration,
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
            try await body(server)
            await server.shutdownGracefully()
        }
    }

    private func connect(to server: KafkaServer) async throws -> Connection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(to: server.localAddress) {
            channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
    }

    private func apiVersionsFrame(correlationId: Int32) -> ByteBuffer {
        var frame = ByteBuffer()
        ApiVersionsRequest(clientSoftwareName: "test", clientSoftwareVersion: "1")
            .writeFrame(to: &frame, version: 3, correlationId: correlationId, clientId: "test")
        return frame
    }

    /// A JoinGroup for a new group: it parks for `group.initial.rebalance.delay.ms`.
    private func joinGroupFrame(correlationId: Int32) -> ByteBuffer {
        var frame = ByteBuffer()
        JoinGroupRequest(
            groupId: "parked",
            sessionTimeoutMs: 30_000,
            rebalanceTimeoutMs: 30_000,
            protocolType: "consumer",
            protocols: [.init(name: "range", metadata: ByteBuffer(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))]
        ).writeFrame(to: &frame, version: 2, correlationId: correlationId, clientId: "test")
        return frame
    }

    /// Reads until the broker closes the connection (or, so a broken timeout fails rather than
    /// hangs, until the test gives up after 30 s and closes it); the responses seen and how long
    /// it took. Bounds on the time are loose: on a loaded machine the test process can stall for
    /// seconds.
    private func readUntilClosed(
        _ connection: Connection,
        _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>
    ) async -> (responses: Int, elapsed: Duration) {
        let giveUp = Self.closeAfter(connection, .seconds(30))
        defer { giveUp.cancel() }
        let start = ContinuousClock.now
        var responses = 0
        do {
            for try await _ in inbound { responses += 1 }
        } catch {}
        return (responses, ContinuousClock.now - start)
    }

    private static func closeAfter(_ connection: Connection, _ delay: Duration) -> Task<Void, Never> {
        let channel = connection.channel
        return Task {
            guard (try? await Task.sleep(for: delay)) != nil else { return }
            channel.close(promise: nil)
        }
    }

    private func waitUntil(_ condition: () -> Bool, timeout: Duration = .seconds(5)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    /// A plain channel that keeps its connection open between requests: `ask` sends an
    /// ApiVersions and says whether the server answered it (false: it closed the connection).
    private final class ProbeConnection: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        // Touched on the channel's event loop only.
        private var waiting: EventLoopPromise<Bool>?
        private var isClosed = false
        private(set) var channel: (any Channel)!

        static func open(to server: KafkaServer) async throws -> ProbeConnection {
            let probe = ProbeConnection()
            probe.channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(
                            ByteToMessageHandler(KafkaFrameDecoder()),
                            probe
                        )
                    }
                }
                .connect(to: server.localAddress).get()
            return probe
        }

        func ask(_ frame: ByteBuffer) async -> Bool {
            let channel = self.channel!
            let answered = channel.eventLoop.flatSubmit { () -> EventLoopFuture<Bool> in
                if self.isClosed { return channel.eventLoop.makeSucceededFuture(false) }
                let promise = channel.eventLoop.makePromise(of: Bool.self)
                self.waiting = promise
                channel.writeAndFlush(frame, promise: nil)
                return promise.futureResult
            }
            return (try? await answered.get()) ?? false
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.waiting?.succeed(true)
            self.waiting = nil
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.isClosed = true
            self.waiting?.succeed(false)
            self.waiting = nil
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        func close() async {
            try? await self.channel.close()
        }
    }

    /// `max.connections`: the connection over the limit is closed unanswered; once one of the
    /// others closes, a new one is served again.
    @Test func aConnectionOverMaxConnectionsIsClosed() async throws {
        try await withServer(maximumConnections: 2) { server in
            let first = try await ProbeConnection.open(to: server)
            let second = try await ProbeConnection.open(to: server)
            #expect(await first.ask(apiVersionsFrame(correlationId: 1)))
            #expect(await second.ask(apiVersionsFrame(correlationId: 2)))
            let third = try await ProbeConnection.open(to: server)
            #expect(await !third.ask(apiVersionsFrame(correlationId: 3)))
            await first.close()
            // The server counts a connection until its side has seen the close.
            var fourthAnswered = false
            for attempt in Int32(4)...100 where !fourthAnswered {
                let fourth = try await ProbeConnection.open(to: server)
                fourthAnswered = await fourth.ask(apiVersionsFrame(correlationId: attempt))
                await fourth.close()
                if !fourthAnswered { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(fourthAnswered)
            #expect(await second.ask(apiVersionsFrame(correlationId: 101)))
            await second.close()
            await third.close()
        }
    }

    /// `max.connections.per.ip` with an override for the address: the override's count applies.
    @Test func perAddressLimitsAndOverrides() async throws {
        for (limit, overrides, expectedServed) in [(1, [String: Int](), 1), (1, ["127.0.0.1": 3], 3)] {
            try await withServer(
                maximumConnectionsPerAddress: limit,
                connectionsPerAddressOverrides: overrides
            ) { server in
                var connections: [ProbeConnection] = []
                var served = 0
                for id in Int32(1)...4 {
                    let connection = try await ProbeConnection.open(to: server)
                    connections.append(connection)
                    if await connection.ask(apiVersionsFrame(correlationId: id)) { served += 1 }
                }
                #expect(served == expectedServed, "limit \(limit), overrides \(overrides)")
                for connection in connections { await connection.close() }
            }
        }
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeout() async throws {
        try await withServer(connectionsMaxIdleMs: 300) { server in
            let connection = try await connect(to: server)
            try await connection.executeThenClose { inbound, _ in
                let (responses, elapsed) = await readUntilClosed(connection, inbound)
                #expect(responses == 0)
                #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(25), "closed after \(elapsed)")
            }
        }
    }

    /// Requests keep a connection open past the timeout; it is closed once they stop.
    @Test func requestsKeepAConnectionOpen() async throws {
        // A stall of the test process between the server's reply and the client stamping it is
        // invisible to the client's clocks, and stalls of over a second were seen on a loaded
        // machine; so a close counts as wrong only when it came under half the timeout after the
        // previous reply. Requests that did not count would close it ~0.1 s after one.
        let idle = Duration.seconds(3)
        try await withServer(connectionsMaxIdleMs: 3000) { server in
            let connection = try await connect(to: server)
            try await connection.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                var lastReply = ContinuousClock.now
                for id in Int32(1)...60 {
                    try await Task.sleep(for: .milliseconds(100))
                    let sent = ContinuousClock.now
                    let gap = sent - lastReply
                    let answered = try? await {
                        try await outbound.write(apiVersionsFrame(correlationId: id))
                        return try await iterator.next()
                    }()
                    guard answered ?? nil != nil else {
                        // Closed. Fine only if the server saw nothing for the timeout: from the
                        // previous reply to the close, no request was read (a stall of this
                        // process can hold a sent request unread; the server counts a request
                        // once it has read it, as Kafka counts socket activity).
                        let replyToClose = gap + (ContinuousClock.now - sent)
                        #expect(
                            replyToClose >= idle / 2,
                            "closed at request \(id), \(replyToClose) after the previous reply"
                        )
                        return
                    }
                    lastReply = ContinuousClock.now
                }
                // 6 s of requests every 100 ms: two timeouts' worth, still open. Now silence.
                let giveUp = Self.closeAfter(connection, .seconds(30))
                defer { giveUp.cancel() }
                let start = ContinuousClock.now
                #expect(try await iterator.next() == nil)
                let elapsed = ContinuousClock.now - start
                #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(25), "closed after \(elapsed)")
            }
        }
    }

    /// A client that sends part of a frame and stops is dropped by the same timeout: bytes of an
    /// unfinished frame are not a request.
    @Test func aFrameLeftUnfinishedIsDroppedByTheIdleTimeout() async throws {
        try await withServer(connectionsMaxIdleMs: 300) { server in
            let connection = try await connect(to: server)
            try await connection.executeThenClose { inbound, outbound in
                var partial = ByteBuffer()
                partial.writeInteger(Int32(100))
                partial.writeBytes([0, 18, 0, 3, 0, 0])
                try await outbound.write(partial)
                let (responses, elapsed) = await readUntilClosed(connection, inbound)
                #expect(responses == 0)
                #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(25), "closed after \(elapsed)")
            }
            #expect(try await waitUntil { server.openConnectionCount == 0 })
        }
    }

    /// `socket.write.timeout.ms`: a client that pipelines requests and never reads its socket is
    /// closed once a reply has waited that long, while another client keeps being served.
    @Test func aClientThatStopsReadingIsClosedAfterTheWriteTimeout() async throws {
        try await withServer(writeTimeoutMs: 500) { server in
            let healthy = try await ProbeConnection.open(to: server)
            // Reads nothing, with a small receive buffer: the server's replies back up at once.
            let stalled = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.autoRead, value: false)
                .channelOption(.socketOption(.so_rcvbuf), value: 4096)
                .connect(to: server.localAddress).get()
            // ~500-byte answers to 30-byte requests: 20,000 of them fill any loopback buffers.
            var requests = ByteBuffer()
            for id in Int32(1)...20_000 { requests.writeImmutableBuffer(apiVersionsFrame(correlationId: id)) }
            stalled.writeAndFlush(requests, promise: nil)
            #expect(try await waitUntil { server.openConnectionCount == 2 })
            let start = ContinuousClock.now
            var healthyAnswers = 0
            // The replies back up only after the server has answered some 8,000 requests (4 MiB of
            // kernel buffers), which a loaded machine running a debug build can take long for.
            while server.openConnectionCount > 1, ContinuousClock.now - start < .seconds(90) {
                if await healthy.ask(apiVersionsFrame(correlationId: 1)) { healthyAnswers += 1 }
                try await Task.sleep(for: .milliseconds(20))
            }
            let elapsed = ContinuousClock.now - start
            #expect(server.openConnectionCount == 1, "the stalled client is still connected after \(elapsed)")
            #expect(elapsed >= .milliseconds(400), "closed after \(elapsed), before the write timeout")
            #expect(healthyAnswers > 0)
            #expect(await healthy.ask(apiVersionsFrame(correlationId: 2)), "the healthy client was closed too")
            await healthy.close()
            try? await stalled.close()
        }
    }

    /// A request waiting for its reply is not idleness: a JoinGroup parked for 1 s is answered
    /// through a 300 ms idle timeout.
    @Test func aParkedRequestIsNotIdle() async throws {
        try await withServer(connectionsMaxIdleMs: 300, initialRebalanceDelayMs: 1_000) { server in
            let connection = try await connect(to: server)
            try await connection.executeThenClose { inbound, outbound in
                try await outbound.write(joinGroupFrame(correlationId: 7))
                var iterator = inbound.makeAsyncIterator()
                var response = try #require(try await iterator.next(), "closed before the JoinGroup answer")
                #expect(try ResponseHeader(from: &response, headerVersion: 0).correlationId == 7)
                #expect(try JoinGroupResponse.decode(response, version: 2).errorCode == .none)
            }
        }
    }

    /// The peer goes away while its JoinGroup is parked (for a minute here): the connection ends
    /// at once instead of when the rebalance completes.
    @Test func closingTheSocketEndsAParkedRequest() async throws {
        try await withServer { server in
            let connection = try await connect(to: server)
            try await connection.executeThenClose { _, outbound in
                try await outbound.write(joinGroupFrame(correlationId: 1))
                #expect(try await waitUntil { server.openConnectionCount == 1 })
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(
                try await waitUntil({ server.openConnectionCount == 0 }, timeout: .seconds(20)),
                "the connection outlived its socket"
            )
        }
    }

    /// A shutdown does not wait for a parked request either: it is dropped (the connection closes
    /// without its response) and the listener stops at once.
    @Test func shutdownDropsAParkedRequest() async throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = try await KafkaServer.bind(
            configuration: .init(host: "127.0.0.1", port: 0),
            broker: try Broker(
                configuration: try BrokerSettings.resolve([["group.initial.rebalance.delay.ms": "60000"]]).broker,
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
        let running = Task { try await server.run() }
        let connection = try await connect(to: server)
        try await connection.executeThenClose { inbound, outbound in
            try await outbound.write(apiVersionsFrame(correlationId: 1))
            try await outbound.write(joinGroupFrame(correlationId: 2))
            var iterator = inbound.makeAsyncIterator()
            _ = try #require(try await iterator.next())  // ApiVersions
            try await Task.sleep(for: .milliseconds(200))
            let start = ContinuousClock.now
            await server.shutdownGracefully()
            #expect(try await iterator.next() == nil, "the parked JoinGroup was answered")
            try await running.value
            let elapsed = ContinuousClock.now - start
            // It used to wait for the rebalance: a minute here. Bounded well under that, not tighter:
            // a loaded CI machine has stalled this test process for 15 s.
            #expect(elapsed < .seconds(45), "shutdown took \(elapsed)")
        }
    }
}
