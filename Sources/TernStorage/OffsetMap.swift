import NIOCore

/// The log cleaner's key → last offset map over a partition's dirty section, in a fixed memory
/// budget (Kafka's `SkimpyOffsetMap`, `log.cleaner.dedupe.buffer.size`).
///
/// Format: an open-addressing table (linear probing) of 24-byte slots — a 128-bit hash of the key
/// (two SipHash-1-3 runs of `Hasher` with different prefixes) and the offset — so the budget
/// bounds memory whatever the key sizes. Keys themselves are not stored: two keys with the same
/// 128-bit hash would be taken for one (odds about n²/2¹²⁹, as Kafka accepts with MD5).
///
/// Invariants: at most `maximumEntryCount` (75 % of the slots the budget holds) entries, so probes
/// stay short; `put` keeps the largest offset per key; `latestOffset` is the largest offset put.
/// The table starts small and doubles up to the budget, so a small dirty section costs little.
///
/// Not thread-safe: one cleaning pass owns it.
struct OffsetMap {
    static let slotByteCount = 24
    static let loadFactor = 0.75

    /// Slots the budget allows (a power of two); entries are capped below it by `loadFactor`.
    let maximumSlotCount: Int
    private var hashHigh: [UInt64]
    private var hashLow: [UInt64]
    /// -1 marks an empty slot.
    private var offsets: [Int64]
    private(set) var count = 0
    /// The largest offset put, -1 when empty.
    private(set) var latestOffset: Int64 = -1

    init(budgetBytes: Int, initialSlotCount: Int = 1024) {
        var slots = 1
        while slots * 2 * Self.slotByteCount <= max(budgetBytes, Self.slotByteCount) { slots *= 2 }
        self.maximumSlotCount = slots
        let initial = min(slots, max(initialSlotCount, 1))
        self.hashHigh = Array(repeating: 0, count: initial)
        self.hashLow = Array(repeating: 0, count: initial)
        self.offsets = Array(repeating: -1, count: initial)
    }

    /// The most entries the budget holds.
    var maximumEntryCount: Int { max(1, Int(Double(self.maximumSlotCount) * Self.loadFactor)) }
    /// Whether `additional` more distinct keys are certain to fit.
    func canHold(additional: Int) -> Bool { self.count + additional <= self.maximumEntryCount }

    static func hash(_ key: ByteBuffer) -> (high: UInt64, low: UInt64) {
        key.withUnsafeReadableBytes { bytes in
            var first = Hasher()
            first.combine(0x7465_726E as UInt32)
            first.combine(bytes: bytes)
            var second = Hasher()
            second.combine(0x6D61_7073 as UInt32)
            second.combine(bytes: bytes)
            return (UInt64(UInt(bitPattern: first.finalize())), UInt64(UInt(bitPattern: second.finalize())))
        }
    }

    /// Records that `key` is at `offset` (a later offset for the same key replaces an earlier one).
    ///
    /// - Precondition: `canHold(additional: 1)`.
    mutating func put(key: ByteBuffer, offset: Int64) {
        precondition(offset >= 0, "offsets are non-negative")
        let (high, low) = Self.hash(key)
        if let slot = self.find(high, low) {
            self.offsets[slot] = max(self.offsets[slot], offset)
        } else {
            precondition(self.canHold(additional: 1), "the offset map is full")
            if Double(self.count + 1) > Double(self.offsets.count) * Self.loadFactor { self.grow() }
            self.insert(high, low, offset)
            self.count += 1
        }
        self.latestOffset = max(self.latestOffset, offset)
    }

    /// The last offset recorded for `key`, or nil.
    func get(key: ByteBuffer) -> Int64? {
        let (high, low) = Self.hash(key)
        return self.find(high, low).map { self.offsets[$0] }
    }

    private func find(_ high: UInt64, _ low: UInt64) -> Int? {
        let mask = self.offsets.count - 1
        var slot = Int(truncatingIfNeeded: low) & mask
        while self.offsets[slot] >= 0 {
            if self.hashHigh[slot] == high && self.hashLow[slot] == low { return slot }
            slot = (slot + 1) & mask
        }
        return nil
    }

    private mutating func insert(_ high: UInt64, _ low: UInt64, _ offset: Int64) {
        let mask = self.offsets.count - 1
        var slot = Int(truncatingIfNeeded: low) & mask
        while self.offsets[slot] >= 0 { slot = (slot + 1) & mask }
        self.hashHigh[slot] = high
        self.hashLow[slot] = low
        self.offsets[slot] = offset
    }

    private mutating func grow() {
        let size = min(self.offsets.count * 2, self.maximumSlotCount)
        guard size > self.offsets.count else { return }
        let (oldHigh, oldLow, oldOffsets) = (self.hashHigh, self.hashLow, self.offsets)
        self.hashHigh = Array(repeating: 0, count: size)
        self.hashLow = Array(repeating: 0, count: size)
        self.offsets = Array(repeating: -1, count: size)
        for slot in oldOffsets.indices where oldOffsets[slot] >= 0 {
            self.insert(oldHigh[slot], oldLow[slot], oldOffsets[slot])
        }
    }
}
