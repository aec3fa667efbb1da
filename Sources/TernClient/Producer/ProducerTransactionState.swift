import Synchronization
import TernWire

/// A transactional producer's state (the Java client's `TransactionManager`, KIP-98): which calls
/// are allowed now, what the open transaction holds, and how a failure changes it. Pure: the
/// producer keeps it in a mutex, checks before acting and reports what happened.
///
///     uninitialized --initialized--> ready --begin--> inTransaction --commit--> committing --ended--> ready
///                                      ^                 |  \--abort--> aborting --ended------------/
///                                      |                 |                ^
///                                      |          a failure: abortable ---/  (fenced, refused: fatal)
///
/// A failed batch leaves a gap in its partition's sequence numbers, which the broker would refuse
/// in the next transaction; the producer then takes a new epoch after the abort
/// (`needsEpochBump`), which starts the sequences again.
struct ProducerTransactionState: Sendable {
    enum Phase: Hashable, Sendable {
        /// `initTransactions` has not succeeded yet.
        case uninitialized
        /// Between transactions.
        case ready
        case inTransaction
        /// Flushing, then ending the transaction with a commit; repeated after a timeout.
        case committing
        /// Flushing, then ending the transaction with an abort.
        case aborting
        /// A send or request of the open transaction failed: only an abort is allowed.
        case abortable
        /// Fenced by a newer producer with the transactional id, or refused by the broker: only
        /// closing is left.
        case fatal
    }

    enum Operation: Sendable {
        case initialize, begin, send, sendOffsets, commit, abort
    }

    private(set) var phase: Phase = .uninitialized
    /// Why the phase is `.abortable` or `.fatal`.
    private(set) var failure: TernClientError?
    /// The partitions the coordinator has added to the open transaction.
    private(set) var partitions: Set<TopicPartition> = []
    /// Whether the coordinator knows of the open transaction (partitions or offsets were added),
    /// so that ending it takes an EndTxn.
    private(set) var coordinatorKnows = false
    /// A batch failed (its partition's sequence has a gap): take a new epoch after the abort.
    private(set) var needsEpochBump = false

    /// Throws the error a caller gets when the operation is not allowed now.
    func check(_ operation: Operation) throws(TernClientError) {
        func refused(_ message: String) -> TernClientError { TernClientError(.illegalState, message) }
        if self.phase == .fatal, let failure = self.failure { throw failure }
        switch (operation, self.phase) {
        case (.initialize, .uninitialized), (.begin, .ready), (.send, .inTransaction), (.sendOffsets, .inTransaction),
            (.commit, .inTransaction), (.commit, .committing), (.abort, .inTransaction), (.abort, .aborting),
            (.abort, .abortable):
            return
        case (_, .abortable):
            throw self.failure ?? refused("the transaction failed: abort it")
        case (.initialize, _):
            throw refused("transactions are already initialized")
        case (_, .uninitialized):
            throw refused("call initTransactions first")
        case (.begin, _):
            throw refused("a transaction is already open")
        case (.abort, .committing):
            throw refused("the transaction is being committed: repeat the commit")
        case (_, .committing), (_, .aborting):
            throw refused("the transaction is ending")
        case (_, _):
            throw refused("no transaction is open: call beginTransaction first")
        }
    }

    /// InitProducerId answered: the producer has an id and epoch with this transactional id.
    mutating func initialized() {
        self.phase = .ready
        self.failure = nil
        self.partitions = []
        self.coordinatorKnows = false
        self.needsEpochBump = false
    }

    mutating func begin() throws(TernClientError) {
        try self.check(.begin)
        self.phase = .inTransaction
    }

    /// The partitions among these that the coordinator must add before their batches are sent.
    func missing(_ partitions: some Sequence<TopicPartition>) -> Set<TopicPartition> {
        Set(partitions).subtracting(self.partitions)
    }

    mutating func added(_ partitions: some Sequence<TopicPartition>) {
        self.partitions.formUnion(partitions)
        self.coordinatorKnows = true
    }

    /// AddOffsetsToTxn answered: the group's offsets partition is in the transaction.
    mutating func addedOffsets() {
        self.coordinatorKnows = true
    }

    /// A request or batch of the transaction failed for good. Being fenced or refused authority is
    /// fatal; anything else leaves the transaction to be aborted.
    mutating func failed(_ error: TernClientError, sequenceGap: Bool) {
        if sequenceGap { self.needsEpochBump = true }
        if self.phase == .fatal { return }
        if Self.isFatal(error) {
            self.phase = .fatal
            self.failure = error
        } else if self.phase == .inTransaction || self.phase == .committing {
            self.phase = .abortable
            self.failure = error
        }
    }

    /// Commit or abort begins: no more records are taken.
    mutating func beginEnding(commit: Bool) throws(TernClientError) {
        try self.check(commit ? .commit : .abort)
        self.phase = commit ? .committing : .aborting
    }

    /// EndTxn answered (or was not needed): the transaction is over.
    mutating func ended() {
        self.phase = .ready
        self.failure = nil
        self.partitions = []
        self.coordinatorKnows = false
    }

    /// A new epoch was taken: sequences start again.
    mutating func epochBumped() {
        self.needsEpochBump = false
    }

    /// Kafka's fatal transaction errors: a newer producer took the transactional id, or the
    /// broker refuses this one.
    static func isFatal(_ error: TernClientError) -> Bool {
        switch error.kafkaErrorCode {
        case .producerFenced?, .invalidProducerEpoch?, .transactionalIdAuthorizationFailed?, .invalidTxnState?,
            .clusterAuthorizationFailed?, .unsupportedVersion?:
            true
        default:
            error.kind == .unsupportedVersion
        }
    }
}

/// The state in a lock, shared by the producer's callers and its sender (a class, so the producer
/// can hold it optionally).
final class ProducerTransaction: Sendable {
    private let state = Mutex(ProducerTransactionState())

    func withLock<Result: Sendable, E: Error>(
        _ body: (inout ProducerTransactionState) throws(E) -> Result
    ) throws(E) -> Result {
        try self.state.withLock { (state: inout sending ProducerTransactionState) throws(E) -> Result in
            try body(&state)
        }
    }
}
