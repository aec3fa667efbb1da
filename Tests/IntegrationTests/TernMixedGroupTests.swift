import Foundation
import Synchronization
import TernClient
import Testing

/// Three Tern consumers and one kafka-python consumer in one group.
@Suite(.serialized) struct TernMixedGroupTests {
    final class Seen: Sendable {
        let counts = Mutex<[String: Int]>([:])
        func add(_ record: ConsumerRecord) { self.counts.withLock { $0[record.keyString ?? "", default: 0] += 1 } }
        var keys: Set<String> { self.counts.withLock { Set($0.keys) } }
    }

    static let topic = "mixed6"
    static let partitions: Int32 = 6

    /// Range over six partitions and four members gives 2/2/1/1; when one Tern consumer closes
    /// (committing on revocation) the three left split 2/2/2. Every record is read, and none twice.
    @Test func threeTernConsumersAndKafkaPythonShareSixPartitions() async throws {
        try await withTernd(environment: ["TERN_GROUP_INITIAL_REBALANCE_DELAY_MS": "300"]) { ternd in
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic(Self.topic, partitions: Self.partitions)
            let producer = try Producer(configuration: ProducerConfiguration(bootstrapServers: [ternd.bootstrap]))
            var produced = 0
            func produce(_ count: Int) async throws {
                for index in produced..<(produced + count) {
                    try await producer.enqueue(
                        ProducerRecord(
                            topic: Self.topic,
                            partition: Int32(index) % Self.partitions,
                            key: "k\(index)",
                            value: "v\(index)"
                        )
                    )
                }
                produced += count
                try await producer.flush()
            }

            let directory = try Paths.temporaryDirectory()
            let stateFile = directory.appendingPathComponent("member.json")
            let recordsFile = directory.appendingPathComponent("records.txt")
            func pythonAssigned() -> [Int32]? {
                guard let data = try? Data(contentsOf: stateFile),
                    let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                    let assigned = json["assigned"] as? [Int]
                else { return nil }
                return assigned.map { Int32($0) }
            }
            /// Keys kafka-python reports, one per record it was given.
            func pythonKeys() -> [String] {
                guard let text = try? String(contentsOf: recordsFile, encoding: .utf8) else { return [] }
                return text.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
            }

            try await produce(600)
            let python = Task {
                try await runPython(
                    "group_member.py",
                    [
                        "kafka-python", ternd.bootstrap, "mixed", Self.topic, "range", stateFile.path, "90",
                        recordsFile.path,
                    ],
                    timeout: .seconds(120)
                )
            }
            try await TernGroupConsumerTests.waitUntil("kafka-python owns all six", timeout: .seconds(60)) {
                pythonAssigned()?.count == 6
            }

            let seen = Seen()
            var consumers: [Consumer] = []
            var reads: [Task<Void, any Error>] = []
            for _ in 0..<3 {
                var configuration = ConsumerConfiguration(
                    bootstrapServers: [ternd.bootstrap],
                    mode: .group(id: "mixed", topics: [Self.topic])
                )
                configuration.autoOffsetReset = .earliest
                configuration.assignors = [.range]
                configuration.heartbeatInterval = .milliseconds(200)
                configuration.sessionTimeout = .seconds(10)
                configuration.autoCommitInterval = .milliseconds(200)
                let consumer = try Consumer(configuration: configuration)
                consumers.append(consumer)
                reads.append(Task { for try await record in consumer { seen.add(record) } })
            }

            func shares(_ members: [Consumer]) -> [[Int32]]? {
                guard let python = pythonAssigned() else { return nil }
                return [python] + members.map { $0.assignment().map(\.partition).sorted() }
            }
            func coversDisjointly(_ shares: [[Int32]]) -> Bool {
                let all = shares.flatMap { $0 }
                return all.count == Int(Self.partitions) && Set(all) == Set(0..<Self.partitions)
            }
            try await TernGroupConsumerTests.waitUntil(
                "four members split six partitions 2/2/1/1",
                timeout: .seconds(60)
            ) {
                guard let shares = shares(consumers) else { return false }
                return coversDisjointly(shares) && shares.map(\.count).sorted() == [1, 1, 2, 2]
            }
            // The split is the one Java's range assignor computes for these member ids.
            let description = try #require(try await admin.describeGroups(["mixed"]).first)
            #expect(description.state == "Stable" && description.protocolName == "range")
            #expect(description.members.count == 4)
            let expected = PartitionAssignor.range.assign(
                members: description.members.map {
                    AssignorMember(memberId: $0.memberId, subscription: .init(topics: [Self.topic]))
                },
                partitionCounts: [Self.topic: Self.partitions]
            )
            for member in description.members {
                #expect(member.assignment == expected[member.memberId]?.sorted(), "\(member.clientId)")
            }
            #expect(description.members.contains { $0.clientId.hasPrefix("kafka-python") })

            try await produce(600)
            try await TernGroupConsumerTests.waitUntil("1200 records read", timeout: .seconds(60)) {
                seen.keys.union(pythonKeys()).count == 1200
            }

            let leaving = consumers.removeLast()
            let leavingShare = leaving.assignment()
            try await leaving.close()
            try await reads.removeLast().value
            try await TernGroupConsumerTests.waitUntil(
                "three members split six partitions 2/2/2",
                timeout: .seconds(60)
            ) {
                guard let shares = shares(consumers) else { return false }
                return coversDisjointly(shares) && shares.map(\.count) == [2, 2, 2]
            }
            #expect(!leavingShare.isEmpty, "the consumer that left had partitions to hand over")
            try await produce(600)
            try await TernGroupConsumerTests.waitUntil("1800 records read", timeout: .seconds(60)) {
                seen.keys.union(pythonKeys()).count == 1800
            }

            #expect(FileManager.default.createFile(atPath: stateFile.path + ".stop", contents: nil))
            _ = try await python.value
            for consumer in consumers { try await consumer.close() }
            for read in reads { try await read.value }
            try await producer.close()
            await admin.close()

            let ternCounts = seen.counts.withLock { $0 }
            let fromPython = pythonKeys()
            #expect(ternCounts.values.allSatisfy { $0 == 1 }, "a Tern consumer read a record twice")
            #expect(Set(fromPython).count == fromPython.count, "kafka-python reported a record twice")
            #expect(Set(ternCounts.keys).isDisjoint(with: fromPython), "a record was read by both clients")
            #expect(Set(ternCounts.keys).union(fromPython) == Set((0..<1800).map { "k\($0)" }))
            #expect(!fromPython.isEmpty && !ternCounts.isEmpty)
        }
    }
}
