public import Logging
import NIOCore
import Synchronization
public import TernBroker
public import TernClient
import TernServer
public import TernStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A real Tern broker running inside the test process, on a loopback port the kernel picks, for
/// tests of code that talks to Kafka. It serves the whole Kafka protocol as `ternd` does (any
/// Kafka client can connect to `bootstrapServers`); the helpers use the Tern client.
///
///     let broker = try await TestBroker.start()
///     defer { Task { try await broker.stop() } }
///     try await broker.createTopic("orders", partitions: 3)
///     try await broker.produce(topic: "orders", key: "42", value: "hello")
///     let records = try await broker.records(topic: "orders", partition: 0)
///
/// Or scoped, stopping it whatever `body` does: `try await withTestBroker { broker in … }`.
///
/// The logs live in memory by default (acks=all costs no fsync) or in a directory; starting takes
/// a few milliseconds, so each test can have its own broker.
public final class TestBroker: Sendable {
    /// Where the partition logs live.
    public enum Storage: Sendable {
        /// In memory, gone when the broker stops.
        case inMemory
        /// A fresh directory under the system's temporary directory, removed by `stop()`.
        case temporaryDirectory
        /// This directory, kept after `stop()` (a later broker can reopen it).
        case directory(String)
        /// This in-memory file system, kept after `stop()` and `simulatePowerLoss()`: a later
        /// broker started on it reopens (and, after a power loss, recovers) the logs.
        case memory(InMemoryFileSystem)
    }

    /// Settings every test broker starts with, under the caller's `properties`: a group forms
    /// as soon as its first member joins (Kafka waits `group.initial.rebalance.delay.ms`, 3 s, for
    /// more members), as Kafka's own test brokers do.
    public static let defaultProperties: [String: String] = ["group.initial.rebalance.delay.ms": "0"]

    /// The port clients connect to on 127.0.0.1.
    public let port: Int
    /// `["127.0.0.1:<port>"]`, for a Tern client configuration.
    public var bootstrapServers: [String] { ["127.0.0.1:\(self.port)"] }
    /// `127.0.0.1:<port>`, for other clients (`bootstrap.servers`, kcat's `-b`).
    public var bootstrapServer: String { "127.0.0.1:\(self.port)" }
    /// The broker itself: its configuration, metrics and statistics.
    public let broker: Broker
    /// The data directory, when the logs are on disk.
    public let dataDirectory: String?

    private let logs: LogManager
    private let server: KafkaServer
    private let serving: Task<Void, any Error>
    private let removesDataDirectory: Bool
    private let memoryFileSystem: InMemoryFileSystem?
    private let logger: Logger
    private let clients = Mutex<Clients>(Clients())
    private let stopped = Atomic<Bool>(false)

    private struct Clients {
        var admin: Admin?
        var producer: Producer?
    }

    private init(
        port: Int,
        broker: Broker,
        logs: LogManager,
        server: KafkaServer,
        dataDirectory: String?,
        removesDataDirectory: Bool,
        memoryFileSystem: InMemoryFileSystem?,
        logger: Logger
    ) {
        self.port = port
        self.broker = broker
        self.logs = logs
        self.server = server
        self.dataDirectory = dataDirectory
        self.removesDataDirectory = removesDataDirectory
        self.memoryFileSystem = memoryFileSystem
        self.logger = logger
        self.serving = Task { try await server.run() }
    }

    /// Starts a broker on 127.0.0.1 and a port the kernel picks. It accepts connections when this
    /// returns.
    ///
    /// - Parameters:
    ///   - properties: broker settings by their Kafka names, as in ternd's `--config` file (e.g.
    ///     `num.partitions`, `auto.create.topics.enable`, `log.retention.ms`; see
    ///     docs/configuration.md), over `defaultProperties`. Listener addresses are ignored.
    ///   - logger: the broker's logs; by default none.
    public static func start(
        properties: [String: String] = [:],
        storage: Storage = .inMemory,
        logger: Logger = Logger(label: "tern.test-broker", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> TestBroker {
        var settings = try BrokerSettings.resolve([Self.defaultProperties, properties])
        settings.host = "127.0.0.1"
        settings.port = 0
        // Bound first, so the broker advertises the port it got.
        let socket = try ListenerSocket.bind(host: settings.host, port: settings.port)
        settings.broker.advertisedHost = settings.host
        settings.broker.advertisedPort = Int32(socket.port)

        let fileSystem: any FileSystem
        let dataDirectory: String?
        var memoryFileSystem: InMemoryFileSystem?
        switch storage {
        case .inMemory:
            memoryFileSystem = InMemoryFileSystem()
            fileSystem = memoryFileSystem!
            dataDirectory = nil
        case .memory(let given):
            memoryFileSystem = given
            fileSystem = given
            dataDirectory = nil
        case .temporaryDirectory:
            fileSystem = PosixFileSystem()
            dataDirectory = try makeTemporaryDirectory()
        case .directory(let path):
            fileSystem = PosixFileSystem()
            dataDirectory = path
        }
        let logs = try await LogManager.open(
            dataDirectory: dataDirectory ?? "/tern-data",
            defaultConfig: settings.broker.defaultLogConfig,
            fileSystem: fileSystem,
            flushThreadCount: 1,
            logger: logger
        )
        do {
            let broker = try Broker(configuration: settings.broker, logs: logs, logger: logger)
            let server = try await KafkaServer.listen(
                on: socket,
                configuration: KafkaServer.Configuration(settings: settings),
                broker: broker,
                logger: logger
            )
            return TestBroker(
                port: socket.port,
                broker: broker,
                logs: logs,
                server: server,
                dataDirectory: dataDirectory,
                removesDataDirectory: { if case .temporaryDirectory = storage { true } else { false } }(),
                memoryFileSystem: memoryFileSystem,
                logger: logger
            )
        } catch {
            try? await logs.close()
            throw error
        }
    }

    /// Closes the helpers' clients, stops serving (requests already read are answered), flushes
    /// and closes the logs, and removes a temporary data directory. Calling it again does nothing.
    public func stop() async throws {
        guard !self.stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let clients = self.clients.withLock { clients in
            defer { clients = Clients() }
            return clients
        }
        try? await clients.producer?.close()
        await clients.admin?.close()
        await self.server.shutdownGracefully()
        try? await self.serving.value
        try await self.logs.close()
        if self.removesDataDirectory, let dataDirectory = self.dataDirectory {
            try? PosixFileSystem().removeRecursively(atPath: dataDirectory)
        }
    }

    /// Pulls the plug: every byte and directory entry not fsynced is gone at once (see
    /// `InMemoryFileSystem.simulateCrash()`), then the broker stops without flushing or writing a
    /// clean-shutdown marker, and its connections close. A broker started afterwards on the same
    /// `.memory` file system recovers the logs as `ternd` does after a power cut.
    ///
    /// Only for in-memory storage (`.inMemory` or `.memory`); a real disk keeps the page cache.
    public func simulatePowerLoss() async {
        guard let fileSystem = self.memoryFileSystem else {
            preconditionFailure("simulatePowerLoss() needs in-memory storage")
        }
        guard !self.stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        fileSystem.simulateCrash()
        self.logs.closeAbruptly()
        await self.server.shutdownGracefully()
        try? await self.serving.value
        let clients = self.clients.withLock { clients in
            defer { clients = Clients() }
            return clients
        }
        await clients.admin?.close()
        // Records the helper producer still holds fail after their delivery timeout; nobody waits.
        if let producer = clients.producer { Task { try? await producer.close() } }
    }

    /// Partitions (`topic-N`) whose log failed on a disk error and refuses appends and reads
    /// until a restart (see docs/reliability.md).
    public var failedPartitions: [String] { self.logs.failedPartitions.map { "\($0.0)" } }

    // MARK: Helpers

    /// An admin client of this broker, shared by the helpers and closed by `stop()`.
    public func admin() throws -> Admin {
        try self.clients.withLock { clients in
            if let admin = clients.admin { return admin }
            let admin = try Admin(configuration: self.clientConfiguration(), logger: self.logger)
            clients.admin = admin
            return admin
        }
    }

    /// Creates a topic (CreateTopics); `configs` are topic settings such as `cleanup.policy`.
    public func createTopic(_ name: String, partitions: Int32 = 1, configs: [String: String] = [:]) async throws {
        try await self.admin().createTopic(name, partitions: partitions, configs: configs)
    }

    /// Produces one record with acks=all and returns where it was written. Topics are created on
    /// first use unless `auto.create.topics.enable=false`.
    @discardableResult
    public func produce(
        topic: String,
        partition: Int32? = nil,
        key: String? = nil,
        value: String?,
        headers: [RecordHeader] = []
    ) async throws -> RecordMetadata {
        try await self.produce(
            ProducerRecord(topic: topic, partition: partition, key: key, value: value, headers: headers)
        )
    }

    /// Produces a record with acks=all and returns where it was written.
    @discardableResult
    public func produce(_ record: ProducerRecord) async throws -> RecordMetadata {
        try await self.producer().send(record)
    }

    /// The records of one partition from `offset` up to its end when called (none if it is empty).
    public func records(topic: String, partition: Int32 = 0, from offset: OffsetSpec = .earliest) async throws
        -> [ConsumerRecord]
    {
        var configuration = ConsumerConfiguration(
            client: self.clientConfiguration(),
            mode: .assign([TernClient.TopicPartition(topic: topic, partition: partition): offset])
        )
        configuration.stopAtEnd = true
        configuration.fetchMaxWait = .milliseconds(10)
        let consumer = try Consumer(configuration: configuration, logger: self.logger)
        var records: [ConsumerRecord] = []
        do {
            for try await record in consumer { records.append(record) }
        } catch {
            try? await consumer.close()
            throw error
        }
        try await consumer.close()
        return records
    }

    /// Waits until the consumer group is Stable (joined and synced) with exactly `members`
    /// members, and returns its description.
    ///
    /// - Throws: `TestBrokerError` with the group's last state when `timeout` passes first.
    @discardableResult
    public func waitForGroup(_ groupId: String, members: Int, timeout: Duration = .seconds(30)) async throws
        -> Admin.GroupDescription
    {
        let deadline = ContinuousClock.now + timeout
        var last: Admin.GroupDescription?
        while ContinuousClock.now < deadline {
            last = try await self.admin().describeGroups([groupId]).first
            if let group = last, group.state == "Stable", group.members.count == members { return group }
            try await Task.sleep(for: .milliseconds(10))
        }
        let seen = last.map { "\($0.state) with \($0.members.count) members" } ?? "no answer"
        throw TestBrokerError(
            "group \(groupId) was not Stable with \(members) members within \(timeout) (last seen: \(seen))"
        )
    }

    private func clientConfiguration() -> ClientConfiguration {
        var configuration = ClientConfiguration(bootstrapServers: self.bootstrapServers)
        configuration.clientId = "tern-test-kit"
        return configuration
    }

    private func producer() throws -> Producer {
        try self.clients.withLock { clients in
            if let producer = clients.producer { return producer }
            var configuration = ProducerConfiguration(client: self.clientConfiguration())
            // One record per call: waiting for more only slows the test.
            configuration.linger = .zero
            let producer = try Producer(configuration: configuration, logger: self.logger)
            clients.producer = producer
            return producer
        }
    }
}

/// Runs `body` with a fresh broker and stops the broker afterwards, also when `body` throws.
@discardableResult
public func withTestBroker<Result: Sendable>(
    properties: [String: String] = [:],
    storage: TestBroker.Storage = .inMemory,
    logger: Logger = Logger(label: "tern.test-broker", factory: { _ in SwiftLogNoOpLogHandler() }),
    _ body: (TestBroker) async throws -> Result
) async throws -> Result {
    let broker = try await TestBroker.start(properties: properties, storage: storage, logger: logger)
    let result: Result
    do {
        result = try await body(broker)
    } catch {
        try? await broker.stop()
        throw error
    }
    try await broker.stop()
    return result
}

/// A test broker that could not do what a helper asked in time.
public struct TestBrokerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

private func makeTemporaryDirectory() throws -> String {
    let base = (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
    var template = Array("\(base)/tern-test-XXXXXX".utf8CString)
    guard let path = mkdtemp(&template) else {
        throw TestBrokerError("cannot create a temporary data directory under \(base): errno \(errno)")
    }
    return String(cString: path)
}
