import TernClient
import TernWire
import Testing

/// Expected assignments from Kafka's RangeAssignorTest and RoundRobinAssignorTest.
@Suite struct RangeAssignorTests {
    let assignor = PartitionAssignor.range

    @Test func namesMatchOtherClients() {
        #expect(PartitionAssignor.range.name == "range")
        #expect(PartitionAssignor.roundRobin.name == "roundrobin")
        #expect(PartitionAssignor.sticky.name == "sticky")
        #expect(PartitionAssignor(name: "roundrobin") == .roundRobin)
        #expect(PartitionAssignor(name: "cooperative-sticky") == nil)
    }

    @Test func oneConsumerNonexistentTopic() {
        let result = self.assignor.assign(members: [member("consumer", ["topic"])], partitionCounts: [:])
        #expect(result == ["consumer": []])
    }

    @Test func onlyAssignsPartitionsFromSubscribedTopics() {
        let result = self.assignor.assign(
            members: [member("consumer", ["topic"])],
            partitionCounts: ["topic": 3, "other": 3]
        )
        #expect(result == ["consumer": [tp("topic", 0), tp("topic", 1), tp("topic", 2)]])
    }

    @Test func twoConsumersOneTopicOnePartition() {
        let result = self.assignor.assign(
            members: [member("consumer1", ["topic"]), member("consumer2", ["topic"])],
            partitionCounts: ["topic": 1]
        )
        #expect(result == ["consumer1": [tp("topic", 0)], "consumer2": []])
    }

    @Test func multipleConsumersMixedTopics() {
        let result = self.assignor.assign(
            members: [
                member("consumer1", ["topic1"]), member("consumer2", ["topic1", "topic2"]),
                member("consumer3", ["topic1"]),
            ],
            partitionCounts: ["topic1": 3, "topic2": 2]
        )
        #expect(
            result.asSets == [
                "consumer1": [tp("topic1", 0)], "consumer2": [tp("topic1", 1), tp("topic2", 0), tp("topic2", 1)],
                "consumer3": [tp("topic1", 2)],
            ]
        )
    }

    /// The class comment's example: two consumers, two topics of three partitions.
    @Test func twoConsumersTwoTopicsSixPartitions() {
        let result = self.assignor.assign(
            members: [member("consumer2", ["topic1", "topic2"]), member("consumer1", ["topic1", "topic2"])],
            partitionCounts: ["topic1": 3, "topic2": 3]
        )
        #expect(
            result.asSets == [
                "consumer1": [tp("topic1", 0), tp("topic1", 1), tp("topic2", 0), tp("topic2", 1)],
                "consumer2": [tp("topic1", 2), tp("topic2", 2)],
            ]
        )
    }

    /// Static members sort by instance id, not member id, and before dynamic members.
    @Test(arguments: [("instance2" as String?), nil])
    func staticMembersSortByInstanceId(otherInstance: String?) {
        let result = self.assignor.assign(
            members: [
                member("consumer-b", ["topic1", "topic2"], instance: "instance1"),
                member("consumer-a", ["topic1", "topic2"], instance: otherInstance),
            ],
            partitionCounts: ["topic1": 3, "topic2": 3]
        )
        #expect(
            result.asSets == [
                "consumer-b": [tp("topic1", 0), tp("topic1", 1), tp("topic2", 0), tp("topic2", 1)],
                "consumer-a": [tp("topic1", 2), tp("topic2", 2)],
            ]
        )
    }

    @Test func staticMemberAssignmentPersistsWhenDynamicMemberIsReplaced() {
        let statics = [
            member("consumer1", ["topic1", "topic2"], instance: "instance1"),
            member("consumer2", ["topic1", "topic2"], instance: "instance2"),
            member("consumer3", ["topic1", "topic2"], instance: "instance3"),
        ]
        let counts: [String: Int32] = ["topic1": 5, "topic2": 4]
        for dynamic in ["consumer4", "consumer5", "a-sorts-first"] {
            let result = self.assignor.assign(
                members: statics + [member(dynamic, ["topic1", "topic2"])],
                partitionCounts: counts
            )
            #expect(
                result.asSets == [
                    "consumer1": [tp("topic1", 0), tp("topic1", 1), tp("topic2", 0)],
                    "consumer2": [tp("topic1", 2), tp("topic2", 1)], "consumer3": [tp("topic1", 3), tp("topic2", 2)],
                    dynamic: [tp("topic1", 4), tp("topic2", 3)],
                ]
            )
        }
    }

    /// Member ids compare like Java strings (UTF-16 code units), not like Swift strings.
    @Test func memberIdsCompareAsUTF16() {
        // U+FF21 (one UTF-16 unit, 0xFF21) sorts after U+1F600 (surrogates 0xD83D 0xDE00) in Java,
        // but before it in Swift's scalar order.
        let high = "\u{FF21}"
        let emoji = "\u{1F600}"
        let result = self.assignor.assign(
            members: [member(high, ["t"]), member(emoji, ["t"])],
            partitionCounts: ["t": 3]
        )
        #expect(result[emoji] == [tp("t", 0), tp("t", 1)])
        #expect(result[high] == [tp("t", 2)])
    }

    @Test func eachTopicIsBalancedForRandomGroups() {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let topics = (0..<Int.random(in: 1...4, using: &random)).map { "t\($0)" }
            let counts = Dictionary(uniqueKeysWithValues: topics.map { ($0, Int32.random(in: 1...12, using: &random)) })
            let members = (0..<Int.random(in: 1...6, using: &random)).map { member("m\($0)", topics) }
            let result = self.assignor.assign(members: members, partitionCounts: counts)
            #expect(validityProblems(result, members: members, counts: counts) == [])
            for topic in topics {
                let perMember = result.values.map { $0.filter { $0.topic == topic }.count }
                #expect(perMember.max()! - perMember.min()! <= 1)
            }
        }
    }
}

@Suite struct RoundRobinAssignorTests {
    let assignor = PartitionAssignor.roundRobin

    @Test func oneConsumerMultipleTopics() {
        let result = self.assignor.assign(
            members: [member("consumer", ["topic1", "topic2"])],
            partitionCounts: ["topic1": 1, "topic2": 2]
        )
        #expect(result == ["consumer": [tp("topic1", 0), tp("topic2", 0), tp("topic2", 1)]])
    }

    @Test func twoConsumersOneTopicTwoPartitions() {
        let result = self.assignor.assign(
            members: [member("consumer1", ["topic"]), member("consumer2", ["topic"])],
            partitionCounts: ["topic": 2]
        )
        #expect(result == ["consumer1": [tp("topic", 0)], "consumer2": [tp("topic", 1)]])
    }

    @Test func multipleConsumersMixedTopics() {
        let result = self.assignor.assign(
            members: [
                member("consumer1", ["topic1"]), member("consumer2", ["topic1", "topic2"]),
                member("consumer3", ["topic1"]),
            ],
            partitionCounts: ["topic1": 3, "topic2": 2]
        )
        #expect(
            result == [
                "consumer1": [tp("topic1", 0)], "consumer2": [tp("topic1", 1), tp("topic2", 0), tp("topic2", 1)],
                "consumer3": [tp("topic1", 2)],
            ]
        )
    }

    @Test func twoDynamicConsumersTwoTopicsSixPartitions() {
        let result = self.assignor.assign(
            members: [member("consumer1", ["topic1", "topic2"]), member("consumer2", ["topic1", "topic2"])],
            partitionCounts: ["topic1": 3, "topic2": 3]
        )
        #expect(
            result == [
                "consumer1": [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1)],
                "consumer2": [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)],
            ]
        )
    }

    @Test func staticConsumersSortByInstanceId() {
        let result = self.assignor.assign(
            members: [
                member("consumer-b", ["topic1", "topic2"], instance: "instance1"),
                member("consumer-a", ["topic1", "topic2"]),
            ],
            partitionCounts: ["topic1": 3, "topic2": 3]
        )
        #expect(result["consumer-b"] == [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1)])
        #expect(result["consumer-a"] == [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)])
    }

    @Test func staticMemberAssignmentPersistsWhenDynamicMemberIsReplaced() {
        let statics = [
            member("consumer1", ["topic1", "topic2"], instance: "instance1"),
            member("consumer2", ["topic1", "topic2"], instance: "instance2"),
            member("consumer3", ["topic1", "topic2"], instance: "instance3"),
        ]
        for dynamic in ["consumer4", "consumer5"] {
            let result = self.assignor.assign(
                members: statics + [member(dynamic, ["topic1", "topic2"])],
                partitionCounts: ["topic1": 3, "topic2": 3]
            )
            #expect(
                result == [
                    "consumer1": [tp("topic1", 0), tp("topic2", 1)], "consumer2": [tp("topic1", 1), tp("topic2", 2)],
                    "consumer3": [tp("topic1", 2)], dynamic: [tp("topic2", 0)],
                ]
            )
        }
    }

    /// The class comment's uneven example: members not subscribed to a topic are skipped.
    @Test func skipsMembersNotSubscribed() {
        let result = self.assignor.assign(
            members: [member("C0", ["t0"]), member("C1", ["t0", "t1"]), member("C2", ["t0", "t1", "t2"])],
            partitionCounts: ["t0": 1, "t1": 2, "t2": 3]
        )
        #expect(
            result == [
                "C0": [tp("t0", 0)], "C1": [tp("t1", 0)], "C2": [tp("t1", 1), tp("t2", 0), tp("t2", 1), tp("t2", 2)],
            ]
        )
    }

    @Test func balancedWhenAllSubscribeToTheSameTopics() {
        var random = SeededGenerator(seed: 11)
        for _ in 0..<200 {
            let topics = (0..<Int.random(in: 1...5, using: &random)).map { "topic-\($0)" }
            let counts = Dictionary(uniqueKeysWithValues: topics.map { ($0, Int32.random(in: 1...10, using: &random)) })
            let members = (0..<Int.random(in: 1...8, using: &random)).map {
                member("member-\($0)", topics.shuffled(using: &random))
            }
            let result = self.assignor.assign(members: members, partitionCounts: counts)
            #expect(validityProblems(result, members: members, counts: counts) == [])
            let sizes = result.values.map(\.count)
            #expect(sizes.max()! - sizes.min()! <= 1)
        }
    }
}
