import TernWire

/// Java's `RangeAssignor` without racks: for each topic, its subscribers in `MemberInfo` order
/// (static members by instance id, then dynamic members by member id) take consecutive ranges of
/// `count / subscribers` partitions, the first `count % subscribers` one more.
enum RangeAssignor {
    static func assign(members: [AssignorMember], partitionCounts: [String: Int32]) -> [String: [TopicPartition]] {
        var assignment: [String: [TopicPartition]] = [:]
        for member in members { assignment[member.memberId] = [] }

        var subscribers: [String: [AssignorMember]] = [:]
        for member in members {
            for topic in member.subscription.topics where partitionCounts[topic] != nil {
                subscribers[topic, default: []].append(member)
            }
        }
        // Each topic is handled on its own, so the order of topics only changes the order of each
        // member's list; sorting keeps that deterministic.
        for topic in subscribers.keys.sorted(by: JavaOrder.precedes) {
            let consumers = subscribers[topic]!.sorted(by: AssignorMember.javaOrder)
            let count = Int(partitionCounts[topic]!)
            let perConsumer = count / consumers.count
            let withExtra = count % consumers.count
            for (index, consumer) in consumers.enumerated() {
                let start = perConsumer * index + min(index, withExtra)
                let length = perConsumer + (index < withExtra ? 1 : 0)
                for partition in start..<(start + length) {
                    assignment[consumer.memberId]!.append(TopicPartition(topic: topic, partition: Int32(partition)))
                }
            }
        }
        return assignment
    }
}
