import NIOCore

/// A transaction that was aborted: its producer, its first offset and the offset of its ABORT
/// marker, and the partition's last stable offset right after the marker was written. A read
/// committed consumer drops the producer's records from `firstOffset` on until it reaches the
/// marker.
public struct AbortedTransaction: Hashable, Sendable {
    public var producerId: Int64
    public var firstOffset: Int64
    /// The offset of the ABORT marker.
    public var lastOffset: Int64
    /// The last stable offset once the marker was written (Kafka's `AbortedTxn.lastStableOffset`):
    /// a search for aborted transactions below an upper bound can stop at the first entry whose
    /// last stable offset reaches it, since no earlier transaction is still open there.
    public var lastStableOffset: Int64

    public init(producerId: Int64, firstOffset: Int64, lastOffset: Int64, lastStableOffset: Int64) {
        self.producerId = producerId
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.lastStableOffset = lastStableOffset
    }
}

/// A segment's aborted-transaction index, kept in memory and written to `<baseOffset>.txnindex`
/// with the segment's other index files (when the segment is rolled, cleaned or the log closed),
/// in Kafka's `TransactionIndex` format: a sequence of 34-byte entries, no header, big-endian:
///
///     offset size field
///          0    2 version           i16  0
///          2    8 producerId        i64
///         10    8 firstOffset       i64  the transaction's first offset (may lie in an earlier segment)
///         18    8 lastOffset        i64  the ABORT marker's offset, inside this segment
///         26    8 lastStableOffset  i64  see `AbortedTransaction.lastStableOffset`
///
/// An entry sits in the segment holding its marker and goes when the segment goes (retention,
/// DeleteRecords, a cleaner swap carries it into the cleaned segment). The file is written only
/// when it has entries (as Kafka creates it lazily) and has no checksum: after an unclean shutdown
/// the indexes of every segment from the recovery point on are rebuilt by replaying the log into
/// the producer state, and a file that breaks an invariant (size, version, marker outside the
/// segment, markers not increasing) sends its segment to that recovery too.
///
/// Not thread-safe: owned by its segment, which the partition's lock guards.
struct TransactionIndex: Sendable, Hashable {
    static let entryByteCount = 34
    static let version: Int16 = 0

    private(set) var entries: [AbortedTransaction] = []

    init(entries: [AbortedTransaction] = []) {
        self.entries = entries
    }

    var isEmpty: Bool { self.entries.isEmpty }

    mutating func append(_ entry: AbortedTransaction) {
        if let last = self.entries.last {
            precondition(entry.lastOffset > last.lastOffset, "txnindex markers must increase")
        }
        precondition(entry.firstOffset <= entry.lastOffset, "a transaction starts before its marker")
        self.entries.append(entry)
    }

    /// The file's bytes.
    func serialized() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(self.entries.count * Self.entryByteCount)
        for entry in self.entries {
            buffer.writeInteger(Self.version)
            buffer.writeInteger(entry.producerId)
            buffer.writeInteger(entry.firstOffset)
            buffer.writeInteger(entry.lastOffset)
            buffer.writeInteger(entry.lastStableOffset)
        }
        return buffer
    }

    /// Parses a file; nil when it breaks an invariant for a segment holding offsets
    /// `[baseOffset, nextOffset)`.
    static func parse(_ bytes: ByteBuffer, baseOffset: Int64, nextOffset: Int64) -> TransactionIndex? {
        guard bytes.readableBytes % Self.entryByteCount == 0 else { return nil }
        var bytes = bytes
        var index = TransactionIndex()
        while bytes.readableBytes > 0 {
            guard let version = bytes.readInteger(as: Int16.self), version == Self.version,
                let producerId = bytes.readInteger(as: Int64.self),
                let firstOffset = bytes.readInteger(as: Int64.self),
                let lastOffset = bytes.readInteger(as: Int64.self),
                let lastStableOffset = bytes.readInteger(as: Int64.self)
            else { return nil }
            guard producerId >= 0, firstOffset >= 0, firstOffset <= lastOffset, lastOffset >= baseOffset,
                lastOffset < nextOffset, lastOffset > index.entries.last?.lastOffset ?? -1
            else { return nil }
            index.entries.append(
                AbortedTransaction(
                    producerId: producerId,
                    firstOffset: firstOffset,
                    lastOffset: lastOffset,
                    lastStableOffset: lastStableOffset
                )
            )
        }
        return index
    }

    /// Kafka's `TransactionIndex.collectAbortedTxns`: the entries that overlap
    /// `[fetchOffset, upperBoundOffset)`, and whether the search is complete (an entry's last
    /// stable offset reached the upper bound, so later segments add nothing).
    func collect(fetchOffset: Int64, upperBoundOffset: Int64) -> (entries: [AbortedTransaction], isComplete: Bool) {
        var found: [AbortedTransaction] = []
        for entry in self.entries {
            if entry.lastOffset >= fetchOffset && entry.firstOffset < upperBoundOffset { found.append(entry) }
            if entry.lastStableOffset >= upperBoundOffset { return (found, true) }
        }
        return (found, false)
    }
}
