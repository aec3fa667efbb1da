import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SwiftASN1
import Synchronization
import TernBroker
import TernWire
import X509

/// The Kafka listener: accepts TCP connections, frames requests, hands each frame to the broker
/// and writes its replies.
///
/// Per connection, requests are handed to the broker one at a time in arrival order, and replies
/// are written in that same order. A reply the broker leaves pending (a produce waiting for its
/// fsync, a long-polling fetch) does not stop the next requests from being read and started, up to
/// `maximumInFlightRequests`; that is what lets one producer connection keep several acks=all
/// batches in one group commit.
///
/// A pending reply is cancelled when its connection's reading ends: the peer closed the socket,
/// the connection was idle too long, or the listener shuts down. What cancelling does depends on
/// the wait: a group request parked for other members is dropped (the connection closes without
/// its response), a long-polling fetch is answered at once with what it has, and a produce or
/// commit that waits for its fsync is still answered. So neither a closed socket nor a shutdown
/// waits for a rebalance or a session timeout.
///
/// Idle connections: with `connectionsMaxIdleMs` (Kafka's `connections.max.idle.ms`), a
/// connection is closed when no complete request arrived and no reply was pending for that long.
/// Bytes of an unfinished frame do not count as a request, so a client that stops mid-frame is
/// dropped by the same timeout.
///
/// Slow readers: a connection's replies are handed to its socket one at a time, and NIO buffers
/// at most its write watermark (64 KiB) beyond the one being written, so a client that does not
/// read holds at most `maximumQueuedReplyBytes` (plus one reply) in the broker: its next request
/// is read only when there is room (`ReplyBudget`), and after a Fetch only once that fetch's
/// reply exists (its size is unknown before). With `writeTimeoutMs`, a connection whose
/// next reply could not be handed to the socket for that long is closed.
public final class KafkaServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Kafka's `socket.request.max.bytes`: larger frames are refused at their size prefix and
        /// the connection is closed.
        public var maximumRequestBytes: Int
        /// Requests read but not yet answered, per connection.
        public var maximumInFlightRequests: Int
        /// Kafka's `connections.max.idle.ms`: a connection with no complete request and no pending
        /// reply for this long is closed (a frame left unfinished counts as no request). Zero or
        /// negative: never.
        public var connectionsMaxIdleMs: Int64
        /// `socket.write.timeout.ms`: a connection whose reply waits this long for its socket to
        /// take it (the client stopped reading) is closed. Zero or negative: never.
        public var writeTimeoutMs: Int64
        /// Bytes of replies made but not yet taken by the socket above which a connection's next
        /// request waits (one reply may cross it).
        public var maximumQueuedReplyBytes: Int
        /// Kafka's `max.connections`: open connections in all; a connection over it is closed as
        /// soon as it is accepted.
        public var maximumConnections: Int
        /// Kafka's `max.connections.per.ip`: open connections from one client address.
        public var maximumConnectionsPerAddress: Int
        /// Kafka's `max.connections.per.ip.overrides`: per-address limits, by IP address.
        public var connectionsPerAddressOverrides: [String: Int]
        /// The listener's name, in log lines.
        public var listenerName: String = "PLAINTEXT"
        /// What Metadata, FindCoordinator and DescribeCluster tell clients of this listener; nil:
        /// the broker configuration's advertised address.
        public var advertised: AdvertisedEndpoint?
        /// TLS for every connection (an SSL listener); nil: plaintext. Each accepted connection
        /// takes the box's current context, so a reload serves new connections with it.
        public var tls: TLSContextBox?
        /// The mechanisms of a SASL listener, whose connections must authenticate first; nil:
        /// not a SASL listener.
        public var saslMechanisms: [SaslMechanism]?
        /// On a TLS listener that asks for client certificates (`ssl.client.auth` requested or
        /// required): how a certificate's subject becomes the connection's user. A certificate
        /// no rule maps is refused (the connection closes), as Kafka fails its authentication.
        public var certificatePrincipalMapper: SslPrincipalMapper?

        public init(
            host: String = "127.0.0.1",
            port: Int = 9092,
            maximumRequestBytes: Int = KafkaFrameDecoder.defaultMaximumFrameLength,
            maximumInFlightRequests: Int = 32,
            connectionsMaxIdleMs: Int64 = 600_000,
            writeTimeoutMs: Int64 = 30_000,
            maximumQueuedReplyBytes: Int = 1 << 20,
            maximumConnections: Int = .max,
            maximumConnectionsPerAddress: Int = .max,
            connectionsPerAddressOverrides: [String: Int] = [:]
        ) {
            self.host = host
            self.port = port
            self.maximumRequestBytes = maximumRequestBytes
            self.maximumInFlightRequests = maximumInFlightRequests
            self.connectionsMaxIdleMs = connectionsMaxIdleMs
            self.writeTimeoutMs = writeTimeoutMs
            self.maximumQueuedReplyBytes = maximumQueuedReplyBytes
            self.maximumConnections = maximumConnections
            self.maximumConnectionsPerAddress = maximumConnectionsPerAddress
            self.connectionsPerAddressOverrides = connectionsPerAddressOverrides
        }

        var connectionLimits: ConnectionLimiter.Limits {
            ConnectionLimiter.Limits(
                maximumConnections: self.maximumConnections,
                maximumConnectionsPerAddress: self.maximumConnectionsPerAddress,
                addressOverrides: self.connectionsPerAddressOverrides
            )
        }
    }

    private typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    private enum Reply: Sendable {
        case ready(BrokerReply)
        case pending(UInt64, Task<BrokerReply, Never>)
    }

    /// A request's reply in the connection's write order, with what its latency metric needs.
    private struct Slot: Sendable {
        var reply: Reply
        var apiKey: Int16
        var started: ContinuousClock.Instant
    }

    private let serverChannel: NIOAsyncChannel<Connection, Never>
    private let broker: Broker
    private let logger: Logger
    private let configuration: Configuration
    /// Stops the request reader of each open connection, for graceful shutdown.
    private let readerStoppers = Mutex<[UInt64: @Sendable () -> Void]>([:])
    private let nextConnectionId = Atomic<UInt64>(0)
    private let shutdownFlag: ShutdownFlag
    private let limiter: ConnectionLimiter
    private let refusalLog: RefusalLog

    /// The address actually bound (port 0 in the configuration picks a free port).
    public let localAddress: SocketAddress

    /// Set before the listener closes. A connection accepted after that is refused in the child
    /// initializer, before an async channel exists for it: an async channel the accept loop never
    /// picks up would crash on deinit (its writer was never finished).
    ///
    /// Every async channel made for a connection is also registered as unclaimed until the accept
    /// loop takes it; those the loop never takes (accepted as the listener closed) are closed after
    /// the loop ends, for the same reason.
    private final class ShutdownFlag: Sendable {
        let isSet = Atomic<Bool>(false)
        private let unclaimed = Mutex<[ObjectIdentifier: Connection]>([:])

        func register(_ connection: Connection) {
            self.unclaimed.withLock { $0[ObjectIdentifier(connection.channel)] = connection }
        }

        func claim(_ connection: Connection) {
            _ = self.unclaimed.withLock { $0.removeValue(forKey: ObjectIdentifier(connection.channel)) }
        }

        func takeUnclaimed() -> [Connection] {
            self.unclaimed.withLock { unclaimed in
                defer { unclaimed.removeAll() }
                return Array(unclaimed.values)
            }
        }
    }

    private init(
        serverChannel: NIOAsyncChannel<Connection, Never>,
        broker: Broker,
        logger: Logger,
        configuration: Configuration,
        shutdownFlag: ShutdownFlag
    ) throws {
        self.shutdownFlag = shutdownFlag
        self.serverChannel = serverChannel
        self.broker = broker
        self.logger = logger
        self.configuration = configuration
        self.limiter = ConnectionLimiter(limits: configuration.connectionLimits)
        self.refusalLog = RefusalLog(logger: logger)
        guard let address = serverChannel.channel.localAddress else {
            throw ChannelError.inappropriateOperationForState
        }
        self.localAddress = address
    }

    /// Binds the listener to `configuration.host` and `.port`. Connections are served once
    /// `run()` is called.
    public static func bind(
        configuration: Configuration,
        broker: Broker,
        logger: Logger,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) async throws -> KafkaServer {
        let socket = try ListenerSocket.bind(host: configuration.host, port: configuration.port)
        return try await Self.listen(
            on: socket,
            configuration: configuration,
            broker: broker,
            logger: logger,
            eventLoopGroup: eventLoopGroup
        )
    }

    /// Starts listening on a socket bound earlier (`configuration.host` and `.port` are then
    /// not used): ternd binds before it opens the data directory, so a port in use fails before
    /// anything touches the logs, and listens only once the broker is open. Connections are
    /// served once `run()` is called.
    public static func listen(
        on socket: ListenerSocket,
        configuration: Configuration,
        broker: Broker,
        logger: Logger,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) async throws -> KafkaServer {
        guard let descriptor = socket.take() else { throw ChannelError.ioOnClosedChannel }
        let maximumRequestBytes = configuration.maximumRequestBytes
        let tls = configuration.tls
        let shutdownFlag = ShutdownFlag()
        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(descriptor) { child in
                child.eventLoop.makeCompletedFuture {
                    guard !shutdownFlag.isSet.load(ordering: .sequentiallyConsistent) else {
                        throw ChannelError.ioOnClosedChannel
                    }
                    if let tls {
                        try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current))
                    }
                    try child.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(maximumFrameLength: maximumRequestBytes))
                    )
                    let connection = try Connection(wrappingChannelSynchronously: child)
                    shutdownFlag.register(connection)
                    return connection
                }
            }
        // NIO listens on an adopted socket with its default backlog (128); raise it to the 256 the
        // listener always had (a second listen(2) only updates the backlog).
        _ = systemListen(descriptor, ListenerSocket.backlog)
        return try KafkaServer(
            serverChannel: channel,
            broker: broker,
            logger: logger,
            configuration: configuration,
            shutdownFlag: shutdownFlag
        )
    }

    /// Connections being served right now (accepted and not yet ended).
    public var openConnectionCount: Int {
        self.readerStoppers.withLock { $0.count }
    }

    /// Serves connections until the listener is closed and every connection has ended.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await self.serverChannel.executeThenClose { inbound in
                for try await connection in inbound {
                    self.shutdownFlag.claim(connection)
                    group.addTask { await self.serve(connection) }
                }
            }
        }
        for connection in self.shutdownFlag.takeUnclaimed() {
            try? await connection.executeThenClose { _, _ in }
        }
    }

    /// Stops accepting connections and stops reading requests; requests already read are answered,
    /// then each connection closes and `run()` returns.
    public func shutdownGracefully() async {
        self.shutdownFlag.isSet.store(true, ordering: .sequentiallyConsistent)
        try? await self.serverChannel.channel.close()
        let stoppers = self.readerStoppers.withLock { Array($0.values) }
        stoppers.forEach { $0() }
    }

    private func serve(_ connection: Connection) async {
        let remote = connection.channel.remoteAddress.map { "\($0)" } ?? "unknown"
        let address = connection.channel.remoteAddress?.ipAddress ?? "unknown"
        if let refusal = self.limiter.admit(address: address) {
            self.refusalLog.refused(refusal, remote: remote)
            try? await connection.executeThenClose { _, _ in }
            return
        }
        defer { self.limiter.release(address: address) }
        let clientHost = connection.channel.remoteAddress?.ipAddress.map { "/\($0)" } ?? ""
        let remoteAddress =
            connection.channel.remoteAddress.map { address in
                "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
            } ?? "unknown"
        let connectionId = self.nextConnectionId.add(1, ordering: .relaxed).oldValue
        let metrics = self.broker.metrics
        metrics.connectionOpened()
        defer { metrics.connectionClosed() }
        do {
            try await connection.executeThenClose { inbound, outbound in
                let (slots, slotWriter) = AsyncStream<Slot>.makeStream()
                let inFlight = AsyncSemaphore(permits: self.configuration.maximumInFlightRequests)
                let pendingReplies = PendingReplies()
                let replyBudget = ReplyBudget(limit: self.configuration.maximumQueuedReplyBytes)
                let sasl = self.configuration.saslMechanisms.map { SaslSession(enabledMechanisms: $0) }
                let activity = ConnectionActivity()
                let reader = Task {
                    defer {
                        // Nobody reads this connection any more (the peer closed it, it idled
                        // out, or the listener shuts down): stop waiting for parked replies.
                        pendingReplies.cancelAll()
                        slotWriter.finish()
                    }
                    var certificateUser: String?
                    // Set until the certificate is read: a frame means the handshake is over, so it
                    // is read once, before the first request.
                    var unreadCertificate = self.configuration.certificatePrincipalMapper
                    for try await frame in inbound {
                        if let mapper = unreadCertificate {
                            unreadCertificate = nil
                            switch await Self.certificateUser(of: connection.channel, mapper: mapper) {
                            case .user(let user):
                                certificateUser = user
                            case .noCertificate:
                                break
                            case .unmapped(let subject):
                                self.logger.warning(
                                    "refusing a client certificate that ssl.principal.mapping.rules maps to no user",
                                    metadata: ["subject": "\(subject)", "remote": "\(remoteAddress)"]
                                )
                                return
                            }
                        }
                        activity.requestRead()
                        await inFlight.acquire()
                        await replyBudget.waitForRoom()
                        if Task.isCancelled { return }
                        let started = ContinuousClock.now
                        let apiKey = frame.getInteger(at: frame.readerIndex, as: Int16.self) ?? -1
                        switch await self.broker.handle(
                            frame: frame,
                            clientHost: clientHost,
                            remoteAddress: remoteAddress,
                            advertised: self.configuration.advertised,
                            sasl: sasl,
                            certificateUser: certificateUser
                        ) {
                        case .pending(let work):
                            let (id, task) = pendingReplies.start {
                                let reply = await Self.resolve(work)
                                replyBudget.add(reply.byteCount)
                                return reply
                            }
                            slotWriter.yield(Slot(reply: .pending(id, task), apiKey: apiKey, started: started))
                            if apiKey == ApiKey.fetch.rawValue {
                                // Fetches are not pipelined (clients send one at a time): until
                                // this one's bytes exist the budget cannot count them, so a client
                                // that pipelines fetches and reads nothing could make the broker
                                // read `maximumInFlightRequests` of them at once. A cancelled
                                // fetch answers at once.
                                await withTaskCancellationHandler {
                                    _ = await task.value
                                } onCancel: {
                                    task.cancel()
                                }
                            }
                        case .responseThenClose(let bytes):
                            replyBudget.add(bytes.readableBytes)
                            slotWriter.yield(
                                Slot(reply: .ready(.responseThenClose(bytes)), apiKey: apiKey, started: started)
                            )
                            return
                        case .closeConnection(let reason):
                            var metadata = Self.requestContext(frame)
                            metadata["connection"] = "\(connectionId)"
                            metadata["remote"] = "\(remote)"
                            metadata["reason"] = "\(reason)"
                            self.logger.warning(
                                "closing connection on a request the broker cannot serve",
                                metadata: metadata
                            )
                            slotWriter.yield(
                                Slot(reply: .ready(.closeConnection(reason: reason)), apiKey: apiKey, started: started)
                            )
                            return
                        case let reply:
                            replyBudget.add(reply.byteCount)
                            slotWriter.yield(Slot(reply: .ready(reply), apiKey: apiKey, started: started))
                        }
                    }
                }
                self.readerStoppers.withLock { $0[connectionId] = { reader.cancel() } }
                if self.shutdownFlag.isSet.load(ordering: .sequentiallyConsistent) { reader.cancel() }
                let idleMs = self.configuration.connectionsMaxIdleMs
                let watchdog: Task<Void, Never>? =
                    idleMs > 0
                    ? Task {
                        await activity.closeWhenIdle(connection.channel, idleMs: idleMs) {
                            self.logger.info(
                                "closing idle connection",
                                metadata: [
                                    "connection": "\(connectionId)", "remote": "\(remote)",
                                    "connections.max.idle.ms": "\(idleMs)",
                                ]
                            )
                        }
                    } : nil
                let writeTimeoutMs = self.configuration.writeTimeoutMs
                let writeWatchdog: Task<Void, Never>? =
                    writeTimeoutMs > 0
                    ? Task {
                        await activity.closeWhenWriteStalls(connection.channel, timeoutMs: writeTimeoutMs) {
                            metrics.slowConnectionClosed()
                            self.logger.warning(
                                "closing a connection that does not read its replies",
                                metadata: [
                                    "connection": "\(connectionId)", "remote": "\(remote)",
                                    "socket.write.timeout.ms": "\(writeTimeoutMs)",
                                ]
                            )
                        }
                    } : nil
                defer {
                    reader.cancel()
                    watchdog?.cancel()
                    writeWatchdog?.cancel()
                    _ = self.readerStoppers.withLock { $0.removeValue(forKey: connectionId) }
                }

                writing: for await slot in slots {
                    let reply: BrokerReply
                    switch slot.reply {
                    case .ready(let ready): reply = ready
                    case .pending(let id, let task):
                        reply = await task.value
                        pendingReplies.finished(id)
                    }
                    inFlight.release()
                    defer { activity.replyDone() }
                    switch reply {
                    case .response(let bytes):
                        activity.writeStarted()
                        try await outbound.write(bytes)
                        activity.writeDone()
                        replyBudget.remove(bytes.readableBytes)
                        metrics.requestCompleted(
                            apiKey: slot.apiKey,
                            nanoseconds: Self.nanoseconds(since: slot.started)
                        )
                    case .noResponse, .pending:
                        metrics.requestCompleted(
                            apiKey: slot.apiKey,
                            nanoseconds: Self.nanoseconds(since: slot.started)
                        )
                        continue
                    case .responseThenClose(let bytes):
                        try await outbound.write(bytes)
                        metrics.requestCompleted(
                            apiKey: slot.apiKey,
                            nanoseconds: Self.nanoseconds(since: slot.started)
                        )
                        break writing
                    case .closeConnection:
                        break writing
                    }
                }
                // Frame decoding errors (oversized or negative sizes) surface here, from the reader.
                if case .failure(let error) = await reader.result {
                    throw error
                }
            }
        } catch {
            // A client going away mid-conversation is routine; anything else (a refused frame) is not.
            self.logger.log(
                level: Self.isOrdinaryDisconnect(error) ? .debug : .info,
                "connection closed on error",
                metadata: ["connection": "\(connectionId)", "remote": "\(remote)", "error": "\(error)"]
            )
        }
    }

    /// Whether a connection's error is only the peer closing or resetting it.
    static func isOrdinaryDisconnect(_ error: any Error) -> Bool {
        if let error = error as? ChannelError {
            switch error {
            case .ioOnClosedChannel, .eof, .alreadyClosed, .outputClosed, .inputClosed: return true
            default: return false
            }
        }
        if let error = error as? IOError {
            return [ECONNRESET, EPIPE, ECONNABORTED].contains(error.errnoCode)
        }
        // A TLS peer that closes the socket without a close_notify: most clients do.
        if let error = error as? NIOSSLError, case .uncleanShutdown = error { return true }
        return false
    }

    private static func nanoseconds(since start: ContinuousClock.Instant) -> Int64 {
        let elapsed = (ContinuousClock.now - start).components
        return elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000
    }

    /// The API, version, correlation id and client id of a request frame, as far as its header
    /// can be read, for the log line of a request that fails (never for one that succeeds).
    static func requestContext(_ frame: ByteBuffer) -> Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        let start = frame.readerIndex
        guard let apiKey = frame.getInteger(at: start, as: Int16.self),
            let version = frame.getInteger(at: start + 2, as: Int16.self),
            let correlationId = frame.getInteger(at: start + 4, as: Int32.self)
        else { return metadata }
        metadata["api"] = "\(ApiKey(rawValue: apiKey).name)"
        metadata["apiVersion"] = "\(version)"
        metadata["correlationId"] = "\(correlationId)"
        // Request headers v1 and v2 both carry the client id as a nullable int16-length string.
        if let length = frame.getInteger(at: start + 8, as: Int16.self), length >= 0,
            let clientId = frame.getString(at: start + 10, length: Int(length))
        {
            metadata["clientId"] = "\(clientId)"
        }
        return metadata
    }

    private static func resolve(_ work: @Sendable () async -> BrokerReply) async -> BrokerReply {
        var reply = await work()
        while case .pending(let next) = reply {
            reply = await next()
        }
        return reply
    }
}

extension BrokerReply {
    /// What the reply will make the connection hold until its socket takes it.
    fileprivate var byteCount: Int {
        if case .response(let bytes) = self { return bytes.readableBytes }
        return 0
    }
}

/// The tasks resolving a connection's pending replies, so they can all be cancelled when nobody
/// will read their answers.
private final class PendingReplies: Sendable {
    private struct State {
        var tasks: [UInt64: Task<BrokerReply, Never>] = [:]
        var nextId: UInt64 = 0
        var isCancelled = false
    }

    private let state = Mutex(State())

    /// Starts `work`; cancelled at once if `cancelAll` already ran.
    func start(_ work: @escaping @Sendable () async -> BrokerReply) -> (UInt64, Task<BrokerReply, Never>) {
        self.state.withLock { state in
            let id = state.nextId
            state.nextId += 1
            let task = Task { await work() }
            if state.isCancelled {
                task.cancel()
            } else {
                state.tasks[id] = task
            }
            return (id, task)
        }
    }

    func finished(_ id: UInt64) {
        _ = self.state.withLock { $0.tasks.removeValue(forKey: id) }
    }

    func cancelAll() {
        let tasks = self.state.withLock { state in
            state.isCancelled = true
            defer { state.tasks.removeAll() }
            return Array(state.tasks.values)
        }
        tasks.forEach { $0.cancel() }
    }
}

/// The TLS context a listener gives new connections; `replace` swaps it (the certificate reload on
/// SIGHUP) without touching connections already open.
public final class TLSContextBox: Sendable {
    private let context: Mutex<NIOSSLContext>

    public init(_ context: NIOSSLContext) {
        self.context = Mutex(context)
    }

    public var current: NIOSSLContext { self.context.withLock { $0 } }

    public func replace(with context: NIOSSLContext) {
        self.context.withLock { $0 = context }
    }
}

extension KafkaServer {
    enum CertificateUser: Sendable, Equatable {
        case user(String)
        case noCertificate
        /// The subject's distinguished name, which no rule maps.
        case unmapped(String)
    }

    /// The user of the peer's certificate on a TLS connection: its subject's distinguished name
    /// (RFC 4514, most specific first, as Java's `X500Principal.getName()`) through the rules.
    static func certificateUser(of channel: any Channel, mapper: SslPrincipalMapper) async -> CertificateUser {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get(),
            let der = try? certificate.toDERBytes(),
            let parsed = try? Certificate(derEncoded: der)
        else { return .noCertificate }
        let subject = String(describing: parsed.subject)
        return mapper.userName(forDistinguishedName: subject).map { .user($0) } ?? .unmapped(subject)
    }
}

/// When a connection last finished a request or a reply, and how many requests it has in flight,
/// for `connections.max.idle.ms`. Two relaxed atomics per request; the watchdog reads them.
private final class ConnectionActivity: Sendable {
    private static let origin = ContinuousClock.now
    private let inFlight = Atomic<Int>(0)
    private let lastActivityNanoseconds = Atomic<Int64>(ConnectionActivity.nowNanoseconds())
    /// When the reply being handed to the socket started waiting; 0 when none is.
    private let writeStartedNanoseconds = Atomic<Int64>(0)

    private static func nowNanoseconds() -> Int64 {
        let elapsed = (ContinuousClock.now - Self.origin).components
        return elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000
    }

    /// A complete request frame arrived.
    func requestRead() {
        self.inFlight.add(1, ordering: .relaxed)
        self.lastActivityNanoseconds.store(Self.nowNanoseconds(), ordering: .relaxed)
    }

    /// A request's reply was written (or it needed none).
    func replyDone() {
        self.lastActivityNanoseconds.store(Self.nowNanoseconds(), ordering: .relaxed)
        self.inFlight.subtract(1, ordering: .relaxed)
    }

    /// A reply is being handed to the socket (suspends while the channel is not writable).
    func writeStarted() {
        self.writeStartedNanoseconds.store(max(Self.nowNanoseconds(), 1), ordering: .relaxed)
    }

    func writeDone() {
        self.writeStartedNanoseconds.store(0, ordering: .relaxed)
    }

    /// Closes `channel` once one reply has waited `timeoutMs` for the socket to take it. Returns
    /// then, or when cancelled. Looks four times per period, so a stall is caught within 1.25×.
    func closeWhenWriteStalls(_ channel: any Channel, timeoutMs: Int64, onClose: () -> Void) async {
        let timeoutNanoseconds = timeoutMs * 1_000_000
        while !Task.isCancelled {
            let started = self.writeStartedNanoseconds.load(ordering: .relaxed)
            if started != 0, Self.nowNanoseconds() - started >= timeoutNanoseconds {
                onClose()
                channel.close(promise: nil)
                return
            }
            try? await Task.sleep(for: .nanoseconds(max(timeoutNanoseconds / 4, 1_000_000)))
        }
    }

    /// Closes `channel` once it has been idle for `idleMs`: no request in flight and none
    /// finished for that long. Returns then, or when cancelled.
    func closeWhenIdle(_ channel: any Channel, idleMs: Int64, onClose: () -> Void) async {
        let idleNanoseconds = idleMs * 1_000_000
        while !Task.isCancelled {
            let idleFor = Self.nowNanoseconds() - self.lastActivityNanoseconds.load(ordering: .relaxed)
            let busy = self.inFlight.load(ordering: .relaxed) > 0
            if !busy && idleFor >= idleNanoseconds {
                onClose()
                channel.close(promise: nil)
                return
            }
            // Busy: look again a full period later (its reply will have moved the clock).
            let waitNanoseconds = busy ? idleNanoseconds : idleNanoseconds - idleFor
            try? await Task.sleep(for: .nanoseconds(max(waitNanoseconds, 1_000_000)))
        }
    }
}
