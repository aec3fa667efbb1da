import Foundation
import Logging
import Synchronization
import TernWire
import Testing

@testable import TernClient

/// Tern's group membership against a real `ternd`: two members split a topic, one leaves, the other
/// takes everything.
@Suite(.serialized) struct GroupMembershipTests {
    static let environment = ["TERN_GROUP_INITIAL_REBALANCE_DELAY_MS": "300"]

    /// Collects one member's events and lets the test wait for a condition on them.
    final class Recorder: Sendable {
        private let events = Mutex<[GroupEvent]>([])

        func record(_ event: GroupEvent) { self.events.withLock { $0.append(event) } }

        var all: [GroupEvent] { self.events.withLock { $0 } }

        /// The latest assignment and its generation.
        var latest: (partitions: Set<TopicPartition>, generation: Int32)? {
            for event in self.all.reversed() {
                if case .assigned(let partitions, let generation) = event { return (Set(partitions), generation) }
            }
            return nil
        }

        func wait(
            _ what: String,
            timeout: Duration = .seconds(30),
            until condition: () -> Bool
        ) async throws {
            let deadline = ContinuousClock.now + timeout
            while !condition() {
                guard ContinuousClock.now < deadline else {
                    throw TestFailure("timed out waiting for \(what): \(self.all)")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    static func member(
        _ bootstrap: String,
        group: String,
        topics: [String] = ["shared"],
        assignor: PartitionAssignor,
        recorder: Recorder
    ) throws -> GroupMembership {
        var configuration = GroupMembershipConfiguration(groupId: group, topics: topics, assignors: [assignor])
        configuration.metadataCheckInterval = .milliseconds(400)
        configuration.sessionTimeout = .seconds(10)
        configuration.rebalanceTimeout = .seconds(10)
        configuration.heartbeatInterval = .milliseconds(200)
        let logger = Logger(label: "test.group")
        let cluster = try Cluster(configuration: ClientConfiguration(bootstrapServers: [bootstrap]), logger: logger)
        return GroupMembership(configuration: configuration, cluster: cluster, logger: logger) { recorder.record($0) }
    }

    @Test(arguments: [PartitionAssignor.range, .roundRobin, .sticky])
    func twoMembersSplitFourPartitionsAndOneTakesAllWhenTheOtherLeaves(assignor: PartitionAssignor) async throws {
        try await withTernd(environment: Self.environment) { ternd in
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic("shared", partitions: 4)
            await admin.close()
            let all = Set((0..<4).map { TopicPartition(topic: "shared", partition: $0) })

            let (recorderA, recorderB) = (Recorder(), Recorder())
            let a = try Self.member(ternd.bootstrap, group: "pair", assignor: assignor, recorder: recorderA)
            let b = try Self.member(ternd.bootstrap, group: "pair", assignor: assignor, recorder: recorderB)
            let runA = Task { await a.run() }
            try await recorderA.wait("A alone owns all four") { recorderA.latest?.partitions == all }

            let runB = Task { await b.run() }
            try await recorderB.wait("both own two") {
                guard let latestA = recorderA.latest, let latestB = recorderB.latest else { return false }
                return latestA.generation == latestB.generation && latestA.partitions.count == 2
                    && latestB.partitions.count == 2 && latestA.partitions.union(latestB.partitions) == all
            }
            // A gave up everything before rejoining (eager protocol).
            #expect(recorderA.all.contains(.revoked(all.sorted())))
            let splitGeneration = recorderA.latest!.generation
            let ownedByA = recorderA.latest!.partitions

            // Commits carry the member id and generation; the coordinator accepts them.
            let offsets = Dictionary(uniqueKeysWithValues: ownedByA.map { ($0, Int64(10 + $0.partition)) })
            try await a.commit(offsets)
            #expect(try await b.fetchCommitted(Array(ownedByA)) == offsets)

            await b.leave()
            await runB.value
            #expect(recorderB.all.last == .revoked(recorderB.latest!.partitions.sorted()))
            try await recorderA.wait("A owns all four again") {
                guard let latest = recorderA.latest else { return false }
                return latest.generation > splitGeneration && latest.partitions == all
            }

            await a.leave()
            await runA.value
            #expect(a.identity == nil)
        }
    }

    /// A Tern member and a kafka-python or librdkafka member in one group get the split Tern's
    /// assignor computes for their two member ids, whether Tern or the other client leads (the
    /// first to join is the leader).
    @Test(arguments: ["kafka-python", "confluent"], ["range", "roundrobin"])
    func mixedGroupsSplitTheSameWhoeverLeads(client: String, assignorName: String) async throws {
        for ternLeads in [true, false] {
            try await self.mixedGroup(client: client, assignorName: assignorName, ternLeads: ternLeads)
        }
    }

    func mixedGroup(client: String, assignorName: String, ternLeads: Bool) async throws {
        try await withTernd(environment: Self.environment) { ternd in
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic("shared", partitions: 4)
            await admin.close()
            let assignor = try #require(PartitionAssignor(name: assignorName))
            let group = "mixed-\(client)-\(assignorName)"
            let stateFile = try Paths.temporaryDirectory().appendingPathComponent("member.json")
            func pythonState() -> (member: String, generation: Int32, assigned: [Int32])? {
                guard let data = try? Data(contentsOf: stateFile),
                    let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                    let member = json["member"] as? String, let generation = json["generation"] as? Int,
                    let assigned = json["assigned"] as? [Int]
                else { return nil }
                return (member, Int32(generation), assigned.map { Int32($0) })
            }

            let recorder = Recorder()
            let tern = try Self.member(ternd.bootstrap, group: group, assignor: assignor, recorder: recorder)
            var ternRun: Task<Void, Never>?
            if ternLeads {
                ternRun = Task { await tern.run() }
                try await recorder.wait("Tern alone owns all four") { recorder.latest?.partitions.count == 4 }
            }
            let python = Task {
                try await runPython(
                    "group_member.py",
                    [client, ternd.bootstrap, group, "shared", assignorName, stateFile.path, "60"],
                    timeout: .seconds(90)
                )
            }
            if !ternLeads {
                try await recorder.wait("\(client) alone owns all four", timeout: .seconds(60)) {
                    pythonState()?.assigned == [0, 1, 2, 3]
                }
                ternRun = Task { await tern.run() }
            }
            try await recorder.wait("both own two in the same generation", timeout: .seconds(60)) {
                guard let latest = recorder.latest, let state = pythonState(), !state.member.isEmpty else {
                    return false
                }
                // librdkafka does not expose its generation: complementary halves it is.
                let sameGeneration =
                    state.generation < 0
                    ? latest.partitions.isDisjoint(
                        with: state.assigned.map { TopicPartition(topic: "shared", partition: $0) }
                    )
                    : latest.generation == state.generation
                return sameGeneration && latest.partitions.count == 2 && state.assigned.count == 2
            }
            let ternId = try #require(tern.identity?.memberId)
            let ternGeneration = try #require(recorder.latest?.generation)
            let state = try #require(pythonState())
            let expected = assignor.assign(
                members: [ternId, state.member].map {
                    AssignorMember(memberId: $0, subscription: .init(topics: ["shared"]))
                },
                partitionCounts: ["shared": 4]
            )
            #expect(recorder.latest?.partitions == Set(expected[ternId]!))
            #expect(state.assigned == expected[state.member]!.map(\.partition).sorted())

            #expect(FileManager.default.createFile(atPath: stateFile.path + ".stop", contents: nil))
            _ = try await python.value
            try await recorder.wait("Tern owns all four after \(client) left") {
                recorder.latest.map { $0.partitions.count == 4 && $0.generation > ternGeneration } ?? false
            }
            await tern.leave()
            await ternRun?.value
        }
    }

    /// A subscribed topic created while the group is stable: the leader notices on its metadata
    /// check and rebalances so its partitions get consumers.
    @Test func leaderRebalancesWhenASubscribedTopicAppears() async throws {
        try await withTernd(environment: Self.environment) { ternd in
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic("shared", partitions: 4)
            let (recorderA, recorderB) = (Recorder(), Recorder())
            let members = try [recorderA, recorderB].map {
                try Self.member(
                    ternd.bootstrap,
                    group: "growing",
                    topics: ["shared", "later"],
                    assignor: .roundRobin,
                    recorder: $0
                )
            }
            let runs = members.map { member in Task { await member.run() } }
            func owned() -> Set<TopicPartition>? {
                guard let a = recorderA.latest, let b = recorderB.latest, a.generation == b.generation else {
                    return nil
                }
                return a.partitions.union(b.partitions)
            }
            try await recorderA.wait("both share the four partitions of shared") { owned()?.count == 4 }

            try await admin.createTopic("later", partitions: 2)
            try await recorderA.wait("the two partitions of later are assigned too") { owned()?.count == 6 }
            #expect(recorderA.latest!.partitions.count == 3 && recorderB.latest!.partitions.count == 3)

            for member in members { await member.leave() }
            for run in runs { await run.value }
            await admin.close()
        }
    }
}
