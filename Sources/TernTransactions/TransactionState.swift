/// The state of a transactional id, numbered as Kafka stores it in `__transaction_state`
/// (`TransactionStatus`) and named as DescribeTransactions and ListTransactions show it (Kafka's
/// `TransactionState`).
public enum TransactionState: Int8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// No transaction: just initialised, or the previous one is complete and the epoch was bumped.
    case empty = 0
    /// Partitions (or a group's offsets) were added; the transaction is open.
    case ongoing = 1
    /// EndTxn(commit) is durable; COMMIT markers are being written.
    case prepareCommit = 2
    /// EndTxn(abort), a timeout or a fencing InitProducerId is durable; ABORT markers are being written.
    case prepareAbort = 3
    case completeCommit = 4
    case completeAbort = 5
    /// The transactional id is being expired. Never stored: the log holds a tombstone instead.
    case dead = 6
    /// Kafka's in-memory step of a fencing abort. Never stored either: the fence is written as
    /// PrepareAbort with the bumped epoch.
    case prepareEpochFence = 7

    /// Kafka's name, e.g. `PrepareCommit`.
    public var name: String {
        switch self {
        case .empty: "Empty"
        case .ongoing: "Ongoing"
        case .prepareCommit: "PrepareCommit"
        case .prepareAbort: "PrepareAbort"
        case .completeCommit: "CompleteCommit"
        case .completeAbort: "CompleteAbort"
        case .dead: "Dead"
        case .prepareEpochFence: "PrepareEpochFence"
        }
    }

    /// The state with Kafka's name, matched exactly as Kafka's `TransactionState.fromName` does.
    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = state
    }

    /// Whether the transactional id may expire in this state (Kafka's `isExpirationAllowed`): only
    /// when no transaction is open.
    public var isExpirationAllowed: Bool {
        switch self {
        case .empty, .completeCommit, .completeAbort: true
        case .ongoing, .prepareCommit, .prepareAbort, .dead, .prepareEpochFence: false
        }
    }

    /// PrepareCommit or PrepareAbort: markers are owed.
    public var isPrepare: Bool { self == .prepareCommit || self == .prepareAbort }

    public var description: String { self.name }
}
