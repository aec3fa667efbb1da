import NIOCore
import TernClient
import TernWire
import Testing

/// Expected assignments from Kafka's AbstractStickyAssignorTest, StickyAssignorTest and the
/// StickyAssignor class comment. Member lists are given in the order the Java tests put them into
/// their HashMap; Tern orders them as that HashMap would.
@Suite struct StickyAssignorTests {
    let assignor = PartitionAssignor.sticky

    @Test func oneConsumerOneTopic() {
        let result = self.assignor.assign(members: [member("consumer", ["topic"])], partitionCounts: ["topic": 3])
        #expect(result == ["consumer": [tp("topic", 0), tp("topic", 1), tp("topic", 2)]])
    }

    @Test func oneConsumerNonexistentTopic() {
        let result = self.assignor.assign(members: [member("consumer", ["topic"])], partitionCounts: [:])
        #expect(result == ["consumer": []])
    }

    /// General builder (different subscriptions).
    @Test func multipleConsumersMixedTopicSubscriptions() {
        let result = self.assignor.assign(
            members: [
                member("consumer1", ["topic1"]), member("consumer2", ["topic1", "topic2"]),
                member("consumer3", ["topic1"]),
            ],
            partitionCounts: ["topic1": 3, "topic2": 2]
        )
        #expect(
            result.asSets == [
                "consumer1": [tp("topic1", 0), tp("topic1", 2)], "consumer2": [tp("topic2", 0), tp("topic2", 1)],
                "consumer3": [tp("topic1", 1)],
            ]
        )
    }

    @Test func twoConsumersTwoTopicsSixPartitions() {
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

    @Test func consumerOwningMinQuotaExpectedMaxQuota() {
        let topics = ["topic1", "topic2"]
        let result = self.assignor.assign(
            members: [
                stickyMember("consumer1", topics, owned: [tp("topic1", 0), tp("topic2", 1)]),
                stickyMember("consumer2", topics, owned: [tp("topic1", 1), tp("topic2", 2)]),
            ],
            partitionCounts: ["topic1": 2, "topic2": 3]
        )
        #expect(
            result.asSets == [
                "consumer1": [tp("topic1", 0), tp("topic2", 1), tp("topic2", 0)],
                "consumer2": [tp("topic1", 1), tp("topic2", 2)],
            ]
        )
    }

    /// Two members own maxQuota but only one may keep it: Java's HashMap visits consumer2 before
    /// consumer1, so consumer2 keeps both. This is the case that needs the HashMap order.
    @Test func maxQuotaConsumersMoreThanExpected() {
        let topics = ["topic1", "topic2"]
        let members = [
            stickyMember("consumer1", topics, owned: [tp("topic1", 0), tp("topic2", 0)]),
            stickyMember("consumer2", topics, owned: [tp("topic1", 1), tp("topic2", 1)]),
            stickyMember("consumer3", topics, owned: []),
        ]
        let expected: [String: [TopicPartition]] = [
            "consumer1": [tp("topic1", 0)], "consumer2": [tp("topic1", 1), tp("topic2", 1)],
            "consumer3": [tp("topic2", 0)],
        ]
        // The JoinGroup order does not matter here: the two ids fall in different buckets.
        for order in [members, members.reversed()] {
            #expect(self.assignor.assign(members: order, partitionCounts: ["topic1": 2, "topic2": 2]) == expected)
        }
    }

    @Test func allConsumersAreUnderMinQuota() {
        let topics = ["topic1", "topic2"]
        let result = self.assignor.assign(
            members: [
                stickyMember("consumer1", topics, owned: [tp("topic1", 0)]),
                stickyMember("consumer2", topics, owned: [tp("topic1", 1)]),
                stickyMember("consumer3", topics, owned: []),
            ],
            partitionCounts: ["topic1": 2, "topic2": 3]
        )
        #expect(
            result.asSets == [
                "consumer1": [tp("topic1", 0), tp("topic2", 1)], "consumer2": [tp("topic1", 1), tp("topic2", 2)],
                "consumer3": [tp("topic2", 0)],
            ]
        )
    }

    @Test func addRemoveTwoConsumersTwoTopics() {
        let topics = ["topic1", "topic2"]
        let counts: [String: Int32] = ["topic1": 3, "topic2": 4]
        let first = self.assignor.assign(
            members: [member("consumer1", topics), member("consumer2", topics)],
            partitionCounts: counts
        )
        #expect(
            first == [
                "consumer1": [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1), tp("topic2", 3)],
                "consumer2": [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)],
            ]
        )

        let second = self.assignor.assign(
            members: [
                stickyMember("consumer1", topics, owned: first["consumer1"]!),
                stickyMember("consumer2", topics, owned: first["consumer2"]!),
                stickyMember("consumer3", topics, owned: []), stickyMember("consumer4", topics, owned: []),
            ],
            partitionCounts: counts
        )
        #expect(
            second.asSets == [
                "consumer1": [tp("topic1", 0), tp("topic2", 1)], "consumer2": [tp("topic2", 0), tp("topic1", 1)],
                "consumer3": [tp("topic1", 2), tp("topic2", 3)], "consumer4": [tp("topic2", 2)],
            ]
        )

        let third = self.assignor.assign(
            members: [
                stickyMember("consumer3", topics, owned: second["consumer3"]!),
                stickyMember("consumer4", topics, owned: second["consumer4"]!),
            ],
            partitionCounts: counts
        )
        #expect(
            third.asSets == [
                "consumer3": [tp("topic1", 2), tp("topic2", 3), tp("topic1", 0), tp("topic2", 1)],
                "consumer4": [tp("topic2", 2), tp("topic1", 1), tp("topic2", 0)],
            ]
        )
    }

    /// Partitions claimed by two members of the same generation are taken from both.
    @Test(arguments: [Int32(3), 4])
    func doublyClaimedPartitionsAreInvalidated(partitions: Int32) {
        let result = self.assignor.assign(
            members: [
                stickyMember("consumer1", ["topic"], owned: [tp("topic", 0), tp("topic", 1)]),
                stickyMember("consumer2", ["topic"], owned: [tp("topic", 0), tp("topic", 2)]),
                stickyMember("consumer3", ["topic"], owned: []),
            ],
            partitionCounts: ["topic": partitions]
        )
        let expected: [String: Set<TopicPartition>] = [
            "consumer1": partitions == 3 ? [tp("topic", 1)] : [tp("topic", 1), tp("topic", 3)],
            "consumer2": [tp("topic", 2)], "consumer3": [tp("topic", 0)],
        ]
        #expect(result.asSets == expected)
    }

    /// A claim from an older generation loses to a newer one.
    @Test func higherGenerationKeepsAConflictingPartition() {
        let result = self.assignor.assign(
            members: [
                stickyMember("consumer1", ["topic"], owned: [tp("topic", 0), tp("topic", 1)], generation: 1),
                stickyMember("consumer2", ["topic"], owned: [tp("topic", 0), tp("topic", 2)], generation: 2),
                stickyMember("consumer3", ["topic"], owned: [], generation: 2),
            ],
            partitionCounts: ["topic": 3]
        )
        #expect(
            result.asSets == [
                "consumer1": [tp("topic", 1)], "consumer2": [tp("topic", 0)], "consumer3": [tp("topic", 2)],
            ]
        )
    }

    @Test func oldVersionSubscriptions() {
        // v0 user data (no generation) and a v0 subscription still count as previous ownership.
        var v0 = ByteBuffer()
        v0.writeKafkaArray(["topic1"]) { buffer, topic in
            buffer.writeKafkaString(topic)
            buffer.writeKafkaArray([Int32(0)]) { $0.writeInteger($1) }
        }
        let result = self.assignor.assign(
            members: [
                AssignorMember(
                    memberId: "consumer1",
                    subscription: ConsumerProtocolSubscription(topics: ["topic1"], userData: v0)
                ),
                stickyMember("consumer2", ["topic1"], owned: [tp("topic1", 1)]),
                stickyMember("consumer3", ["topic1"], owned: []),
            ],
            partitionCounts: ["topic1": 3]
        )
        #expect(
            result == ["consumer1": [tp("topic1", 0)], "consumer2": [tp("topic1", 1)], "consumer3": [tp("topic1", 2)]]
        )
    }

    /// Example 1 of the StickyAssignor class comment: after C1 leaves, C0 and C2 keep everything.
    /// (The comment predates the builder for equal subscriptions, which deals C1's two partitions
    /// round robin to the sorted members: t0-1 to C0, t2-0 to C2; the comment has them swapped.)
    @Test func classCommentExampleOne() {
        let topics = ["t0", "t1", "t2", "t3"]
        let counts: [String: Int32] = ["t0": 2, "t1": 2, "t2": 2, "t3": 2]
        let first = self.assignor.assign(
            members: ["C0", "C1", "C2"].map { member($0, topics) },
            partitionCounts: counts
        )
        #expect(
            first == [
                "C0": [tp("t0", 0), tp("t1", 1), tp("t3", 0)], "C1": [tp("t0", 1), tp("t2", 0), tp("t3", 1)],
                "C2": [tp("t1", 0), tp("t2", 1)],
            ]
        )
        let second = self.assignor.assign(
            members: ["C0", "C2"].map { stickyMember($0, topics, owned: first[$0]!) },
            partitionCounts: counts
        )
        #expect(
            second.asSets == [
                "C0": [tp("t0", 0), tp("t1", 1), tp("t3", 0), tp("t0", 1)],
                "C2": [tp("t1", 0), tp("t2", 1), tp("t2", 0), tp("t3", 1)],
            ]
        )
    }

    /// Example 2 of the class comment (general builder): balanced where round robin is not, and
    /// C1 and C2 keep their partitions when C0 leaves.
    @Test func classCommentExampleTwo() {
        let counts: [String: Int32] = ["t0": 1, "t1": 2, "t2": 3]
        let subscriptions = ["C0": ["t0"], "C1": ["t0", "t1"], "C2": ["t0", "t1", "t2"]]
        let first = self.assignor.assign(
            members: ["C0", "C1", "C2"].map { member($0, subscriptions[$0]!) },
            partitionCounts: counts
        )
        #expect(
            first.asSets == [
                "C0": [tp("t0", 0)], "C1": [tp("t1", 0), tp("t1", 1)], "C2": [tp("t2", 0), tp("t2", 1), tp("t2", 2)],
            ]
        )
        let second = self.assignor.assign(
            members: ["C1", "C2"].map { stickyMember($0, subscriptions[$0]!, owned: first[$0]!) },
            partitionCounts: counts
        )
        #expect(
            second.asSets == [
                "C1": [tp("t1", 0), tp("t1", 1), tp("t0", 0)], "C2": [tp("t2", 0), tp("t2", 1), tp("t2", 2)],
            ]
        )
    }

    /// A topic that no longer exists is dropped from the previous assignment.
    @Test func assignmentUpdatedForDeletedTopic() {
        let result = self.assignor.assign(
            members: [member("consumer", ["topic1", "topic2", "topic3"])],
            partitionCounts: ["topic1": 1, "topic3": 100]
        )
        #expect(result["consumer"]!.count == 101)
        #expect(!result["consumer"]!.contains { $0.topic == "topic2" })
    }

    /// Same topics for everyone: always balanced within one, and when a member leaves the others
    /// keep all they had, so only the leaver's partitions move.
    @Test func memberLeavingMovesOnlyItsPartitions() {
        var random = SeededGenerator(seed: 42)
        for round in 0..<150 {
            let topics = (0..<Int.random(in: 1...4, using: &random)).map { "topic\($0)" }
            let counts = Dictionary(uniqueKeysWithValues: topics.map { ($0, Int32.random(in: 1...16, using: &random)) })
            let ids = (0..<Int.random(in: 2...8, using: &random)).map { "consumer-\(round)-\($0)" }
            let first = self.assignor.assign(members: ids.map { member($0, topics) }, partitionCounts: counts)
            let fresh = ids.map { member($0, topics) }
            #expect(validityProblems(first, members: fresh, counts: counts) == [])
            #expect(first.values.map(\.count).max()! - first.values.map(\.count).min()! <= 1)

            let leaver = ids.randomElement(using: &random)!
            let stayers = ids.filter { $0 != leaver }.shuffled(using: &random)
            let members = stayers.map { stickyMember($0, topics, owned: first[$0]!) }
            let second = self.assignor.assign(members: members, partitionCounts: counts)
            #expect(validityProblems(second, members: members, counts: counts) == [])
            let sizes = second.values.map(\.count)
            #expect(sizes.max()! - sizes.min()! <= 1)
            for id in stayers {
                #expect(Set(second[id]!).isSuperset(of: first[id]!), "round \(round): \(id) lost partitions")
            }
        }
    }

    /// Different subscriptions (general builder): valid, balanced by Java's rule, and after a
    /// member leaves every partition that is not the leaver's stays put when balance allows it.
    @Test func randomSubscriptionsStayValidAndBalanced() {
        var random = SeededGenerator(seed: 1234)
        for round in 0..<100 {
            let topics = (0..<Int.random(in: 2...6, using: &random)).map { "t\($0)" }
            let counts = Dictionary(uniqueKeysWithValues: topics.map { ($0, Int32.random(in: 1...8, using: &random)) })
            let subscriptions = (0..<Int.random(in: 2...7, using: &random)).map { index in
                (
                    "m\(round)-\(index)",
                    Array(topics.shuffled(using: &random).prefix(Int.random(in: 1...topics.count, using: &random)))
                )
            }
            let fresh = subscriptions.map { member($0.0, $0.1) }
            let first = self.assignor.assign(members: fresh, partitionCounts: counts)
            #expect(validityProblems(first, members: fresh, counts: counts) == [], "round \(round)")
            #expect(balanceProblems(first, members: fresh) == [], "round \(round)")

            let stayers = subscriptions.dropFirst()
            let members = stayers.map { stickyMember($0.0, $0.1, owned: first[$0.0]!) }
            let second = self.assignor.assign(members: members, partitionCounts: counts)
            #expect(validityProblems(second, members: members, counts: counts) == [], "round \(round)")
            #expect(balanceProblems(second, members: members) == [], "round \(round)")
        }
    }

    @Test func subscriptionCarriesThePreviousAssignment() throws {
        let none = self.assignor.subscription(topics: ["a"], currentAssignment: [], generation: -1)
        #expect(none.userData == nil)
        #expect(none.generationId == -1)

        let subscription = self.assignor.subscription(
            topics: ["a", "b"],
            currentAssignment: [tp("b", 2), tp("a", 1), tp("b", 0)],
            generation: 7
        )
        #expect(subscription.topics == ["a", "b"])
        #expect(subscription.ownedPartitions == [])
        #expect(subscription.generationId == 7)
        // Through the wire and back, another leader sees the same previous assignment.
        let decoded = try ConsumerProtocolSubscription.decode(from: subscription.encode(version: 3))
        #expect(decoded.userData == subscription.userData)

        #expect(
            PartitionAssignor.range.subscription(topics: ["a"], currentAssignment: [tp("a", 0)], generation: 3).userData
                == nil
        )
    }

    static func name(_ prefix: String, _ index: Int, _ max: Int) -> String {
        prefix + String(repeating: "0", count: String(max).count - String(index).count) + String(index)
    }

    /// Java's testReassignmentAfterOneConsumerLeaves: consumer i subscribes to topics 1…i, topic i
    /// has i partitions (general builder); after c10 leaves, the result is valid and balanced and
    /// every remaining member keeps what it had, since only c10's partitions need a new owner here.
    @Test func reassignmentAfterOneConsumerLeaves() {
        var counts: [String: Int32] = [:]
        for i in 1..<20 { counts[Self.name("t", i, 20)] = Int32(i) }
        let subscriptions = (1..<20).map { i in (Self.name("c", i, 20), (1...i).map { Self.name("t", $0, 20) }) }
        let fresh = subscriptions.map { member($0.0, $0.1) }
        let first = self.assignor.assign(members: fresh, partitionCounts: counts)
        #expect(validityProblems(first, members: fresh, counts: counts) == [])
        #expect(balanceProblems(first, members: fresh) == [])

        let members = subscriptions.filter { $0.0 != "c10" }.map { stickyMember($0.0, $0.1, owned: first[$0.0]!) }
        let second = self.assignor.assign(members: members, partitionCounts: counts)
        #expect(validityProblems(second, members: members, counts: counts) == [])
        #expect(balanceProblems(second, members: members) == [])
        let moved = members.reduce(0) { $0 + Set(first[$1.memberId]!).subtracting(second[$1.memberId]!).count }
        #expect(moved == 0)
    }

    /// Java's testSameSubscriptions: 8 consumers on 14 topics of 1…14 partitions; one leaves.
    @Test func sameSubscriptionsMemberLeaves() {
        var counts: [String: Int32] = [:]
        for i in 1..<15 { counts[Self.name("t", i, 15)] = Int32(i) }
        let topics = counts.keys.sorted()
        let ids = (1..<9).map { Self.name("c", $0, 9) }
        let first = self.assignor.assign(members: ids.map { member($0, topics) }, partitionCounts: counts)
        let sizes = first.values.map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1)

        let members = ids.filter { $0 != "c5" }.map { stickyMember($0, topics, owned: first[$0]!) }
        let second = self.assignor.assign(members: members, partitionCounts: counts)
        #expect(validityProblems(second, members: members, counts: counts) == [])
        #expect(second.values.map(\.count).max()! - second.values.map(\.count).min()! <= 1)
        for member in members { #expect(Set(second[member.memberId]!).isSuperset(of: first[member.memberId]!)) }
    }

    /// Java's testStickiness: four consumers, three partitions; the one that leaves hands its
    /// partition on and the others keep theirs.
    @Test func stickinessWhenAConsumerLeaves() {
        let ids = ["consumer1", "consumer2", "consumer3", "consumer4"]
        let first = self.assignor.assign(members: ids.map { member($0, ["topic1"]) }, partitionCounts: ["topic1": 3])
        #expect(first.values.allSatisfy { $0.count <= 1 })
        let members = ids.dropFirst().map { stickyMember($0, ["topic1"], owned: first[$0]!) }
        let second = self.assignor.assign(members: members, partitionCounts: ["topic1": 3])
        for id in ids.dropFirst() {
            #expect(second[id]!.count == 1)
            #expect(Set(second[id]!).isSuperset(of: first[id]!))
        }
    }

    /// Java's testMoveExistingAssignments: previous owners that are now unbalanced (general builder).
    @Test func moveExistingAssignments() {
        var counts: [String: Int32] = [:]
        for i in 1...6 { counts["topic\(i)"] = 1 }
        let members = [
            stickyMember("consumer1", ["topic1", "topic2"], owned: [tp("topic1", 0)]),
            stickyMember(
                "consumer2",
                ["topic1", "topic2", "topic3", "topic4"],
                owned: [tp("topic2", 0), tp("topic3", 0)]
            ),
            stickyMember(
                "consumer3",
                ["topic2", "topic3", "topic4", "topic5", "topic6"],
                owned: [tp("topic4", 0), tp("topic5", 0), tp("topic6", 0)]
            ),
        ]
        let result = self.assignor.assign(members: members, partitionCounts: counts)
        #expect(validityProblems(result, members: members, counts: counts) == [])
        #expect(balanceProblems(result, members: members) == [])
    }
}
