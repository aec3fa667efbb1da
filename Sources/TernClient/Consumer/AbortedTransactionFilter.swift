import TernRecords
import TernWire

/// Which batches a `read_committed` consumer steps over (KIP-98, as Kafka's consumer decides).
///
/// A read_committed fetch answer holds records up to the last stable offset and lists the aborted
/// transactions that overlap it: producer id and first offset. From that offset on, the
/// producer's transactional batches are aborted until its ABORT marker. Batches are seen in
/// offset order; a listed transaction becomes active once a batch reaches its first offset.
/// Control batches (markers) are never records. Pure state, one per fetched chunk.
struct AbortedTransactionFilter: Sendable {
    /// Not yet reached, by first offset.
    private let aborted: [(producerId: Int64, firstOffset: Int64)]
    private var nextAborted = 0
    /// Producers whose transaction is aborted from a batch already seen to its marker.
    private var abortingProducers: Set<Int64> = []

    init(_ aborted: [FetchResponse.AbortedTransaction]) {
        self.aborted = aborted.map { ($0.producerId, $0.firstOffset) }.sorted { $0.firstOffset < $1.firstOffset }
    }

    /// Whether the batch is part of an aborted transaction (or a marker) and holds nothing to
    /// deliver.
    mutating func skips(_ batch: RecordBatch) -> Bool {
        let producerId = batch.producerId
        guard producerId >= 0 else { return false }
        let lastOffset = batch.nextOffset - 1
        while self.nextAborted < self.aborted.count, self.aborted[self.nextAborted].firstOffset <= lastOffset {
            self.abortingProducers.insert(self.aborted[self.nextAborted].producerId)
            self.nextAborted += 1
        }
        if batch.attributes.isControl {
            if ControlRecord(of: batch)?.kind == .abort { self.abortingProducers.remove(producerId) }
            return true
        }
        return batch.attributes.isTransactional && self.abortingProducers.contains(producerId)
    }
}
