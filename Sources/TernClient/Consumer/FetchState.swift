import NIOCore
import Synchronization
import TernRecords
import TernWire

/// One assignment of a partition (a seek or a new assignment makes a new one) and its delivery
/// position. The state, in-flight fetches and fetched chunks hold it; bytes whose cursor is no
/// longer the partition's (compared by identity) are stale and dropped. `isCurrent` lets the
/// iterator check that per record without a lock or a hash lookup.
final class DeliveryCursor: Sendable {
    let position: Atomic<Int64>
    let isCurrent = Atomic<Bool>(true)

    init(position: Int64) {
        self.position = Atomic(position)
    }
}

/// What the consumer knows about each assigned partition, and the fetched bytes waiting to be
/// delivered. Pure state, held in a mutex by `ConsumerCore`.
struct FetchState: Sendable {
    struct Partition: Sendable {
        /// The next offset to fetch.
        var fetchPosition: Int64
        let delivery: DeliveryCursor
        /// The next offset to deliver: the position a commit writes.
        var position: Int64 {
            get { self.delivery.position.load(ordering: .relaxed) }
            nonmutating set { self.delivery.position.store(newValue, ordering: .relaxed) }
        }
        var isPaused = false
        var inFetch = false
        var bufferedBytes = 0
        /// The end of the partition at the last fetch.
        var highWatermark: Int64 = -1
        /// The offset an end-of-partition marker was queued for, so it is queued once per end.
        var endQueuedAt: Int64 = -1
        /// Set when the partition's position must be (re)resolved before fetching.
        var pendingReset: OffsetSpec?
        /// When to retry after a leadership or network error.
        var retryAfter: ContinuousClock.Instant?
        /// Raised when a batch is bigger than the per-partition fetch size.
        var fetchBytes: Int
    }

    /// Fetched bytes of one partition, or the end marker. A class: the iterator holds it per record,
    /// and a reference costs one retain where a struct would copy every field.
    final class Chunk: Sendable {
        enum Content: Sendable {
            /// Batches fetched from `fetchOffset`; records before it are skipped. `aborted`: the
            /// aborted transactions a read_committed answer listed (nil: read_uncommitted).
            case records(ByteBuffer, fetchOffset: Int64, aborted: [FetchResponse.AbortedTransaction]?)
            /// The partition has been read up to this offset.
            case end(Int64)
        }

        let partition: TopicPartition
        /// The assignment it was fetched for: stale unless it is still the partition's cursor.
        let delivery: DeliveryCursor
        let content: Content
        let byteCount: Int

        init(partition: TopicPartition, delivery: DeliveryCursor, content: Content, byteCount: Int) {
            self.partition = partition
            self.delivery = delivery
            self.content = content
            self.byteCount = byteCount
        }
    }

    var partitions: [TopicPartition: Partition] = [:]
    var chunks: [Chunk] = []
    var chunkHead = 0
    /// Partitions whose end has been delivered and that got nothing since.
    var atEnd: Set<TopicPartition> = []
    var failure: TernClientError?
    var isClosed = false
    /// Whether an assignment has been made (group mode starts without one).
    var hasAssignment = false
    var iteratorWaiter: CheckedContinuation<Void, Never>?

    mutating func push(_ chunk: Chunk) -> CheckedContinuation<Void, Never>? {
        self.chunks.append(chunk)
        defer { self.iteratorWaiter = nil }
        return self.iteratorWaiter
    }

    mutating func popChunk() -> Chunk? {
        guard self.chunkHead < self.chunks.count else { return nil }
        let chunk = self.chunks[self.chunkHead]
        self.chunkHead += 1
        if self.chunkHead > 64 && self.chunkHead * 2 > self.chunks.count {
            self.chunks.removeFirst(self.chunkHead)
            self.chunkHead = 0
        }
        return chunk
    }

    /// Drops queued bytes of one partition (seek, revoke).
    mutating func dropChunks(of partition: TopicPartition) {
        self.chunks = Array(self.chunks[self.chunkHead...].filter { $0.partition != partition })
        self.chunkHead = 0
    }

    mutating func assign(_ partition: TopicPartition, at offset: Int64?, reset: OffsetSpec?, fetchBytes: Int) {
        var state = Partition(
            fetchPosition: offset ?? -1,
            delivery: DeliveryCursor(position: offset ?? -1),
            fetchBytes: fetchBytes
        )
        self.partitions[partition]?.delivery.isCurrent.store(false, ordering: .relaxed)
        state.pendingReset = offset == nil ? reset : nil
        self.partitions[partition] = state
        self.atEnd.remove(partition)
        self.dropChunks(of: partition)
    }

    mutating func unassign(_ partition: TopicPartition) {
        self.partitions[partition]?.delivery.isCurrent.store(false, ordering: .relaxed)
        self.partitions[partition] = nil
        self.atEnd.remove(partition)
        self.dropChunks(of: partition)
    }

    /// Whether every assigned partition has been delivered to its end.
    var allAtEnd: Bool {
        self.hasAssignment && self.partitions.keys.allSatisfy { self.atEnd.contains($0) }
    }
}
