import Logging
import NIOCore
import TernBroker
import TernStorage
import TernWire

let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A broker over an in-memory file system.
func makeBroker(configuration: BrokerConfiguration = BrokerConfiguration()) async throws -> Broker {
    let logs = try await LogManager.open(
        dataDirectory: "/data",
        defaultConfig: configuration.defaultLogConfig,
        fileSystem: InMemoryFileSystem(),
        logger: quietLogger
    )
    return try Broker(configuration: configuration, logs: logs, logger: quietLogger)
}

/// Sends one request through `handle` and decodes the response (resolving a pending reply).
func roundTrip<Request: KafkaRequestMessage>(
    _ broker: Broker,
    _ request: Request,
    version: Int16,
    correlationId: Int32 = 1,
    as user: String? = nil
) async throws -> Request.Response? {
    var frame = ByteBuffer()
    request.writeFrame(to: &frame, version: version, correlationId: correlationId, clientId: "test")
    frame.moveReaderIndex(forwardBy: 4)
    // `user`: the principal User:NAME, as a client certificate's user would be.
    var reply = await broker.handle(frame: frame, certificateUser: user)
    while case .pending(let work) = reply { reply = await work() }
    guard case .response(var bytes) = reply else { return nil }
    _ = bytes.readInteger(as: Int32.self)
    let header = try ResponseHeader(from: &bytes, headerVersion: Request.apiKey.responseHeaderVersion(for: version))
    precondition(header.correlationId == correlationId)
    return try Request.Response.decode(bytes, version: version)
}
