/// The iteration order of a `java.util.HashMap` (or `HashSet`) built with the default constructor.
///
/// The Java sticky assignor walks some hash maps and sets and lets the first entry win ties (which
/// member keeps an extra partition, which partition moves back). To decide those ties as a Java
/// leader would, Tern keeps the same order: entries sorted by bucket
/// (`(h ^ (h >>> 16)) & (capacity - 1)`), and within a bucket by insertion. The table starts with
/// 16 buckets and doubles whenever it holds more than ¾ of its capacity; removals never shrink it,
/// and resizing keeps the relative order within a bucket. (Java turns a bucket of 8+ colliding keys
/// into a tree; with member ids and partitions that does not happen in practice, and it is not
/// modelled.)
struct JavaHashOrder<Key: Hashable> {
    private struct Entry {
        var hash: UInt32
        var sequence: Int
    }

    private var entries: [Key: Entry] = [:]
    private var capacity = 16
    private var nextSequence = 0

    var isEmpty: Bool { self.entries.isEmpty }
    var count: Int { self.entries.count }

    func contains(_ key: Key) -> Bool { self.entries[key] != nil }

    /// `put`/`add`: a key already present keeps its place.
    mutating func insert(_ key: Key, javaHash: Int32) {
        guard self.entries[key] == nil else { return }
        let h = UInt32(bitPattern: javaHash)
        self.entries[key] = Entry(hash: h ^ (h >> 16), sequence: self.nextSequence)
        self.nextSequence += 1
        while self.entries.count > self.capacity / 4 * 3 { self.capacity *= 2 }
    }

    mutating func remove(_ key: Key) {
        self.entries[key] = nil
    }

    /// The keys in Java's iteration order.
    var ordered: [Key] {
        let mask = UInt32(self.capacity - 1)
        return self.entries.sorted { a, b in
            let (bucketA, bucketB) = (a.value.hash & mask, b.value.hash & mask)
            return bucketA != bucketB ? bucketA < bucketB : a.value.sequence < b.value.sequence
        }.map(\.key)
    }

    /// `iterator().next()`.
    var first: Key? {
        let mask = UInt32(self.capacity - 1)
        return self.entries.min { a, b in
            let (bucketA, bucketB) = (a.value.hash & mask, b.value.hash & mask)
            return bucketA != bucketB ? bucketA < bucketB : a.value.sequence < b.value.sequence
        }?.key
    }
}

extension JavaHashOrder<String> {
    /// The order of a `HashMap<String, …>` filled with `keys` in turn.
    static func order(of keys: [String]) -> [String] {
        var table = JavaHashOrder<String>()
        for key in keys { table.insert(key, javaHash: JavaOrder.hash(key)) }
        return table.ordered
    }
}
