import NIOCore

/// A segment's sparse offset index, kept in memory and written to `<baseOffset>.index` when the
/// segment is rolled or the log is closed.
///
/// File format: a sequence of 8-byte entries, no header, big-endian:
///
///     offset size field
///          0    4 relativeOffset  u32  last offset of a batch − segment base offset
///          4    4 position        u32  byte position of that batch in the `.log` file
///
/// An entry is added after a batch when more than `index.interval.bytes` were appended since the
/// previous entry (as Kafka's `LogSegment.append` does), so a lookup lands on a batch boundary at
/// or before the target and a short scan finds the batch.
///
/// Invariants: relative offsets and positions strictly increase; positions are below the log
/// size. The file has no checksum (as in Kafka): an index that breaks an invariant is rebuilt from
/// the log, and after an unclean shutdown every index from the recovery point on is rebuilt anyway.
///
/// Not thread-safe: owned by its segment, which the partition's lock guards.
struct OffsetIndex: Sendable {
    struct Entry: Hashable, Sendable {
        var relativeOffset: UInt32
        var position: UInt32
    }

    static let entryByteCount = 8

    let baseOffset: Int64
    let maxEntryCount: Int
    private(set) var entries: [Entry] = []

    init(baseOffset: Int64, maxIndexBytes: Int) {
        self.baseOffset = baseOffset
        self.maxEntryCount = max(1, maxIndexBytes / Self.entryByteCount)
    }

    var isFull: Bool { self.entries.count >= self.maxEntryCount }

    /// Adds an entry for the batch ending at `lastOffset` and starting at `position`.
    mutating func append(lastOffset: Int64, position: Int) {
        let relativeOffset = UInt32(lastOffset - self.baseOffset)
        precondition(!self.isFull, "append to a full offset index")
        if let last = self.entries.last {
            precondition(relativeOffset > last.relativeOffset, "offset index entries must increase")
            precondition(position > Int(last.position), "offset index positions must increase")
        }
        self.entries.append(Entry(relativeOffset: relativeOffset, position: UInt32(position)))
    }

    /// Where to start scanning for the batch holding `offset`: the last entry whose offset is
    /// ≤ `offset` (its batch holds `offset` or ends before it, so the batch holding `offset` starts
    /// there or later), or the segment's start.
    func lookup(offset: Int64) -> (offset: Int64, position: Int) {
        let target = offset - self.baseOffset
        guard target > 0 else { return (self.baseOffset, 0) }
        // Binary search for the last entry with relativeOffset <= target.
        var low = 0
        var high = self.entries.count
        while low < high {
            let middle = (low + high) / 2
            if Int64(self.entries[middle].relativeOffset) <= target { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return (self.baseOffset, 0) }
        let entry = self.entries[low - 1]
        return (self.baseOffset + Int64(entry.relativeOffset), Int(entry.position))
    }

    /// Drops entries at or beyond `position` (after the log was truncated there).
    mutating func truncate(toPosition position: Int) {
        while let last = self.entries.last, Int(last.position) >= position { self.entries.removeLast() }
    }

    func serialized() -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: self.entries.count * Self.entryByteCount)
        for entry in self.entries {
            buffer.writeInteger(entry.relativeOffset)
            buffer.writeInteger(entry.position)
        }
        return buffer
    }

    /// Parses an index file, or nil when it breaks an invariant: a size that is not a whole number
    /// of entries, more entries than the capacity, non-increasing entries, or a position at or past
    /// `logSizeBytes`.
    static func parse(
        _ bytes: ByteBuffer,
        baseOffset: Int64,
        maxIndexBytes: Int,
        logSizeBytes: Int
    ) -> OffsetIndex? {
        var index = OffsetIndex(baseOffset: baseOffset, maxIndexBytes: maxIndexBytes)
        guard bytes.readableBytes % Self.entryByteCount == 0 else { return nil }
        var bytes = bytes
        var entries: [Entry] = []
        entries.reserveCapacity(bytes.readableBytes / Self.entryByteCount)
        while let relativeOffset = bytes.readInteger(as: UInt32.self), let position = bytes.readInteger(as: UInt32.self)
        {
            if let last = entries.last, relativeOffset <= last.relativeOffset || position <= last.position {
                return nil
            }
            guard Int(position) < logSizeBytes else { return nil }
            entries.append(Entry(relativeOffset: relativeOffset, position: position))
        }
        guard entries.count <= index.maxEntryCount else { return nil }
        index.entries = entries
        return index
    }
}

/// A segment's sparse time index, kept in memory and written to `<baseOffset>.timeindex` beside
/// the offset index.
///
/// File format: a sequence of 12-byte entries, no header, big-endian:
///
///     offset size field
///          0    8 timestampMs     i64  largest record timestamp up to and including the offset
///          8    4 relativeOffset  u32  an offset − segment base offset
///
/// Meaning of an entry (T, O): every record at an offset ≤ O has a timestamp ≤ T. Entries are
/// added with the offset index entries (and once more when the segment is rolled or closed, so the
/// last entry holds the segment's largest timestamp) when T grew. A search for the first record
/// with timestamp ≥ t may therefore start after the last entry with T < t.
///
/// Invariants: timestamps strictly increase, relative offsets strictly increase. Crash policy as
/// for `OffsetIndex`: rebuilt, never trusted when it breaks an invariant.
struct TimeIndex: Sendable {
    struct Entry: Hashable, Sendable {
        var timestampMs: Int64
        var relativeOffset: UInt32
    }

    static let entryByteCount = 12

    let baseOffset: Int64
    let maxEntryCount: Int
    private(set) var entries: [Entry] = []

    init(baseOffset: Int64, maxIndexBytes: Int) {
        self.baseOffset = baseOffset
        self.maxEntryCount = max(1, maxIndexBytes / Self.entryByteCount)
    }

    var isFull: Bool { self.entries.count >= self.maxEntryCount }

    var lastTimestampMs: Int64? { self.entries.last?.timestampMs }

    /// Adds (T, O) when T is larger than the last entry's. `force` allows one entry beyond the
    /// capacity, for the final entry written when the segment is rolled (as Kafka's
    /// `skipFullCheck`).
    mutating func maybeAppend(timestampMs: Int64, offset: Int64, force: Bool = false) {
        let relativeOffset = UInt32(offset - self.baseOffset)
        if let last = self.entries.last {
            guard timestampMs > last.timestampMs, relativeOffset > last.relativeOffset else { return }
        }
        guard force || !self.isFull else { return }
        self.entries.append(Entry(timestampMs: timestampMs, relativeOffset: relativeOffset))
    }

    /// The offset after which the first record with timestamp ≥ `timestampMs` must lie: the offset
    /// of the last entry with a smaller timestamp, or nil when the search must start at the segment.
    func lowerBound(forTimestamp timestampMs: Int64) -> Int64? {
        var low = 0
        var high = self.entries.count
        while low < high {
            let middle = (low + high) / 2
            if self.entries[middle].timestampMs < timestampMs { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        return self.baseOffset + Int64(self.entries[low - 1].relativeOffset)
    }

    /// Drops entries for offsets at or beyond `offset`.
    mutating func truncate(toOffset offset: Int64) {
        while let last = self.entries.last, self.baseOffset + Int64(last.relativeOffset) >= offset {
            self.entries.removeLast()
        }
    }

    func serialized() -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: self.entries.count * Self.entryByteCount)
        for entry in self.entries {
            buffer.writeInteger(entry.timestampMs)
            buffer.writeInteger(entry.relativeOffset)
        }
        return buffer
    }

    /// Parses a time index file, or nil when it breaks an invariant (partial entry, non-increasing
    /// timestamps or offsets, an offset at or past `nextOffset`, more than one entry over capacity).
    static func parse(_ bytes: ByteBuffer, baseOffset: Int64, maxIndexBytes: Int, nextOffset: Int64) -> TimeIndex? {
        var index = TimeIndex(baseOffset: baseOffset, maxIndexBytes: maxIndexBytes)
        guard bytes.readableBytes % Self.entryByteCount == 0 else { return nil }
        var bytes = bytes
        var entries: [Entry] = []
        while let timestampMs = bytes.readInteger(as: Int64.self),
            let relativeOffset = bytes.readInteger(as: UInt32.self)
        {
            if let last = entries.last, timestampMs <= last.timestampMs || relativeOffset <= last.relativeOffset {
                return nil
            }
            guard baseOffset + Int64(relativeOffset) < nextOffset else { return nil }
            entries.append(Entry(timestampMs: timestampMs, relativeOffset: relativeOffset))
        }
        guard entries.count <= index.maxEntryCount + 1 else { return nil }
        index.entries = entries
        return index
    }
}
