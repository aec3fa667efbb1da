import Foundation
import NIOCore
import Synchronization
import TernClient
import Testing

/// Tern's consumer in group mode against a real `ternd`.
@Suite(.serialized) struct TernGroupConsumerTests {
    final class Seen: Sendable {
        let counts = Mutex<[String: Int]>([:])
        func add(_ record: ConsumerRecord) { self.counts.withLock { $0[record.keyString ?? "", default: 0] += 1 } }
    }

    static func waitUntil(_ what: String, timeout: Duration = .seconds(30), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Two consumers split four partitions; when one closes (committing on revocation) the other
    /// takes all four and resumes from the commits: every record is read exactly once.
    @Test
    func twoConsumersShareATopicAndHandOverWithoutDuplicates() async throws {
        try await withTernd(environment: ["TERN_GROUP_INITIAL_REBALANCE_DELAY_MS": "300"]) { ternd in
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic("handover", partitions: 4)
            await admin.close()
            let producer = try Producer(configuration: ProducerConfiguration(bootstrapServers: [ternd.bootstrap]))
            func produce(_ range: Range<Int>) async throws {
                for index in range {
                    try await producer.enqueue(
                        ProducerRecord(
                            topic: "handover",
                            partition: Int32(index % 4),
                            key: "k\(index)",
                            value: "v\(index)"
                        )
                    )
                }
                try await producer.flush()
            }
            func consumer() throws -> Consumer {
                var configuration = ConsumerConfiguration(
                    bootstrapServers: [ternd.bootstrap],
                    mode: .group(id: "handover", topics: ["handover"])
                )
                configuration.autoOffsetReset = .earliest
                configuration.heartbeatInterval = .milliseconds(200)
                configuration.sessionTimeout = .seconds(10)
                configuration.autoCommitInterval = .milliseconds(200)
                return try Consumer(configuration: configuration)
            }
            let seen = Seen()
            try await produce(0..<400)

            let a = try consumer()
            let readA = Task { for try await record in a { seen.add(record) } }
            try await Self.waitUntil("a owns all four") { a.assignment().count == 4 }
            let b = try consumer()
            let readB = Task { for try await record in b { seen.add(record) } }
            try await Self.waitUntil("both own two") { a.assignment().count == 2 && b.assignment().count == 2 }
            #expect(Set(a.assignment()).isDisjoint(with: b.assignment()))
            try await produce(400..<800)
            try await Self.waitUntil("800 records read") { seen.counts.withLock { $0.count } == 800 }

            try await b.close()
            try await readB.value
            try await Self.waitUntil("a owns all four again") { a.assignment().count == 4 }
            try await produce(800..<900)
            try await Self.waitUntil("900 records read") { seen.counts.withLock { $0.count } == 900 }
            try await a.close()
            try await readA.value
            try await producer.close()
            #expect(seen.counts.withLock { $0.values.allSatisfy { $0 == 1 } })
        }
    }
}
