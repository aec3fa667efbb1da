/// One partition of one topic. Ordered by topic, then partition, as Kafka's Java client sorts
/// them; topics compare by UTF-16 code units like Java's `String.compareTo`, so the order (and
/// everything an assignor derives from it) is the same as in a Java consumer.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        if lhs.topic != rhs.topic { return JavaOrder.precedes(lhs.topic, rhs.topic) }
        return lhs.partition < rhs.partition
    }

    public var description: String { "\(self.topic)[\(self.partition)]" }
}

/// Java's string ordering and hash, which the Java client's assignors use to order members,
/// topics and partitions. Tern's assignors must reproduce them to hand out the same partitions.
enum JavaOrder {
    /// `a.compareTo(b) < 0` in Java: lexicographic over UTF-16 code units. (Swift's `<` on
    /// `String` compares Unicode scalars of the canonical form, which differs outside ASCII.)
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// Java's `String.hashCode()`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
    static func hash(_ string: String) -> Int32 {
        var hash: Int32 = 0
        for unit in string.utf16 { hash = hash &* 31 &+ Int32(unit) }
        return hash
    }

    /// Java's `TopicPartition.hashCode()`.
    static func hash(_ tp: TopicPartition) -> Int32 {
        (31 &+ tp.partition) &* 31 &+ Self.hash(tp.topic)
    }
}
