import TernCoordinator
import TernStorage
import TernTransactions

/// Broker-wide settings, named after Kafka's broker properties.
public struct BrokerConfiguration: Sendable {
    /// `node.id` / `broker.id`: this broker's id in Metadata (single node: also the controller).
    public var nodeId: Int32 = 0
    /// Host and port clients are told to connect to (Metadata's broker list).
    public var advertisedHost: String = "127.0.0.1"
    public var advertisedPort: Int32 = 9092
    /// `sasl.bootstrap.users`: users created with these passwords at start when absent.
    public var saslBootstrapUsers: [(user: String, password: String)] = []
    /// `authorizer.class.name` set: ACLs are enforced with these settings; nil: everyone may do
    /// everything and the ACL APIs answer SECURITY_DISABLED, as Kafka without an authorizer.
    public var authorizer: Authorizer?
    /// Cluster id in Metadata v2+.
    public var clusterId: String = "tern-cluster"
    /// `num.partitions`: partitions of an auto-created topic.
    public var defaultPartitionCount: Int32 = 1
    /// `auto.create.topics.enable`: Metadata requests create unknown topics (what kcat -P relies on).
    public var autoCreateTopics: Bool = true
    /// Topic defaults (`log.segment.bytes`, `log.retention.ms`, `message.max.bytes`, …) from the
    /// static settings; dynamic broker configs (AlterConfigs) apply over them.
    public var defaultLogConfig: LogConfig = LogConfig()
    /// The broker properties ternd was started with (file, `TERN_*` variables and flags merged,
    /// hours and minutes converted to their `.ms` key): DescribeConfigs' STATIC_BROKER_CONFIG.
    public var staticProperties: [String: String] = [:]
    /// Largest fetch response the broker builds regardless of what the client asks (Kafka's
    /// `fetch.max.bytes`, 55 MiB), so a client asking for 2 GiB cannot make it buffer that much.
    public var fetchMaxBytes: Int = 57_671_680
    /// Longest a Fetch may wait for `min_bytes`, whatever the client asks.
    public var fetchMaxWaitMs: Int32 = 30_000
    /// Group coordinator settings (`group.min.session.timeout.ms`, `group.max.session.timeout.ms`,
    /// `group.initial.rebalance.delay.ms`).
    public var groupCoordinator = GroupCoordinatorConfiguration()
    /// Transaction coordinator settings (`transaction.max.timeout.ms`,
    /// `transactional.id.expiration.ms`).
    public var transactionCoordinator = TransactionCoordinatorConfiguration()
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms`: how often open transactions
    /// are checked against their timeout (and expired transactional ids removed).
    public var transactionAbortCheckIntervalMs: Int64 = 10_000
    /// `connections.max.reauth.ms` (KIP-368): a SASL authentication lasts this long, then the
    /// client must re-authenticate or its connection is closed at its next request. 0: forever.
    public var connectionsMaxReauthMs: Int64 = 0

    public init() {}
}
