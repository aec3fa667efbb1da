import NIOCore
import TernWire

/// Java's eager `StickyAssignor` (`AbstractStickyAssignor` without racks).
///
/// Each member's previous partitions and generation come from its user data. Partitions claimed by
/// two members go to the higher generation, or to neither when the generations are equal. Then:
///
/// - all members subscribed to the same topics: the "constrained" builder. Members keep up to their
///   quota of owned partitions (the first `total % members` members, in Java's hash-map order of
///   member ids, may keep one more), and the rest are dealt round robin to the sorted members still
///   under quota;
/// - otherwise the "general" builder: keep every valid owned partition, give each unassigned one
///   to the least loaded eligible member, then move partitions from the most to the least loaded
///   until balanced, preferring to move a partition back to its owner of an earlier generation and
///   keeping only reassignments that improve the balance score.
///
/// Differences from Java, all outside what a rebalance normally sees: the highest generation seen is
/// recomputed on every call (a Java assignor instance remembers it across calls), and input Java
/// would crash on (a previous owner that is no longer eligible) is skipped instead.
enum StickyAssignor {
    static let defaultGeneration: Int32 = -1

    struct MemberData {
        var partitions: [TopicPartition]
        var generation: Int32?
    }

    static func memberData(_ member: AssignorMember) -> MemberData {
        guard let userData = member.subscription.userData, userData.readableBytes > 0 else {
            return MemberData(partitions: [], generation: nil)
        }
        guard let decoded = StickyAssignorUserData.decode(userData) else {
            return MemberData(partitions: [], generation: Self.defaultGeneration)
        }
        return MemberData(partitions: decoded.partitions, generation: decoded.generation)
    }

    static func assign(members: [AssignorMember], partitionCounts: [String: Int32]) -> [String: [TopicPartition]] {
        guard !members.isEmpty else { return [:] }
        // The Java leader's `subscriptions` is a HashMap filled in JoinGroup order.
        let order = JavaHashOrder.order(of: members.map(\.memberId))
        let byId = Dictionary(uniqueKeysWithValues: members.map { ($0.memberId, $0) })
        let inJavaOrder = order.map { byId[$0]! }
        let data = Dictionary(uniqueKeysWithValues: inJavaOrder.map { ($0.memberId, Self.memberData($0)) })

        var owned = OwnedPartitions(members: inJavaOrder, data: data, topics: Set(partitionCounts.keys))
        if owned.allSubscriptionsEqual {
            var builder = ConstrainedBuilder(
                partitionCounts: partitionCounts,
                memberOrder: order,
                owned: owned.byMember,
                multipleOwners: owned.multipleOwners
            )
            return builder.build()
        }
        owned.multipleOwners = []
        var builder = GeneralBuilder(
            partitionCounts: partitionCounts,
            members: inJavaOrder,
            data: data,
            owned: owned.byMember,
            maxGeneration: owned.maxGeneration
        )
        return builder.build()
    }

    /// `allSubscriptionsEqual`: each member's still-valid previous partitions, with conflicts resolved.
    struct OwnedPartitions {
        var allSubscriptionsEqual = true
        var byMember: [String: [TopicPartition]] = [:]
        var multipleOwners: Set<TopicPartition> = []
        var maxGeneration = StickyAssignor.defaultGeneration

        init(members: [AssignorMember], data: [String: MemberData], topics: Set<String>) {
            var subscribedTopics: Set<String> = []
            var previousOwner: [TopicPartition: String] = [:]
            let subscriptionGeneration = Dictionary(
                uniqueKeysWithValues: members.map { ($0.memberId, max($0.subscription.generationId, -1)) }
            )
            for member in members {
                let topicsList = member.subscription.topics
                if subscribedTopics.isEmpty {
                    subscribedTopics.formUnion(topicsList)
                } else if self.allSubscriptionsEqual
                    && !(topicsList.count == subscribedTopics.count && subscribedTopics.isSuperset(of: topicsList))
                {
                    self.allSubscriptionsEqual = false
                }

                let memberData = data[member.memberId]!
                let generation = memberData.generation ?? StickyAssignor.defaultGeneration
                self.maxGeneration = max(self.maxGeneration, generation)
                let consumer = member.memberId
                self.byMember[consumer] = []
                for tp in memberData.partitions where topics.contains(tp.topic) {
                    guard let other = previousOwner[tp] else {
                        self.byMember[consumer]!.append(tp)
                        previousOwner[tp] = consumer
                        continue
                    }
                    // Java compares with the other member's subscription generation here, not the
                    // generation in its user data.
                    let otherGeneration = subscriptionGeneration[other]!
                    if generation == otherGeneration {
                        self.multipleOwners.insert(tp)
                        self.byMember[other]!.removeFirst(tp)
                        previousOwner[tp] = consumer
                    } else if generation > otherGeneration {
                        self.byMember[consumer]!.append(tp)
                        self.byMember[other]!.removeFirst(tp)
                        previousOwner[tp] = consumer
                    }
                }
            }
        }
    }
}

extension Array where Element: Equatable {
    /// `List.remove(Object)`.
    fileprivate mutating func removeFirst(_ element: Element) {
        if let index = self.firstIndex(of: element) { self.remove(at: index) }
    }
}

// MARK: - Constrained builder (all members subscribe to the same topics)

extension StickyAssignor {
    struct ConstrainedBuilder {
        let partitionCounts: [String: Int32]
        let memberOrder: [String]
        let owned: [String: [TopicPartition]]
        let multipleOwners: Set<TopicPartition>

        var assignment: [String: [TopicPartition]] = [:]
        var assignedPartitions: [TopicPartition] = []
        var underMinQuota: [String] = []
        var exactlyMinQuota: [String] = []
        let minQuota: Int
        let maxQuota: Int
        let expectedOverMinQuota: Int
        var currentOverMinQuota = 0

        init(
            partitionCounts: [String: Int32],
            memberOrder: [String],
            owned: [String: [TopicPartition]],
            multipleOwners: Set<TopicPartition>
        ) {
            self.partitionCounts = partitionCounts
            self.memberOrder = memberOrder
            self.owned = owned
            self.multipleOwners = multipleOwners
            let total = partitionCounts.values.reduce(0) { $0 + Int($1) }
            let members = memberOrder.count
            self.minQuota = total / members
            self.maxQuota = (total + members - 1) / members
            self.expectedOverMinQuota = total % members
            for member in memberOrder { self.assignment[member] = [] }
        }

        mutating func build() -> [String: [TopicPartition]] {
            self.assignOwnedPartitions()
            let unassigned = self.unassignedPartitions()
            self.underMinQuota.sort(by: JavaOrder.precedes)
            self.exactlyMinQuota.sort(by: JavaOrder.precedes)
            self.assignRoundRobin(unassigned)
            return self.assignment
        }

        private mutating func assignOwnedPartitions() {
            for consumer in self.memberOrder {
                var ownedPartitions = self.owned[consumer]!.sorted { a, b in
                    a.partition != b.partition ? a.partition < b.partition : JavaOrder.precedes(a.topic, b.topic)
                }
                ownedPartitions.removeAll { self.multipleOwners.contains($0) }

                if ownedPartitions.count < self.minQuota {
                    self.assignment[consumer]!.append(contentsOf: ownedPartitions)
                    self.assignedPartitions.append(contentsOf: ownedPartitions)
                    self.underMinQuota.append(consumer)
                } else if ownedPartitions.count >= self.maxQuota && self.currentOverMinQuota < self.expectedOverMinQuota
                {
                    self.currentOverMinQuota += 1
                    if self.currentOverMinQuota == self.expectedOverMinQuota { self.exactlyMinQuota.removeAll() }
                    let kept = ownedPartitions.prefix(self.maxQuota)
                    self.assignment[consumer]!.append(contentsOf: kept)
                    self.assignedPartitions.append(contentsOf: kept)
                } else {
                    let kept = ownedPartitions.prefix(self.minQuota)
                    self.assignment[consumer]!.append(contentsOf: kept)
                    self.assignedPartitions.append(contentsOf: kept)
                    if self.currentOverMinQuota < self.expectedOverMinQuota { self.exactlyMinQuota.append(consumer) }
                }
            }
        }

        /// All partitions sorted by topic then partition, minus those kept above.
        private func unassignedPartitions() -> [TopicPartition] {
            let assigned = Set(self.assignedPartitions)
            var unassigned: [TopicPartition] = []
            for topic in self.partitionCounts.keys.sorted(by: JavaOrder.precedes) {
                for partition in 0..<self.partitionCounts[topic]! {
                    let tp = TopicPartition(topic: topic, partition: partition)
                    if !assigned.contains(tp) { unassigned.append(tp) }
                }
            }
            return unassigned
        }

        /// Deals the rest to members under quota (cycling over the sorted list, dropping each member
        /// when it reaches minQuota), then one more each to members at exactly minQuota.
        private mutating func assignRoundRobin(_ unassigned: [TopicPartition]) {
            var cursor = 0  // Java's iterator over underMinQuota: the index of its next element
            for partition in unassigned {
                let consumer: String
                var fromUnder = true
                if cursor < self.underMinQuota.count {
                    consumer = self.underMinQuota[cursor]
                    cursor += 1
                } else if self.underMinQuota.isEmpty {
                    // Java throws when both lists are empty; the quotas make that unreachable.
                    guard !self.exactlyMinQuota.isEmpty else {
                        assertionFailure("sticky assignor: no member left under quota")
                        return
                    }
                    consumer = self.exactlyMinQuota.removeFirst()
                    fromUnder = false
                } else {
                    cursor = 0
                    consumer = self.underMinQuota[cursor]
                    cursor += 1
                }

                self.assignment[consumer]!.append(partition)
                let count = self.assignment[consumer]!.count
                if count == self.minQuota {
                    // Java removes through the iterator, which is only valid for members taken from
                    // the under-quota list; a member taken from the other list cannot be at minQuota.
                    if fromUnder {
                        cursor -= 1
                        self.underMinQuota.remove(at: cursor)
                    }
                    self.exactlyMinQuota.append(consumer)
                } else if count == self.maxQuota {
                    self.currentOverMinQuota += 1
                }
            }
        }
    }
}

// MARK: - General builder (subscriptions differ)

extension StickyAssignor {
    struct GeneralBuilder {
        let partitionCounts: [String: Int32]
        let totalPartitions: Int
        var topicConsumers: [String: [String]] = [:]
        var consumerTopics: [String: [String]] = [:]
        var currentAssignment: [String: [TopicPartition]]
        var partitionConsumer: [TopicPartition: String] = [:]
        var sortedAllPartitions: [TopicPartition] = []
        /// Java's `sortedCurrentSubscriptions` TreeSet: members by assignment size, then id. A member
        /// is taken out before its size changes and put back after, as Java does.
        var sortedConsumers: [String] = []
        var revocationRequired = false
        var movements = PartitionMovements()
        let members: [AssignorMember]
        let data: [String: MemberData]
        let maxGeneration: Int32

        init(
            partitionCounts: [String: Int32],
            members: [AssignorMember],
            data: [String: MemberData],
            owned: [String: [TopicPartition]],
            maxGeneration: Int32
        ) {
            self.partitionCounts = partitionCounts
            self.totalPartitions = partitionCounts.values.reduce(0) { $0 + Int($1) }
            self.members = members
            self.data = data
            self.maxGeneration = maxGeneration
            self.currentAssignment = owned
            for topic in partitionCounts.keys { self.topicConsumers[topic] = [] }
            for member in members {
                let topics = member.subscription.topics.filter { partitionCounts[$0] != nil }
                self.consumerTopics[member.memberId] = topics
                for topic in topics { self.topicConsumers[topic]!.append(member.memberId) }
                if self.currentAssignment[member.memberId] == nil { self.currentAssignment[member.memberId] = [] }
            }
            for (consumer, partitions) in self.currentAssignment {
                for tp in partitions { self.partitionConsumer[tp] = consumer }
            }
            let topicConsumers = self.topicConsumers
            let sortedTopics = partitionCounts.keys.sorted { a, b in
                let (countA, countB) = (topicConsumers[a]!.count, topicConsumers[b]!.count)
                return countA != countB ? countA < countB : JavaOrder.precedes(a, b)
            }
            for topic in sortedTopics {
                for partition in 0..<partitionCounts[topic]! {
                    self.sortedAllPartitions.append(TopicPartition(topic: topic, partition: partition))
                }
            }
        }

        mutating func build() -> [String: [TopicPartition]] {
            let previous = self.previousAssignment()
            let assigned = Set(self.assignOwnedPartitions())
            var unassigned = self.sortedAllPartitions.filter { !assigned.contains($0) }
            for consumer in self.currentAssignment.keys { self.insertSorted(consumer) }
            self.balance(previous: previous, unassigned: &unassigned)
            return self.currentAssignment
        }

        // MARK: Sorted members

        private func precedes(_ a: String, _ b: String) -> Bool {
            let (countA, countB) = (self.currentAssignment[a]?.count ?? 0, self.currentAssignment[b]?.count ?? 0)
            return countA != countB ? countA < countB : JavaOrder.precedes(a, b)
        }

        private mutating func insertSorted(_ consumer: String) {
            guard !self.sortedConsumers.contains(consumer) else { return }
            var low = 0
            var high = self.sortedConsumers.count
            while low < high {
                let mid = (low + high) / 2
                if self.precedes(self.sortedConsumers[mid], consumer) { low = mid + 1 } else { high = mid }
            }
            self.sortedConsumers.insert(consumer, at: low)
        }

        private mutating func removeSorted(_ consumer: String) {
            if let index = self.sortedConsumers.firstIndex(of: consumer) { self.sortedConsumers.remove(at: index) }
        }

        // MARK: Steps

        /// `prepopulateCurrentAssignments`: for each partition, the owner of the latest generation
        /// older than the newest one, so a partition can move back to it.
        private func previousAssignment() -> [TopicPartition: (consumer: String, generation: Int32)] {
            var previous: [TopicPartition: (consumer: String, generation: Int32)] = [:]
            func update(_ partitions: [TopicPartition], _ consumer: String, _ generation: Int32) {
                for tp in partitions {
                    if let existing = previous[tp], generation <= existing.generation { continue }
                    previous[tp] = (consumer, generation)
                }
            }
            for member in self.members {
                let memberData = self.data[member.memberId]!
                if let generation = memberData.generation {
                    if generation < self.maxGeneration { update(memberData.partitions, member.memberId, generation) }
                } else if self.maxGeneration > StickyAssignor.defaultGeneration {
                    update(memberData.partitions, member.memberId, StickyAssignor.defaultGeneration)
                }
            }
            return previous
        }

        /// Keeps owned partitions of topics the owner still subscribes to.
        private mutating func assignOwnedPartitions() -> [TopicPartition] {
            var assigned: [TopicPartition] = []
            let subscriptions = Dictionary(
                uniqueKeysWithValues: self.members.map { ($0.memberId, $0.subscription.topics) }
            )
            for consumer in self.currentAssignment.keys {
                let topics = subscriptions[consumer]!
                var kept: [TopicPartition] = []
                for tp in self.currentAssignment[consumer]! {
                    if self.topicConsumers[tp.topic] == nil {
                        self.partitionConsumer[tp] = nil
                    } else if !topics.contains(tp.topic) {
                        self.revocationRequired = true
                    } else {
                        kept.append(tp)
                        assigned.append(tp)
                    }
                }
                self.currentAssignment[consumer] = kept
            }
            return assigned
        }

        private func maxAssignmentSize(_ consumer: String) -> Int {
            let topics = self.consumerTopics[consumer]!
            if topics.count == self.partitionCounts.count { return self.totalPartitions }
            return topics.reduce(0) { $0 + Int(self.partitionCounts[$1]!) }
        }

        private func isBalanced() -> Bool {
            guard let first = self.sortedConsumers.first, let last = self.sortedConsumers.last else { return true }
            let minimum = self.currentAssignment[first]!.count
            let maximum = self.currentAssignment[last]!.count
            if minimum >= maximum - 1 { return true }

            var owner: [TopicPartition: String] = [:]
            for (consumer, partitions) in self.currentAssignment {
                for tp in partitions { owner[tp] = consumer }
            }
            for consumer in self.sortedConsumers {
                let count = self.currentAssignment[consumer]!.count
                if count == self.maxAssignmentSize(consumer) { continue }
                let partitions = Set(self.currentAssignment[consumer]!)
                for topic in self.consumerTopics[consumer]! {
                    for partition in 0..<self.partitionCounts[topic]! {
                        let tp = TopicPartition(topic: topic, partition: partition)
                        guard !partitions.contains(tp), let other = owner[tp],
                            let otherCount = self.currentAssignment[other]?.count
                        else { continue }
                        if count + 1 < otherCount { return false }
                    }
                }
            }
            return true
        }

        private static func balanceScore(_ assignment: [String: [TopicPartition]]) -> Int {
            let sizes = assignment.values.map(\.count)
            var score = 0
            for i in sizes.indices {
                for j in sizes.indices where j > i { score += abs(sizes[i] - sizes[j]) }
            }
            return score
        }

        private func canTopicParticipate(_ topic: String) -> Bool {
            self.topicConsumers[topic]!.count >= 2
        }

        private func canConsumerParticipate(_ consumer: String) -> Bool {
            let partitions = self.currentAssignment[consumer]!
            if partitions.count < self.maxAssignmentSize(consumer) { return true }
            return partitions.contains { self.canTopicParticipate($0.topic) }
        }

        private mutating func balance(
            previous: [TopicPartition: (consumer: String, generation: Int32)],
            unassigned: inout [TopicPartition]
        ) {
            let initializing = self.sortedConsumers.last.map { self.currentAssignment[$0]!.isEmpty } ?? true

            for partition in unassigned where !self.topicConsumers[partition.topic]!.isEmpty {
                // The least loaded member subscribed to the topic.
                guard
                    let consumer = self.sortedConsumers.first(where: {
                        self.consumerTopics[$0]!.contains(partition.topic)
                    })
                else { continue }
                self.removeSorted(consumer)
                self.currentAssignment[consumer]!.append(partition)
                self.partitionConsumer[partition] = consumer
                self.insertSorted(consumer)
            }

            // Only topics with two or more eligible members, and members that hold one of those or
            // do not yet have everything they could, take part in the reassignment.
            let topicConsumers = self.topicConsumers
            self.sortedAllPartitions.removeAll { topicConsumers[$0.topic]!.count < 2 }
            unassigned.removeAll { topicConsumers[$0.topic]!.count < 2 }
            var fixed: [String: [TopicPartition]] = [:]
            for consumer in self.consumerTopics.keys where !self.canConsumerParticipate(consumer) {
                self.removeSorted(consumer)
                fixed[consumer] = self.currentAssignment.removeValue(forKey: consumer)
            }

            let before = self.currentAssignment
            let beforeOwners = self.partitionConsumer

            if !self.revocationRequired {
                _ = self.performReassignments(unassigned, previous: previous)
            }
            let reassigned = self.performReassignments(self.sortedAllPartitions, previous: previous)

            if !initializing && reassigned
                && Self.balanceScore(self.currentAssignment) >= Self.balanceScore(before)
            {
                self.currentAssignment = before
                self.partitionConsumer = beforeOwners
            }
            for (consumer, partitions) in fixed {
                self.currentAssignment[consumer] = partitions
                self.insertSorted(consumer)
            }
        }

        private mutating func performReassignments(
            _ partitions: [TopicPartition],
            previous: [TopicPartition: (consumer: String, generation: Int32)]
        ) -> Bool {
            var performed = false
            var modified: Bool
            repeat {
                modified = false
                var index = 0
                while index < partitions.count && !self.isBalanced() {
                    let partition = partitions[index]
                    index += 1
                    guard let consumer = self.partitionConsumer[partition],
                        let consumerCount = self.currentAssignment[consumer]?.count
                    else { continue }

                    if let previousOwner = previous[partition],
                        let previousCount = self.currentAssignment[previousOwner.consumer]?.count,
                        consumerCount > previousCount + 1
                    {
                        self.reassign(partition, to: previousOwner.consumer)
                        performed = true
                        modified = true
                        continue
                    }

                    let better = self.topicConsumers[partition.topic]!.contains { other in
                        guard let otherCount = self.currentAssignment[other]?.count else { return false }
                        return consumerCount > otherCount + 1
                    }
                    if better,
                        let newConsumer = self.sortedConsumers.first(where: {
                            self.consumerTopics[$0]!.contains(partition.topic)
                        })
                    {
                        self.reassign(partition, to: newConsumer)
                        performed = true
                        modified = true
                    }
                }
            } while modified
            return performed
        }

        private mutating func reassign(_ partition: TopicPartition, to newConsumer: String) {
            let consumer = self.partitionConsumer[partition]!
            // Undo an earlier move of the same topic between the two members rather than add a new one.
            let toMove = self.movements.partitionToMove(partition, from: consumer, to: newConsumer)
            let oldConsumer = self.partitionConsumer[toMove]!
            self.removeSorted(oldConsumer)
            self.removeSorted(newConsumer)
            self.movements.move(toMove, from: oldConsumer, to: newConsumer)
            self.currentAssignment[oldConsumer]!.removeFirst(toMove)
            self.currentAssignment[newConsumer]!.append(toMove)
            self.partitionConsumer[toMove] = newConsumer
            self.insertSorted(newConsumer)
            self.insertSorted(oldConsumer)
        }
    }

    /// Java's `PartitionMovements`: where each moved partition came from, by topic and member pair.
    struct PartitionMovements {
        struct Pair: Hashable {
            var source: String
            var destination: String
        }

        var byPartition: [TopicPartition: Pair] = [:]
        var byTopic: [String: [Pair: JavaHashOrder<TopicPartition>]] = [:]

        mutating func move(_ partition: TopicPartition, from oldConsumer: String, to newConsumer: String) {
            if self.byPartition[partition] != nil {
                let existing = self.removeRecord(partition)
                if existing.source != newConsumer {
                    self.addRecord(partition, Pair(source: existing.source, destination: newConsumer))
                }
            } else {
                self.addRecord(partition, Pair(source: oldConsumer, destination: newConsumer))
            }
        }

        func partitionToMove(_ partition: TopicPartition, from consumer: String, to newConsumer: String)
            -> TopicPartition
        {
            guard let topicMovements = self.byTopic[partition.topic] else { return partition }
            var oldConsumer = consumer
            if let pair = self.byPartition[partition] { oldConsumer = pair.source }
            guard let reverse = topicMovements[Pair(source: newConsumer, destination: oldConsumer)] else {
                return partition
            }
            return reverse.first ?? partition
        }

        private mutating func removeRecord(_ partition: TopicPartition) -> Pair {
            let pair = self.byPartition.removeValue(forKey: partition)!
            self.byTopic[partition.topic]![pair]!.remove(partition)
            if self.byTopic[partition.topic]![pair]!.isEmpty { self.byTopic[partition.topic]![pair] = nil }
            if self.byTopic[partition.topic]!.isEmpty { self.byTopic[partition.topic] = nil }
            return pair
        }

        private mutating func addRecord(_ partition: TopicPartition, _ pair: Pair) {
            self.byPartition[partition] = pair
            self.byTopic[partition.topic, default: [:]][pair, default: JavaHashOrder()]
                .insert(partition, javaHash: JavaOrder.hash(partition))
        }
    }
}
