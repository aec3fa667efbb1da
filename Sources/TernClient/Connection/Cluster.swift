import Logging
import NIOCore
import TernWire

/// The client's view of a cluster: metadata cache, one data connection per broker and a separate
/// connection per group coordinator (so heartbeats never queue behind a long-polling fetch, as the
/// Java client does), reconnecting with exponential backoff.
actor Cluster {
    enum Purpose: Hashable, Sendable {
        case data
        case coordinator
    }

    struct TopicInfo: Sendable {
        var partitionCount: Int32
        /// Leader by partition index; -1 when the partition has none right now.
        var leaders: [Int32]
        var fetchedAt: ContinuousClock.Instant
    }

    private struct ConnectionKey: Hashable {
        var nodeId: Int32
        var purpose: Purpose
    }

    private enum Slot {
        case connecting(Task<BrokerConnection, any Error>)
        case ready(BrokerConnection)
    }

    private struct FailureRecord {
        var count: Int
        var at: ContinuousClock.Instant
    }

    nonisolated let configuration: ClientConfiguration
    nonisolated let logger: Logger
    private let bootstrap: [BrokerAddress]
    private var brokers: [Int32: BrokerAddress] = [:]
    private var connections: [ConnectionKey: Slot] = [:]
    private var bootstrapConnection: BrokerConnection?
    private var failures: [BrokerAddress: FailureRecord] = [:]
    private var topics: [String: TopicInfo] = [:]
    private var coordinators: [CoordinatorKey: Int32] = [:]
    private var isClosed = false

    init(configuration: ClientConfiguration, logger: Logger) throws(TernClientError) {
        guard !configuration.bootstrapServers.isEmpty else {
            throw TernClientError(.invalidConfiguration, "no bootstrap servers given")
        }
        var addresses: [BrokerAddress] = []
        for server in configuration.bootstrapServers {
            addresses.append(try BrokerAddress(parsing: server))
        }
        self.configuration = configuration
        self.logger = logger
        self.bootstrap = addresses
    }

    // MARK: Connections

    /// A connection to the broker with this id (learnt from metadata).
    func connection(toNode nodeId: Int32, purpose: Purpose = .data) async throws(TernClientError) -> BrokerConnection {
        try self.checkOpen()
        let key = ConnectionKey(nodeId: nodeId, purpose: purpose)
        switch self.connections[key] {
        case .ready(let connection) where connection.isActive:
            return connection
        case .connecting(let task):
            return try await Self.value(of: task)
        default:
            break
        }
        guard let address = self.brokers[nodeId] else {
            // Unknown id: learn the brokers again, once.
            _ = try await self.refreshMetadata(topics: [])
            guard let address = self.brokers[nodeId] else {
                throw TernClientError(.protocolError, "broker \(nodeId) is not in the cluster's metadata")
            }
            return try await self.connect(key: key, address: address)
        }
        return try await self.connect(key: key, address: address)
    }

    private func connect(key: ConnectionKey, address: BrokerAddress) async throws(TernClientError) -> BrokerConnection {
        if case .connecting(let task) = self.connections[key] { return try await Self.value(of: task) }
        let task = Task { try await self.dial(address, nodeId: key.nodeId) }
        self.connections[key] = .connecting(task)
        do throws(TernClientError) {
            let connection = try await Self.value(of: task)
            if self.isClosed {
                connection.close()
                throw TernClientError(.closed, "client is closed")
            }
            self.connections[key] = .ready(connection)
            return connection
        } catch {
            if case .connecting = self.connections[key] { self.connections[key] = nil }
            throw error
        }
    }

    /// Connects, first waiting out the backoff of earlier failures to this address.
    private func dial(_ address: BrokerAddress, nodeId: Int32) async throws(TernClientError) -> BrokerConnection {
        if let failure = self.failures[address] {
            let backoff = min(
                self.configuration.reconnectBackoff * (1 << min(failure.count - 1, 16)),
                self.configuration.reconnectBackoffMax
            )
            let wait = failure.at + backoff - .now
            if wait > .zero { try? await Task.sleep(for: wait) }
        }
        do {
            let connection = try await BrokerConnection.connect(
                to: address,
                nodeId: nodeId,
                configuration: self.configuration,
                logger: self.logger
            )
            self.failures[address] = nil
            return connection
        } catch {
            let count = (self.failures[address]?.count ?? 0) + 1
            self.failures[address] = FailureRecord(count: count, at: .now)
            self.logger.debug("connect failed", metadata: ["broker": "\(address)", "error": "\(error)"])
            throw error
        }
    }

    private static func value(of task: Task<BrokerConnection, any Error>) async throws(TernClientError)
        -> BrokerConnection
    {
        do {
            return try await task.value
        } catch let error as TernClientError {
            throw error
        } catch {
            throw TernClientError(.unreachable, "\(error)")
        }
    }

    /// Any live connection: an existing one, else the known brokers and bootstrap servers in turn.
    func anyConnection() async throws(TernClientError) -> BrokerConnection {
        try self.checkOpen()
        for slot in self.connections.values {
            if case .ready(let connection) = slot, connection.isActive { return connection }
        }
        if let connection = self.bootstrapConnection, connection.isActive { return connection }
        var errors: [TernClientError] = []
        for (nodeId, _) in self.brokers.sorted(by: { $0.key < $1.key }) {
            do {
                return try await self.connection(toNode: nodeId)
            } catch {
                errors.append(error)
            }
        }
        for address in self.bootstrap {
            do {
                let connection = try await self.dial(address, nodeId: -1)
                self.bootstrapConnection?.close()
                self.bootstrapConnection = connection
                return connection
            } catch {
                if error.kind == .notKafka { throw error }
                errors.append(error)
            }
        }
        // A single failure keeps its kind (a silent peer is a timeout, not unreachable).
        if errors.count == 1 { throw errors[0] }
        throw TernClientError(
            .unreachable,
            "no broker reachable: " + errors.map(\.message).joined(separator: "; ")
        )
    }

    /// Drops a connection that failed so the next use reconnects.
    func connectionFailed(_ connection: BrokerConnection) {
        connection.close()
        for (key, slot) in self.connections {
            if case .ready(let existing) = slot, existing === connection { self.connections[key] = nil }
        }
        if self.bootstrapConnection === connection { self.bootstrapConnection = nil }
    }

    // MARK: Metadata

    /// Asks the cluster for metadata (nil: all topics) and updates the cache.
    @discardableResult
    func refreshMetadata(topics: [String]?, allowAutoCreate: Bool = false) async throws(TernClientError)
        -> ClusterMetadata
    {
        var lastError = TernClientError(.unreachable, "no broker reachable")
        for _ in 0..<3 {
            let connection = try await self.anyConnection()
            do {
                let response = try await connection.send(
                    MetadataRequest(
                        topics: topics.map { $0.map { MetadataRequest.MetadataRequestTopic(name: $0) } },
                        allowAutoTopicCreation: allowAutoCreate
                    )
                )
                self.apply(response)
                return ClusterMetadata(response)
            } catch {
                lastError = error
                self.connectionFailed(connection)
                guard error.isRetriable else { throw error }
            }
        }
        throw lastError
    }

    private func apply(_ response: MetadataResponse) {
        if !response.brokers.isEmpty {
            var brokers: [Int32: BrokerAddress] = [:]
            for broker in response.brokers {
                brokers[broker.nodeId] = BrokerAddress(host: broker.host, port: Int(broker.port))
            }
            self.brokers = brokers
        }
        let now = ContinuousClock.now
        for topic in response.topics {
            // Names are null only in v12+ answers about topic ids.
            let name = topic.name ?? ""
            guard topic.errorCode == .none, !topic.partitions.isEmpty else {
                self.topics[name] = nil
                continue
            }
            let count = (topic.partitions.map(\.partitionIndex).max() ?? -1) + 1
            var leaders = [Int32](repeating: -1, count: Int(count))
            for partition in topic.partitions where partition.errorCode == .none || partition.leaderId >= 0 {
                leaders[Int(partition.partitionIndex)] = partition.leaderId
            }
            self.topics[name] = TopicInfo(partitionCount: count, leaders: leaders, fetchedAt: now)
        }
    }

    /// Cached partition count and leaders of a topic, fetched (and, if allowed, auto-created) when
    /// missing or older than `metadataMaxAge`.
    func topic(_ name: String, allowAutoCreate: Bool = false) async throws(TernClientError) -> TopicInfo {
        if let info = self.topics[name], ContinuousClock.now - info.fetchedAt < self.configuration.metadataMaxAge {
            return info
        }
        let metadata = try await self.refreshMetadata(topics: [name], allowAutoCreate: allowAutoCreate)
        if let info = self.topics[name] { return info }
        let code = metadata.topic(name)?.error ?? .unknownTopicOrPartition
        if code == .unknownTopicOrPartition || code == .none {
            throw TernClientError(.unknownTopicOrPartition, "unknown topic \"\(name)\"")
        }
        throw TernClientError.kafka(code, "metadata for topic \"\(name)\"")
    }

    /// Forgets a topic's leaders so the next use refreshes them (after NOT_LEADER and the like).
    func invalidate(topic: String) {
        self.topics[topic] = nil
    }

    func leader(for partition: TopicPartition, allowAutoCreate: Bool = false) async throws(TernClientError) -> Int32 {
        var info = try await self.topic(partition.topic, allowAutoCreate: allowAutoCreate)
        guard partition.partition >= 0, partition.partition < info.partitionCount else {
            throw TernClientError(.unknownTopicOrPartition, "unknown partition \(partition)")
        }
        if info.leaders[Int(partition.partition)] < 0 {
            self.invalidate(topic: partition.topic)
            info = try await self.topic(partition.topic, allowAutoCreate: allowAutoCreate)
        }
        let leader = info.leaders[Int(partition.partition)]
        guard leader >= 0 else {
            throw TernClientError.kafka(.leaderNotAvailable, "partition \(partition)")
        }
        return leader
    }

    // MARK: Coordinators

    /// What a coordinator is found for: a consumer group, or a producer's transactional id.
    enum CoordinatorKey: Hashable, Sendable, CustomStringConvertible {
        case group(String)
        case transaction(String)

        var id: String {
            switch self {
            case .group(let id), .transaction(let id): id
            }
        }

        /// FindCoordinator's key type (v1+).
        var keyType: Int8 {
            switch self {
            case .group: 0
            case .transaction: 1
            }
        }

        var description: String {
            switch self {
            case .group(let id): "group \"\(id)\""
            case .transaction(let id): "transactional id \"\(id)\""
            }
        }
    }

    /// The connection to a group's or transactional id's coordinator, found with FindCoordinator
    /// (retried while the coordinator is loading or moving) and kept apart from data connections.
    func coordinator(for key: CoordinatorKey) async throws(TernClientError) -> BrokerConnection {
        if let nodeId = self.coordinators[key] {
            return try await self.connection(toNode: nodeId, purpose: .coordinator)
        }
        let deadline = ContinuousClock.now + self.configuration.requestTimeout
        var backoff = Duration.milliseconds(20)
        while true {
            let connection = try await self.anyConnection()
            let response: FindCoordinatorResponse
            do {
                response = try await connection.send(FindCoordinatorRequest(key: key.id, keyType: key.keyType))
            } catch {
                self.connectionFailed(connection)
                guard error.isRetriable, ContinuousClock.now < deadline else { throw error }
                continue
            }
            if response.errorCode == .none {
                self.brokers[response.nodeId] = BrokerAddress(host: response.host, port: Int(response.port))
                self.coordinators[key] = response.nodeId
                return try await self.connection(toNode: response.nodeId, purpose: .coordinator)
            }
            guard response.errorCode.isRetriable, ContinuousClock.now < deadline else {
                throw TernClientError.kafka(response.errorCode, "FindCoordinator for \(key)")
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .milliseconds(500))
        }
    }

    func invalidateCoordinator(_ key: CoordinatorKey) {
        self.coordinators[key] = nil
    }

    // MARK: Lifecycle

    private func checkOpen() throws(TernClientError) {
        if self.isClosed { throw TernClientError(.closed, "client is closed") }
    }

    func close() {
        self.isClosed = true
        for slot in self.connections.values {
            switch slot {
            case .ready(let connection): connection.close()
            case .connecting(let task): task.cancel()
            }
        }
        self.connections = [:]
        self.bootstrapConnection?.close()
        self.bootstrapConnection = nil
    }
}
