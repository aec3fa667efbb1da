import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import TernScram
import TernWire

#if canImport(Glibc)
    import Glibc
#endif

/// One TCP connection to one broker. Requests are pipelined: each gets a correlation id, and the
/// answer is matched back to it (with the API and version that decode it, which the response
/// header does not carry). A request that is not answered within its timeout fails and closes the
/// connection, since everything behind it would be stuck too.
final class BrokerConnection: Sendable {
    let address: BrokerAddress
    /// The broker id, or -1 for a bootstrap connection made before metadata was known.
    let nodeId: Int32
    private let channel: any Channel
    private let clientId: String
    private let requestTimeout: Duration
    /// Each request and response at trace level (`tern -d`): API, version, error codes.
    private let logger: Logger
    private let nextCorrelationId = Atomic<Int32>(1)
    /// The versions the broker advertised, by API key.
    let brokerVersions: [Int16: ClosedRange<Int16>]

    private init(
        address: BrokerAddress,
        nodeId: Int32,
        channel: any Channel,
        clientId: String,
        requestTimeout: Duration,
        brokerVersions: [Int16: ClosedRange<Int16>],
        logger: Logger
    ) {
        self.address = address
        self.nodeId = nodeId
        self.channel = channel
        self.clientId = clientId
        self.requestTimeout = requestTimeout
        self.brokerVersions = brokerVersions
        self.logger = logger
    }

    var isActive: Bool { self.channel.isActive }

    /// Connects and negotiates API versions.
    static func connect(
        to address: BrokerAddress,
        nodeId: Int32,
        configuration: ClientConfiguration,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(TernClientError) -> BrokerConnection {
        let maximumFrame = configuration.maximumResponseBytes
        let tls = try configuration.tls.map { tls throws(TernClientError) in try Self.tlsContext(tls) }
        // SNI and host name checks take a name; for an IP address NIOSSL checks the peer's address.
        let serverHostname = Self.isIPAddress(address.host) ? nil : address.host
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: tls, serverHostname: serverHostname)
                            )
                        }
                        let firstBytes = FirstBytesHandler()
                        try channel.pipeline.syncOperations.addHandler(firstBytes)
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(KafkaFrameDecoder(maximumFrameLength: maximumFrame))
                        )
                        try channel.pipeline.syncOperations.addHandler(
                            KafkaClientHandler(peer: address, firstBytes: firstBytes)
                        )
                    }
                }
                .connect(host: address.host, port: address.port)
                .get()
        } catch {
            throw TernClientError(.unreachable, "cannot connect to \(address): \(Self.describe(error))")
        }
        let bootstrap = BrokerConnection(
            address: address,
            nodeId: nodeId,
            channel: channel,
            clientId: configuration.clientId,
            requestTimeout: min(configuration.requestTimeout, configuration.connectTimeout + .seconds(5)),
            brokerVersions: [:],
            logger: logger
        )
        let versions: [Int16: ClosedRange<Int16>]
        do {
            versions = try await bootstrap.negotiateVersions()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        let connection = BrokerConnection(
            address: address,
            nodeId: nodeId,
            channel: channel,
            clientId: configuration.clientId,
            requestTimeout: configuration.requestTimeout,
            brokerVersions: versions,
            logger: logger
        )
        if let sasl = configuration.sasl {
            do {
                try await connection.authenticate(sasl)
            } catch {
                channel.close(promise: nil)
                throw error
            }
        }
        return connection
    }

    /// One TLS context per connection's configuration: the CA file, the client's certificate
    /// and key when given, the verification asked for.
    private static func tlsContext(_ tls: ClientTLS) throws(TernClientError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = tls.caLocation {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            }
            if let certificate = tls.certificateLocation {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            }
            if let key = tls.keyLocation {
                let privateKey: NIOSSLPrivateKey
                if let password = tls.keyPassword {
                    privateKey = try NIOSSLPrivateKey(file: key, format: .pem) { $0(Array(password.utf8)) }
                } else {
                    privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                }
                configuration.privateKey = .privateKey(privateKey)
            }
            configuration.certificateVerification =
                !tls.verifiesCertificate ? .none : tls.verifiesHostname ? .fullVerification : .noHostnameVerification
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TernClientError(.invalidConfiguration, "TLS settings: \(error)")
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// SaslHandshake v1, then the mechanism's SaslAuthenticate exchanges (KIP-152). A refusal
    /// is SASL_AUTHENTICATION_FAILED with the broker's message; the broker closes the connection.
    private func authenticate(_ sasl: ClientSASL) async throws(TernClientError) {
        let handshake = try await self.send(SaslHandshakeRequest(mechanism: sasl.mechanism.rawValue), version: 1)
        guard handshake.errorCode == .none else {
            throw TernClientError.kafka(
                handshake.errorCode,
                "\(self.address) does not accept SASL mechanism \(sasl.mechanism.rawValue) (it offers \(handshake.mechanisms.joined(separator: ", ")))"
            )
        }
        let version = try self.version(for: SaslAuthenticateRequest.self)
        func exchange(_ token: [UInt8]) async throws(TernClientError) -> [UInt8] {
            let response = try await self.send(
                SaslAuthenticateRequest(authBytes: ByteBuffer(bytes: token)),
                version: version
            )
            guard response.errorCode == .none else {
                throw TernClientError.kafka(
                    response.errorCode,
                    "SASL \(sasl.mechanism.rawValue) authentication as \(sasl.username) at \(self.address): \(response.errorMessage ?? "refused")"
                )
            }
            return Array(response.authBytes.readableBytesView)
        }
        let scram: ScramMechanism
        switch sasl.mechanism {
        case .plain:
            _ = try await exchange([0] + Array(sasl.username.utf8) + [0] + Array(sasl.password.utf8))
            return
        case .scramSha256: scram = .sha256
        case .scramSha512: scram = .sha512
        }
        var client = ScramClientExchange(
            mechanism: scram,
            user: sasl.username,
            password: sasl.password,
            clientNonce: makeScramNonce()
        )
        let serverFirst = try await exchange(client.clientFirst)
        let clientFinal: [UInt8]
        switch client.receiveServerFirst(serverFirst) {
        case .success(let message): clientFinal = message
        case .failure(let failure):
            throw TernClientError.kafka(.saslAuthenticationFailed, "SCRAM with \(self.address): \(failure)")
        }
        let serverFinal = try await exchange(clientFinal)
        if case .failure(let failure) = client.receiveServerFinal(serverFinal) {
            throw TernClientError.kafka(.saslAuthenticationFailed, "SCRAM with \(self.address): \(failure)")
        }
    }

    private func negotiateVersions() async throws(TernClientError) -> [Int16: ClosedRange<Int16>] {
        // v3 first; a broker that does not know it answers UNSUPPORTED_VERSION in a v0 body, which
        // then decodes at v0.
        var response: ApiVersionsResponse
        do {
            response = try await self.send(
                ApiVersionsRequest(clientSoftwareName: "tern", clientSoftwareVersion: "0.1"),
                version: 3
            )
        } catch let error where error.kind == .protocolError {
            response = try await self.send(ApiVersionsRequest(), version: 0)
        }
        if response.errorCode == .unsupportedVersion {
            response = try await self.send(ApiVersionsRequest(), version: 0)
        }
        guard response.errorCode == .none else {
            throw TernClientError.kafka(response.errorCode, "ApiVersions from \(self.address)")
        }
        var versions: [Int16: ClosedRange<Int16>] = [:]
        for api in response.apiKeys where api.minVersion <= api.maxVersion {
            versions[api.apiKey.rawValue] = api.minVersion...api.maxVersion
        }
        return versions
    }

    /// The highest version of `Request` both sides speak. The client's side is
    /// `ClientApiVersions`, not the codec's range: the codec covers versions the client's logic
    /// was never written for.
    func version<Request: KafkaRequestMessage>(for request: Request.Type) throws(TernClientError) -> Int16 {
        guard let client = ClientApiVersions.range(of: Request.self) else {
            throw TernClientError(.unsupportedVersion, "this client does not use \(Request.apiKey)")
        }
        guard let broker = self.brokerVersions[Request.apiKey.rawValue] else {
            throw TernClientError(.unsupportedVersion, "\(self.address) does not support \(Request.apiKey)")
        }
        let highest = min(broker.upperBound, client.upperBound)
        guard highest >= max(broker.lowerBound, client.lowerBound) else {
            throw TernClientError(
                .unsupportedVersion,
                "\(self.address) speaks \(Request.apiKey) v\(broker.lowerBound)–\(broker.upperBound), this client v\(client.lowerBound)–\(client.upperBound)"
            )
        }
        return highest
    }

    /// Sends a request at the highest common version and waits for its answer.
    func send<Request: KafkaRequestMessage>(_ request: Request) async throws(TernClientError) -> Request.Response {
        try await self.send(request, version: try self.version(for: Request.self))
    }

    func send<Request: KafkaRequestMessage>(
        _ request: Request,
        version: Int16,
        timeout: Duration? = nil
    ) async throws(TernClientError) -> Request.Response {
        let body = try await self.exchange(request, version: version, expectsResponse: true, timeout: timeout)
        let response: Request.Response
        do {
            response = try Request.Response.decode(body, version: version)
        } catch {
            throw TernClientError(.protocolError, "\(Request.apiKey) v\(version) answer from \(self.address): \(error)")
        }
        if self.logger.logLevel <= .trace {
            self.logger.trace(
                "response \(Request.apiKey) v\(version) from \(self.address): \(ResponseErrors.summary(of: response))"
            )
        }
        return response
    }

    /// Sends a request that gets no answer (Produce with acks=0). Returns once the bytes are
    /// written to the socket.
    func sendWithoutResponse<Request: KafkaRequestMessage>(_ request: Request, version: Int16)
        async throws(TernClientError)
    {
        _ = try await self.exchange(request, version: version, expectsResponse: false, timeout: nil)
    }

    private func exchange<Request: KafkaRequestMessage>(
        _ request: Request,
        version: Int16,
        expectsResponse: Bool,
        timeout: Duration?
    ) async throws(TernClientError) -> ByteBuffer {
        let correlationId = self.nextCorrelationId.wrappingAdd(1, ordering: .relaxed).oldValue & Int32.max
        var frame = self.channel.allocator.buffer(capacity: 256)
        request.writeFrame(to: &frame, version: version, correlationId: correlationId, clientId: self.clientId)
        self.logger.trace(
            "request \(Request.apiKey) v\(version) to \(self.address): correlation id \(correlationId), \(frame.readableBytes) bytes\(expectsResponse ? "" : ", no response expected")"
        )
        let promise = self.channel.eventLoop.makePromise(of: ByteBuffer.self)
        let outbound = KafkaClientHandler.OutboundRequest(
            frame: frame,
            correlationId: correlationId,
            apiKey: Request.apiKey,
            version: version,
            expectsResponse: expectsResponse,
            timeout: TimeAmount(timeout ?? self.requestTimeout),
            response: promise
        )
        // A channel that closed after it was handed out drops the write before it reaches the
        // handler (which would time the request out): fail the request from the write's failure.
        let written = self.channel.eventLoop.makePromise(of: Void.self)
        let address = self.address
        written.futureResult.whenFailure { error in
            promise.fail(
                TernClientError(.connectionClosed, "\(Request.apiKey) to \(address): \(Self.describe(error))")
            )
        }
        self.channel.writeAndFlush(outbound, promise: written)
        do {
            return try await promise.futureResult.get()
        } catch let error as TernClientError {
            throw error
        } catch {
            throw TernClientError(.connectionClosed, "\(Request.apiKey) to \(self.address): \(Self.describe(error))")
        }
    }

    func close() {
        self.channel.close(promise: nil)
    }

    /// Completes when the connection is closed.
    var closeFuture: EventLoopFuture<Void> { self.channel.closeFuture }

    static func describe(_ error: any Error) -> String {
        // strerror's wording ("Connection refused"), as kcat prints it; NIO's IOError description
        // for a failed connect reads "connection reset (error set): …".
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return "connect timed out"
            case .ioOnClosedChannel, .alreadyClosed, .eof: return "connection closed"
            default: return "\(error)"
            }
        }
        if error is NIOSSLError || error is BoringSSLError {
            // BoringSSL's reason (CERTIFICATE_VERIFY_FAILED, TLSV1_ALERT_CERTIFICATE_REQUIRED, …)
            // without its source path.
            let text = "\(error)"
            if let marker = text.firstRange(of: "OPENSSL_internal:") {
                let reason = text[marker.upperBound...].prefix { $0.isUppercase || $0.isNumber || $0 == "_" }
                return "TLS handshake failed: \(reason)"
            }
            return "TLS failed: \(text)"
        }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return Self.describe(first.error) }
            if let dnsError = error.dnsAAAAError ?? error.dnsAError { return "name lookup failed: \(dnsError)" }
            return "connection failed"
        }
        return "\(error)"
    }
}

/// Matches response frames to the requests written before them. Event-loop confined.
final class KafkaClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutboundRequest
    typealias OutboundOut = ByteBuffer

    struct OutboundRequest: Sendable {
        var frame: ByteBuffer
        var correlationId: Int32
        var apiKey: ApiKey
        var version: Int16
        var expectsResponse: Bool
        var timeout: TimeAmount
        var response: EventLoopPromise<ByteBuffer>
    }

    private struct Pending {
        var apiKey: ApiKey
        var version: Int16
        var response: EventLoopPromise<ByteBuffer>
        var timeout: Scheduled<Void>?
    }

    private let peer: BrokerAddress
    private let firstBytes: FirstBytesHandler
    private var pending: [Int32: Pending] = [:]
    private var closedError: TernClientError?

    init(peer: BrokerAddress, firstBytes: FirstBytesHandler) {
        self.peer = peer
        self.firstBytes = firstBytes
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = self.unwrapOutboundIn(data)
        if let error = self.closedError {
            request.response.fail(error)
            promise?.fail(error)
            return
        }
        if request.expectsResponse {
            let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
            let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            let correlationId = request.correlationId
            let apiKey = request.apiKey
            let timeout = context.eventLoop.scheduleTask(in: request.timeout) {
                loopBoundSelf.value.timedOut(
                    correlationId: correlationId,
                    apiKey: apiKey,
                    after: request.timeout,
                    context: loopBoundContext.value
                )
            }
            self.pending[request.correlationId] = Pending(
                apiKey: request.apiKey,
                version: request.version,
                response: request.response,
                timeout: timeout
            )
            context.write(self.wrapOutboundOut(request.frame), promise: promise)
        } else {
            // No answer will come: the request is done once its bytes are written.
            let writePromise = context.eventLoop.makePromise(of: Void.self)
            writePromise.futureResult.whenComplete { result in
                switch result {
                case .success: request.response.succeed(ByteBuffer())
                case .failure(let error): request.response.fail(error)
                }
            }
            if let promise { writePromise.futureResult.cascade(to: promise) }
            context.write(self.wrapOutboundOut(request.frame), promise: writePromise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = self.unwrapInboundIn(data)
        guard let correlationId: Int32 = frame.getInteger(at: frame.readerIndex),
            let request = self.pending.removeValue(forKey: correlationId)
        else {
            self.fail(context: context, TernClientError(.notKafka, self.notKafkaMessage()))
            return
        }
        request.timeout?.cancel()
        do {
            _ = try ResponseHeader(
                from: &frame,
                headerVersion: request.apiKey.responseHeaderVersion(for: request.version)
            )
            request.response.succeed(frame)
        } catch {
            request.response.fail(
                TernClientError(.protocolError, "bad \(request.apiKey) response header from \(self.peer): \(error)")
            )
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is WireError || error is ByteToMessageDecoderError {
            self.fail(context: context, TernClientError(.notKafka, self.notKafkaMessage()))
        } else {
            self.fail(
                context: context,
                TernClientError(
                    .connectionClosed,
                    "connection to \(self.peer) failed: \(BrokerConnection.describe(error))"
                )
            )
        }
    }

    /// What a user reads when the peer answered with something that is not a Kafka response (an
    /// HTTP server, ssh, TLS): the peer's first bytes, where they are text.
    private func notKafkaMessage() -> String {
        var message = "\(self.peer) is not a Kafka broker: its answer is not a Kafka response"
        let bytes = self.firstBytes.bytes
        if !bytes.isEmpty {
            let printable = bytes.prefix { (0x20..<0x7f).contains($0) }
            if printable.count >= 4 {
                message += " (it starts with \"\(String(decoding: printable, as: UTF8.self))\""
                if printable.starts(with: Array("HTTP/".utf8)) { message += ": an HTTP server?" }
                message += ")"
            } else {
                message +=
                    " (it starts with bytes \(bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")))"
            }
        }
        return message
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(TernClientError(.connectionClosed, "connection to \(self.peer) closed"))
        context.fireChannelInactive()
    }

    private func timedOut(
        correlationId: Int32,
        apiKey: ApiKey,
        after timeout: TimeAmount,
        context: ChannelHandlerContext
    ) {
        guard self.pending[correlationId] != nil else { return }
        let milliseconds = timeout.nanoseconds / 1_000_000
        self.fail(
            context: context,
            TernClientError(.timeout, "\(apiKey) to \(self.peer) timed out after \(milliseconds) ms")
        )
    }

    private func fail(context: ChannelHandlerContext, _ error: TernClientError) {
        self.failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: TernClientError) {
        if self.closedError == nil { self.closedError = error }
        let pending = self.pending
        self.pending = [:]
        for request in pending.values {
            request.timeout?.cancel()
            request.response.fail(error)
        }
    }
}

@available(*, unavailable)
extension KafkaClientHandler: Sendable {}

/// Keeps the first bytes the peer sent, to say what answered when it is not a Kafka broker, then
/// leaves the pipeline. Event-loop confined.
final class FirstBytesHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let kept = 24
    private(set) var bytes: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        self.bytes += buffer.readableBytesView.prefix(Self.kept - self.bytes.count)
        context.fireChannelRead(data)
        if self.bytes.count >= Self.kept {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}

@available(*, unavailable)
extension FirstBytesHandler: Sendable {}

/// The error codes a decoded response carries, found by reflection (debug logging only, so no
/// response type needs to list its error fields).
enum ResponseErrors {
    static func summary(of response: Any) -> String {
        var counts: [KafkaErrorCode: Int] = [:]
        Self.collect(response, depth: 0, into: &counts)
        let errors = counts.filter { $0.key != .none }
        guard !errors.isEmpty else { return "no errors" }
        return "errors "
            + errors.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { $0.value == 1 ? "\($0.key)" : "\($0.key) ×\($0.value)" }
            .joined(separator: ", ")
    }

    private static func collect(_ value: Any, depth: Int, into counts: inout [KafkaErrorCode: Int]) {
        if let code = value as? KafkaErrorCode {
            counts[code, default: 0] += 1
            return
        }
        if depth > 8 || value is ByteBuffer || value is String { return }
        for child in Mirror(reflecting: value).children {
            Self.collect(child.value, depth: depth + 1, into: &counts)
        }
    }
}
