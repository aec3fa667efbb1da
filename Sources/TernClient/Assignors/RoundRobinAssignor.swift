import TernWire

/// Java's `RoundRobinAssignor`: every partition of every subscribed topic, sorted by topic then
/// partition, goes to the next member (in `MemberInfo` order, cycling) that subscribes to its topic.
enum RoundRobinAssignor {
    static func assign(members: [AssignorMember], partitionCounts: [String: Int32]) -> [String: [TopicPartition]] {
        var assignment: [String: [TopicPartition]] = [:]
        for member in members { assignment[member.memberId] = [] }
        guard !members.isEmpty else { return assignment }

        let ring = members.sorted(by: AssignorMember.javaOrder)
        let subscribed = ring.map { Set($0.subscription.topics) }
        var next = 0
        for topic in partitionCounts.keys.sorted(by: JavaOrder.precedes) {
            for partition in 0..<partitionCounts[topic]! {
                // Some member subscribes to every topic in partitionCounts, so this terminates.
                while !subscribed[next].contains(topic) { next = (next + 1) % ring.count }
                assignment[ring[next].memberId]!.append(TopicPartition(topic: topic, partition: partition))
                next = (next + 1) % ring.count
            }
        }
        return assignment
    }
}
