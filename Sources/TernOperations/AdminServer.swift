import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TernServer

/// The HTTP/1.1 admin listener: `/metrics` for Prometheus and the `/health/*` probes.
///
/// Answers are computed on the connection's event loop from in-memory state (and /proc), so the
/// listener keeps answering while the broker opens or recovers its logs on other threads. Only
/// GET and HEAD are served; anything else gets 405, unknown paths 404.
public final class AdminServer: Sendable {
    /// One answer: status, content type and body.
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String

        public init(status: Int, contentType: String, body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    public typealias Routes = @Sendable (_ path: String) -> Response?

    private let channel: any Channel
    /// The address actually bound (port 0 picks a free port).
    public let localAddress: SocketAddress

    private init(channel: any Channel) throws {
        self.channel = channel
        guard let address = channel.localAddress else { throw ChannelError.inappropriateOperationForState }
        self.localAddress = address
    }

    /// The routes `ternd` serves: metrics and the three probes.
    public static func routes(health: HealthState, metrics: @escaping @Sendable () -> String) -> Routes {
        { path in
            func json(_ answer: HealthState.Answer) -> Response {
                Response(status: answer.status, contentType: "application/json", body: answer.body + "\n")
            }
            switch path {
            case "/metrics":
                return Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics())
            case "/health/live": return json(health.liveness)
            case "/health/ready": return json(health.readiness)
            case "/health/startup": return json(health.startup)
            default: return nil
            }
        }
    }

    public static func bind(
        host: String,
        port: Int,
        routes: @escaping Routes,
        tls: TLSContextBox? = nil,
        logger: Logger,
        eventLoopGroup: MultiThreadedEventLoopGroup = .singleton
    ) async throws -> AdminServer {
        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // HTTPS (`http.ssl.*`): each connection takes the current context, so SIGHUP's
                    // reload reaches the admin listener too.
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHTTPHandler(routes: routes, logger: logger))
                }
            }
            .bind(host: host, port: port)
            .get()
        return try AdminServer(channel: channel)
    }

    /// Stops accepting; open connections end when their client closes them or on the next request.
    public func close() async {
        try? await self.channel.close()
    }

    /// Returns when the listener has closed.
    public func waitUntilClosed() async {
        try? await self.channel.closeFuture.get()
    }
}

/// Answers each request from `routes`. Confined to its channel's event loop.
final class AdminHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: AdminServer.Routes
    private let logger: Logger
    private var request: HTTPRequestHead?

    init(routes: @escaping AdminServer.Routes, logger: Logger) {
        self.routes = routes
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
        case .body:
            break
        case .end:
            guard let head = self.request else { return }
            self.request = nil
            self.respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = String(head.uri.prefix { $0 != "?" })
        let response: AdminServer.Response
        if head.method != .GET && head.method != .HEAD {
            response = .init(status: 405, contentType: "text/plain", body: "method not allowed\n")
        } else {
            response = self.routes(path) ?? .init(status: 404, contentType: "text/plain", body: "not found\n")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
        headers.add(name: "Cache-Control", value: "no-store")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(
            version: head.version,
            status: HTTPResponseStatus(statusCode: response.status),
            headers: headers
        )
        context.write(self.wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD {
            var body = context.channel.allocator.buffer(capacity: response.body.utf8.count)
            body.writeString(response.body)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("admin connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension AdminHTTPHandler: Sendable {}
