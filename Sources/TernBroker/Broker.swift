import Logging
import NIOCore
import Synchronization
import TernRecords
import TernStorage
import TernTransactions
import TernWire

/// What the transport does after the broker has seen one request frame.
public enum BrokerReply: Sendable {
    /// Send this response frame (size prefix included).
    case response(ByteBuffer)
    /// Send nothing (Produce with acks=0) and read the next request.
    case noResponse
    /// Close the connection, as Kafka does for requests it cannot parse or does not support.
    case closeConnection(reason: String)
    /// Send this response frame, then close the connection (a failed SASL authentication).
    case responseThenClose(ByteBuffer)
    /// The request's ordered part is done (e.g. a produce is appended); its reply comes once this
    /// completes (e.g. the fsync covering it). Later requests on the connection may start
    /// meanwhile, but the transport still writes replies in request order.
    case pending(@Sendable () async -> BrokerReply)
}

/// The broker's request handling, independent of any transport: one request frame in, one reply
/// out. The transport calls `handle` for one frame at a time per connection and writes replies in
/// request order, as Kafka clients expect.
public final class Broker: Sendable {
    /// The APIs and versions this broker advertises in ApiVersions: every served API at every
    /// version of its schema (the generated `KafkaRequest.servedApis`, see docs/protocol.md).
    public static let advertisedApis: [ApiVersionsResponse.ApiVersion] = KafkaRequest.servedApis.map {
        .init(apiKey: $0.apiKey, minVersion: $0.versions.lowerBound, maxVersion: $0.versions.upperBound)
    }

    public let configuration: BrokerConfiguration
    let logs: LogManager
    let logger: Logger
    let dataArrival = DataArrivalNotifier()
    let groups: GroupCoordinatorRuntime
    let transactions: TransactionCoordinatorRuntime
    /// Topics deleted in the last `deletedTopicGrace`, not auto-created again meanwhile.
    let deletedTopics = Mutex<[String: ContinuousClock.Instant]>([:])
    static let deletedTopicGrace = Duration.seconds(3)
    /// Incremental fetch sessions (KIP-227), bounded as Kafka's
    /// `max.incremental.fetch.session.cache.slots` (1,000) and evicting idle ones after
    /// `min.incremental.fetch.session.eviction.ms` (120 s).
    let fetchSessions = Mutex(FetchSessionCache(capacity: 1000, evictionAgeMs: 120_000))
    let sessionClock = SystemClock()
    /// Request, error and connection metrics (the transport reports requests and connections).
    public let metrics = BrokerMetrics()
    /// Dynamic broker configs (AlterConfigs on the BROKER resource), as persisted.
    let dynamicConfig: Mutex<DynamicBrokerConfig>
    /// Answered error codes, rate-limited per client, API and code (docs/operations.md).
    let errorLog: ErrorLog
    /// SASL users' salted credentials (docs/security.md).
    let credentials: ScramCredentialStore
    /// ACLs, enforced when `configuration.authorizer` is set (docs/security.md).
    let acls: AclStore
    private let nextProducerId: Atomic<Int64>

    /// Opens the group coordinator too, replaying `__consumer_offsets` (created on first start),
    /// and applies the dynamic broker configs stored in the data directory to the topic defaults.
    public init(configuration: BrokerConfiguration, logs: LogManager, logger: Logger) throws {
        let dynamicConfig = try DynamicBrokerConfig.load(from: logs, nodeId: configuration.nodeId)
        if dynamicConfig != DynamicBrokerConfig() {
            try logs.setDefaultConfig(dynamicConfig.topicDefaults(over: configuration.defaultLogConfig))
        }
        self.dynamicConfig = Mutex(dynamicConfig)
        self.groups = try GroupCoordinatorRuntime.start(
            logs: logs,
            configuration: configuration.groupCoordinator,
            logger: logger
        )
        self.transactions = try TransactionCoordinatorRuntime.start(
            logs: logs,
            configuration: configuration.transactionCoordinator,
            logger: logger
        )
        self.configuration = configuration
        self.logs = logs
        self.logger = logger
        self.errorLog = ErrorLog(logger: logger)
        self.credentials = try ScramCredentialStore(files: DataFileAccess(logs, ScramCredentialStore.fileName))
        self.acls = try AclStore(files: DataFileAccess(logs, AclStore.fileName))
        for (user, password) in configuration.saslBootstrapUsers
        where self.credentials.users.firstIndex(of: user) == nil {
            try self.credentials.setPassword(password, for: user)
            logger.info("created SASL user from sasl.bootstrap.users", metadata: ["user": "\(user)"])
        }
        // Producer ids must not repeat across restarts while a producer may still use an old one:
        // starting from the wall clock in microseconds keeps them increasing without persisting
        // (and above every id a transactional id holds).
        self.nextProducerId = Atomic(max(SystemClock().nowMs * 1000, self.transactions.largestProducerId + 1))
        self.transactions.run(
            markerWriter: { [weak self] (markers: TransactionMarkers) async -> Bool in
                guard let self else { return false }
                return await self.writeTransactionMarkers(markers)
            },
            abortCheckIntervalMs: configuration.transactionAbortCheckIntervalMs
        )
    }

    func allocateProducerId() -> Int64 {
        self.nextProducerId.add(1, ordering: .relaxed).newValue
    }

    /// - Parameters:
    ///   - clientHost: the peer's address, shown in DescribeGroups.
    ///   - remoteAddress: the peer's `ip:port`, in the error log.
    ///   - advertised: the advertised address of the listener the request came in on, which
    ///     Metadata, FindCoordinator and DescribeCluster give back; nil: the configuration's.
    ///   - certificateUser: on an SSL listener, the user `ssl.principal.mapping.rules` made of the
    ///     client certificate's subject; nil without one.
    public func handle(
        frame: ByteBuffer,
        clientHost: String = "",
        remoteAddress: String = "",
        advertised endpoint: AdvertisedEndpoint? = nil,
        sasl: SaslSession? = nil,
        certificateUser: String? = nil
    ) async -> BrokerReply {
        let prefix: RequestHeader.Prefix
        do {
            prefix = try RequestHeader.peekPrefix(frame)
        } catch {
            self.metrics.requestRejected()
            return .closeConnection(reason: "request of \(frame.readableBytes) bytes is too short for a header")
        }
        if prefix.apiKey == .apiVersions && !ApiVersionsRequest.versions.contains(prefix.apiVersion) {
            return self.unsupportedApiVersionsReply(prefix, remoteAddress: remoteAddress)
        }
        guard
            let advertised = Self.advertisedApis.first(where: { $0.apiKey == prefix.apiKey }),
            (advertised.minVersion...advertised.maxVersion).contains(prefix.apiVersion)
        else {
            self.metrics.requestRejected()
            return .closeConnection(reason: "unsupported API \(prefix.apiKey) v\(prefix.apiVersion)")
        }
        let header: RequestHeader
        let request: KafkaRequest
        do {
            (header, request) = try KafkaRequest.decode(frame: frame)
        } catch {
            self.metrics.requestRejected()
            return .closeConnection(reason: "cannot decode \(prefix.apiKey) v\(prefix.apiVersion): \(error)")
        }
        var origin = RequestOrigin(header: header, remoteAddress: remoteAddress, request: request)
        origin.advertised = endpoint
        origin.host = clientHost.hasPrefix("/") ? String(clientHost.dropFirst()) : clientHost
        // On SASL_SSL the SASL user is the principal, as in Kafka; on SSL the client certificate's.
        if let user = sasl?.user ?? (sasl == nil ? certificateUser : nil) { origin.principal = "User:\(user)" }
        if let sasl {
            if sasl.user == nil {
                if let reply = self.gateUnauthenticated(request, session: sasl, origin: origin) { return reply }
            } else if let reply = self.gateAuthenticated(request, session: sasl, origin: origin) {
                return reply
            }
        }
        if let reply = self.saslOutOfPlace(request, origin: origin) { return reply }
        if let reply = self.refuseUnauthorized(request, origin: origin) { return reply }
        if let reply = self.handleGroupRequest(request, origin: origin, clientHost: clientHost) {
            return reply
        }
        return await self.dispatch(request, origin: origin)
    }

    private func advertised(_ origin: RequestOrigin) -> AdvertisedEndpoint {
        origin.advertised
            ?? AdvertisedEndpoint(host: self.configuration.advertisedHost, port: self.configuration.advertisedPort)
    }

    private func dispatch(_ request: KafkaRequest, origin: RequestOrigin) async -> BrokerReply {
        let version = origin.apiVersion
        switch request {
        case .apiVersions:
            return self.reply(ApiVersionsResponse(apiKeys: Self.advertisedApis), origin)
        case .metadata(let request):
            return self.reply(self.metadata(request, origin: origin, advertised: self.advertised(origin)), origin)
        case .produce(let request):
            return await self.produce(request, origin: origin)
        case .fetch(let request):
            return .pending {
                self.reply(await self.fetch(request, origin: origin), origin)
            }
        case .listOffsets(let request):
            return self.reply(self.listOffsets(request, origin: origin), origin)
        case .createTopics(let request):
            return self.reply(self.createTopics(request, origin: origin), origin)
        case .deleteTopics(let request):
            return self.reply(self.deleteTopics(request, origin: origin), origin)
        case .initProducerId(let request):
            return .pending { self.reply(await self.initProducerId(request, origin: origin), origin) }
        case .addPartitionsToTxn(let request):
            return .pending { self.reply(await self.addPartitionsToTxn(request, origin: origin), origin) }
        case .addOffsetsToTxn(let request):
            return .pending { self.reply(await self.addOffsetsToTxn(request, origin: origin), origin) }
        case .endTxn(let request):
            return .pending { self.reply(await self.endTxn(request, origin: origin), origin) }
        case .txnOffsetCommit(let request):
            return .pending { self.reply(await self.txnOffsetCommit(request, origin: origin), origin) }
        case .describeTransactions(let request):
            return self.reply(self.describeTransactions(request, origin: origin), origin)
        case .listTransactions(let request):
            return self.reply(self.listTransactions(request, origin: origin), origin)
        case .describeConfigs(let request):
            return self.reply(self.describeConfigs(request, origin: origin), origin)
        case .findCoordinator(let request):
            return self.reply(
                self.findCoordinator(request, origin: origin, advertised: self.advertised(origin)),
                origin
            )
        case .createPartitions(let request):
            return self.reply(self.createPartitions(request, origin: origin), origin)
        case .deleteRecords(let request):
            return self.reply(self.deleteRecords(request, origin: origin), origin)
        case .describeCluster(let request):
            return self.reply(
                self.describeCluster(request, version: version, advertised: self.advertised(origin)),
                origin
            )
        case .offsetForLeaderEpoch(let request):
            return self.reply(self.offsetForLeaderEpoch(request, origin: origin), origin)
        case .alterConfigs(let request):
            return self.reply(self.alterConfigs(request, origin: origin), origin)
        case .incrementalAlterConfigs(let request):
            return self.reply(self.incrementalAlterConfigs(request, origin: origin), origin)
        case .describeLogDirs(let request):
            return self.reply(self.describeLogDirs(request), origin)
        case .describeTopicPartitions(let request):
            return self.reply(self.describeTopicPartitions(request, origin: origin), origin)
        case .describeProducers(let request):
            return self.reply(self.describeProducers(request, origin: origin), origin)
        case .listPartitionReassignments(let request):
            return self.reply(self.listPartitionReassignments(request), origin)
        case .electLeaders(let request):
            return self.reply(self.electLeaders(request), origin)
        case .describeClientQuotas(let request):
            return self.reply(self.describeClientQuotas(request), origin)
        case .describeAcls(let request):
            return self.reply(self.describeAcls(request), origin)
        case .createAcls(let request):
            return self.reply(self.createAcls(request, origin: origin), origin)
        case .deleteAcls(let request):
            return self.reply(self.deleteAcls(request, origin: origin), origin)
        case .describeUserScramCredentials(let request):
            return self.reply(self.describeUserScramCredentials(request), origin)
        case .alterUserScramCredentials(let request):
            return self.reply(self.alterUserScramCredentials(request, origin: origin), origin)
        case .joinGroup, .syncGroup, .heartbeat, .leaveGroup, .offsetCommit, .offsetFetch,
            .describeGroups, .listGroups, .deleteGroups, .offsetDelete:
            preconditionFailure("group requests are handled by handleGroupRequest")
        case .saslHandshake, .saslAuthenticate:
            preconditionFailure("SASL requests are handled by gateUnauthenticated and saslOutOfPlace")
        }
    }

    /// Encodes the response, counting and logging its error codes.
    func reply<Response: KafkaResponseMessage>(_ response: Response, _ origin: RequestOrigin) -> BrokerReply {
        response.forEachErrorCode { code, resource in
            if code != .none {
                self.metrics.countError(code, apiKey: Response.apiKey)
                self.errorLog.record(code, resource: resource, apiKey: Response.apiKey, origin: origin)
            }
        }
        var bytes = ByteBuffer()
        response.writeFrame(to: &bytes, version: origin.apiVersion, correlationId: origin.correlationId)
        return .response(bytes)
    }

    /// KIP-511: an ApiVersions version this broker does not know gets a v0 body naming the range it
    /// does support, so the client retries with that version instead of giving up.
    private func unsupportedApiVersionsReply(_ prefix: RequestHeader.Prefix, remoteAddress: String) -> BrokerReply {
        self.reply(
            ApiVersionsResponse(
                errorCode: .unsupportedVersion,
                apiKeys: Self.advertisedApis.filter { $0.apiKey == .apiVersions }
            ),
            RequestOrigin(apiVersion: 0, correlationId: prefix.correlationId, remoteAddress: remoteAddress)
        )
    }
}
