import NIOCore
import TernClient
import TernWire

func tp(_ topic: String, _ partition: Int32) -> TopicPartition {
    TopicPartition(topic: topic, partition: partition)
}

/// A member without previous assignment, like Java's tests' `new Subscription(topics)`.
func member(_ id: String, _ topics: [String], instance: String? = nil) -> AssignorMember {
    AssignorMember(memberId: id, groupInstanceId: instance, subscription: ConsumerProtocolSubscription(topics: topics))
}

/// A sticky member that owned `partitions` in `generation`, like Java's `buildSubscriptionV2Above`:
/// the user data and the subscription's generation both say `generation`.
func stickyMember(_ id: String, _ topics: [String], owned partitions: [TopicPartition], generation: Int32 = 1)
    -> AssignorMember
{
    AssignorMember(
        memberId: id,
        subscription: PartitionAssignor.sticky.subscription(
            topics: topics,
            currentAssignment: partitions,
            generation: generation
        )
    )
}

extension Dictionary where Value == [TopicPartition] {
    var asSets: [Key: Set<TopicPartition>] { self.mapValues { Set($0) } }
}

/// A small deterministic generator (SplitMix64), so a failing random case can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9e37_79b9_7f4a_7c15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Every partition of the subscribed topics is assigned exactly once, to a member subscribed to
/// its topic.
func validityProblems(
    _ assignment: [String: [TopicPartition]],
    members: [AssignorMember],
    counts: [String: Int32]
) -> [String] {
    var problems: [String] = []
    let topicsByMember = Dictionary(uniqueKeysWithValues: members.map { ($0.memberId, Set($0.subscription.topics)) })
    var seen: [TopicPartition: String] = [:]
    for (memberId, partitions) in assignment {
        guard let topics = topicsByMember[memberId] else {
            problems.append("unknown member \(memberId)")
            continue
        }
        for partition in partitions {
            if !topics.contains(partition.topic) { problems.append("\(memberId) got unsubscribed \(partition)") }
            if let other = seen.updateValue(memberId, forKey: partition) {
                problems.append("\(partition) given to \(other) and \(memberId)")
            }
        }
    }
    let subscribed = Set(members.flatMap(\.subscription.topics))
    for (topic, count) in counts where subscribed.contains(topic) {
        for partition in 0..<count where seen[tp(topic, partition)] == nil {
            problems.append("\(tp(topic, partition)) unassigned")
        }
    }
    if Set(assignment.keys) != Set(members.map(\.memberId)) { problems.append("members missing from the result") }
    return problems
}

/// Java's `verifyValidityAndBalance` balance rule: when two members differ by more than one
/// partition, the smaller one cannot take any of the larger one's partitions (not subscribed).
func balanceProblems(_ assignment: [String: [TopicPartition]], members: [AssignorMember]) -> [String] {
    let topicsByMember = Dictionary(uniqueKeysWithValues: members.map { ($0.memberId, Set($0.subscription.topics)) })
    var problems: [String] = []
    for (a, aPartitions) in assignment {
        for (b, bPartitions) in assignment where aPartitions.count + 1 < bPartitions.count {
            if let movable = bPartitions.first(where: { topicsByMember[a]!.contains($0.topic) }) {
                problems.append("\(a) (\(aPartitions.count)) could take \(movable) from \(b) (\(bPartitions.count))")
            }
        }
    }
    return problems
}
