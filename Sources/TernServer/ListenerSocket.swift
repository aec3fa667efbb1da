import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP socket bound to the Kafka listener's address but not listening yet: the port is taken
/// (a port in use fails here, with the errno), while connections are still refused, as they must
/// be until the broker has opened its logs. `KafkaServer.listen(on:…)` takes it over.
///
/// Thread-safety: all methods may be called from any thread; the descriptor is handed out once.
public final class ListenerSocket: Sendable {
    static let backlog: Int32 = 256

    /// Why binding failed, with the errno when a system call failed.
    public struct BindError: Error, CustomStringConvertible {
        public var host: String
        public var port: Int
        /// The failed call and its error, e.g. `bind: Address already in use (errno 98)`.
        public var reason: String
        public var errnoCode: Int32?

        public var description: String { "\(self.host):\(self.port): \(self.reason)" }
    }

    private let descriptor: Mutex<Int32?>

    /// The port actually bound: the kernel's choice when asked for port 0.
    public let port: Int

    private init(descriptor: Int32, port: Int) {
        self.descriptor = Mutex(descriptor)
        self.port = port
    }

    deinit {
        self.close()
    }

    /// Creates a socket with `SO_REUSEADDR` (a restart must not wait for old connections in
    /// TIME_WAIT) and binds it to `host:port` (port 0: one the kernel picks).
    public static func bind(host: String, port: Int) throws(BindError) -> ListenerSocket {
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw BindError(host: host, port: port, reason: "cannot resolve the host: \(error)")
        }
        let descriptor = socket(address.protocol.rawValue, socketStreamType, 0)
        guard descriptor >= 0 else { throw Self.failure("socket", host, port) }
        var one: Int32 = 1
        let optionResult = setsockopt(
            descriptor,
            SOL_SOCKET,
            SO_REUSEADDR,
            &one,
            socklen_t(MemoryLayout<Int32>.size)
        )
        let bindResult =
            optionResult == 0
            ? address.withSockAddr { pointer, size in systemBind(descriptor, pointer, socklen_t(size)) } : -1
        guard bindResult == 0 else {
            let error = Self.failure(optionResult == 0 ? "bind" : "setsockopt", host, port)
            _ = systemClose(descriptor)
            throw error
        }
        guard let boundPort = boundPort(of: descriptor) else {
            let error = Self.failure("getsockname", host, port)
            _ = systemClose(descriptor)
            throw error
        }
        return ListenerSocket(descriptor: descriptor, port: boundPort)
    }

    /// The descriptor, once: the caller owns it from then on.
    func take() -> Int32? {
        self.descriptor.withLock { descriptor in
            defer { descriptor = nil }
            return descriptor
        }
    }

    /// Releases the port if nothing took the socket over.
    public func close() {
        if let descriptor = self.take() { _ = systemClose(descriptor) }
    }

    private static func failure(_ call: String, _ host: String, _ port: Int) -> BindError {
        let code = errno
        return BindError(host: host, port: port, reason: describeErrno(call, code), errnoCode: code)
    }
}

/// `bind: Address already in use (errno 98)`: a failed call as Tern words errno failures.
/// (NIO's `IOError` reads `bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)`,
/// with a stray parenthesis, so ternd words those with this too.)
public func describeErrno(_ call: String, _ code: Int32) -> String {
    "\(call): \(String(cString: strerror(code))) (errno \(code))"
}

#if canImport(Glibc)
    private let socketStreamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
#else
    private let socketStreamType = SOCK_STREAM
#endif

/// The local port of a bound IPv4 or IPv6 socket.
private func boundPort(of descriptor: Int32) -> Int? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let result = withUnsafeMutablePointer(to: &storage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    guard result == 0 else { return nil }
    guard Int32(storage.ss_family) == AF_INET || Int32(storage.ss_family) == AF_INET6 else { return nil }
    // sockaddr_in and sockaddr_in6 both hold the port in network order at bytes 2–3.
    return withUnsafeBytes(of: &storage) { bytes in Int(bytes[2]) << 8 | Int(bytes[3]) }
}

// Free functions so the calls resolve to the C library rather than to same-named methods.
func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
func systemListen(_ descriptor: Int32, _ backlog: Int32) -> Int32 { listen(descriptor, backlog) }
private func systemBind(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ size: socklen_t) -> Int32 {
    bind(descriptor, address, size)
}
