import NIOCore
import TernWire

/// The sticky assignor's subscription user data: the member's previous assignment and its
/// generation, so the leader can keep partitions where they were. Kafka's
/// `StickyAssignorUserData` schema, written without a version prefix:
///
///     v1: previous_assignment: [topic: string, partitions: [int32]], generation: int32
///     v0: previous_assignment only
///
/// Java, librdkafka and kafka-python all write v1 and read v1, then v0, and ignore data that is
/// neither.
struct StickyAssignorUserData: Hashable, Sendable {
    var partitions: [TopicPartition]
    /// nil for v0 data.
    var generation: Int32?

    init(partitions: [TopicPartition], generation: Int32?) {
        self.partitions = partitions
        self.generation = generation
    }

    /// Always v1. Topics are written in Java order, each topic's partitions in the order given.
    func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 16 + self.partitions.count * 8)
        buffer.writeKafkaArray(self.partitions.groupedByTopic()) { buffer, entry in
            buffer.writeKafkaString(entry.topic)
            buffer.writeKafkaArray(entry.partitions) { buffer, partition in buffer.writeInteger(partition) }
        }
        buffer.writeInteger(self.generation ?? -1)
        return buffer
    }

    /// Reads v1, else v0 (as Java's `StickyAssignor.deserializeTopicPartitionAssignment` does).
    /// Bytes after the known fields are ignored. Returns nil when the data is neither.
    static func decode(_ bytes: ByteBuffer) -> StickyAssignorUserData? {
        var buffer = bytes
        guard let partitions = try? Self.readPreviousAssignment(&buffer) else { return nil }
        if let generation = buffer.readInteger(as: Int32.self) {
            return StickyAssignorUserData(partitions: partitions, generation: generation)
        }
        return StickyAssignorUserData(partitions: partitions, generation: nil)
    }

    private static func readPreviousAssignment(_ buffer: inout ByteBuffer) throws(WireError) -> [TopicPartition] {
        let entries = try buffer.readKafkaArray { buffer throws(WireError) in
            let topic = try buffer.readKafkaString()
            let partitions = try buffer.readKafkaArray { buffer throws(WireError) -> Int32 in
                try buffer.readKafkaInteger()
            }
            return partitions.map { TopicPartition(topic: topic, partition: $0) }
        }
        return entries.flatMap { $0 }
    }
}
