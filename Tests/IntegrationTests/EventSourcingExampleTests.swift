import Foundation
import TernClient
import Testing

/// docs/event-sourcing.md's example, run: bank accounts as event-sourced aggregates, an event
/// topic (the truth, never compacted) and a compacted snapshot topic (the latest state per
/// account, a tombstone for a closed one). After the cleaner compacted the snapshots, the state is
/// rebuilt from them plus the events after each snapshot, and equals the state folded from every
/// event.
@Suite struct EventSourcingExampleTests {
    // MARK: The example (docs/event-sourcing.md shows this code)

    /// An account's state, and where in the event log it stands.
    struct Account: Equatable {
        var balance: Int64 = 0
        /// The events partition of the account (its key's) and the offset of the last event
        /// folded in.
        var partition: Int32 = 0
        var lastEvent: Int64 = -1
    }

    /// Folds one event ("deposit 5", "withdraw 3", "close") into the accounts.
    static func apply(_ event: ConsumerRecord, to accounts: inout [String: Account]) {
        guard let id = event.keyString, let text = event.valueString else { return }
        let parts = text.split(separator: " ")
        switch parts.first {
        case "close":
            accounts[id] = nil
        case "deposit", "withdraw":
            var account = accounts[id] ?? Account(partition: event.partition)
            account.balance += (parts[0] == "deposit" ? 1 : -1) * Int64(parts[1])!
            account.lastEvent = event.offset
            accounts[id] = account
        default:
            break
        }
    }

    /// A snapshot's value: "<balance> <events partition> <offset of the last event>"; nil (a
    /// tombstone) for a closed account.
    static func snapshotValue(_ account: Account?) -> String? {
        account.map { "\($0.balance) \($0.partition) \($0.lastEvent)" }
    }

    /// Every record of `topic` from the beginning to its current end.
    static func readAll(_ bootstrap: String, _ topic: String, from start: [TopicPartition: OffsetSpec]) async throws
        -> [ConsumerRecord]
    {
        var configuration = ConsumerConfiguration(bootstrapServers: [bootstrap], mode: .assign(start))
        configuration.stopAtEnd = true
        let consumer = try Consumer(configuration: configuration)
        var records: [ConsumerRecord] = []
        for try await record in consumer { records.append(record) }
        try await consumer.close()
        return records
    }

    /// Rebuilds the accounts: the latest snapshot of each (the compacted topic read to its end),
    /// then, per events partition, the events after the oldest snapshot's offset, each applied
    /// to an account only if it is newer than that account's snapshot.
    static func rebuild(_ bootstrap: String, events: String, snapshots: String, eventPartitions: Int32)
        async throws -> [String: Account]
    {
        var accounts: [String: Account] = [:]
        let snapshotPartition = TopicPartition(topic: snapshots, partition: 0)
        for record in try await readAll(bootstrap, snapshots, from: [snapshotPartition: .earliest]) {
            guard let id = record.keyString else { continue }
            // Later snapshots of a key replace earlier ones; a tombstone deletes the account.
            accounts[id] = record.valueString.map { text in
                let parts = text.split(separator: " ")
                return Account(balance: Int64(parts[0])!, partition: Int32(parts[1])!, lastEvent: Int64(parts[2])!)
            }
        }
        var start: [TopicPartition: OffsetSpec] = [:]
        for partition in 0..<eventPartitions {
            let offsets = accounts.values.filter { $0.partition == partition }.map(\.lastEvent)
            start[TopicPartition(topic: events, partition: partition)] =
                offsets.min().map { .offset($0 + 1) } ?? .earliest
        }
        for event in try await readAll(bootstrap, events, from: start) {
            guard let id = event.keyString else { continue }
            if let snapshot = accounts[id], event.offset <= snapshot.lastEvent { continue }
            Self.apply(event, to: &accounts)
        }
        return accounts
    }

    // MARK: The test

    @Test func theStateRebuiltFromCompactedSnapshotsAndTheEventTailIsTheFoldOfEveryEvent() async throws {
        try await withTernd(environment: ["TERN_LOG_CLEANER_BACKOFF_MS": "200"]) { ternd in
            let suffix = UInt32.random(in: 0...UInt32.max)
            let (events, snapshots) = ("account-events-\(suffix)", "account-snapshots-\(suffix)")
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic(events, partitions: 2)
            try await admin.createTopic(
                snapshots,
                partitions: 1,
                configs: [
                    "cleanup.policy": "compact", "segment.bytes": "2048", "min.cleanable.dirty.ratio": "0.01",
                    "delete.retention.ms": "1000",
                ]
            )
            let producer = try Producer(configuration: ProducerConfiguration(bootstrapServers: [ternd.bootstrap]))
            var generator = SystemRandomNumberGenerator()
            let ids = (0..<30).map { "account-\($0)" }
            var open = ids
            // The events, in rounds; after each round the projector folds them and snapshots
            // the accounts that changed.
            var folded: [String: Account] = [:]
            var position: [TopicPartition: OffsetSpec] = [
                TopicPartition(topic: events, partition: 0): .earliest,
                TopicPartition(topic: events, partition: 1): .earliest,
            ]
            var snapshotsWritten = 0
            for round in 0..<12 {
                for _ in 0..<50 {
                    let id = open.randomElement(using: &generator)!
                    let amount = Int.random(in: 1...100, using: &generator)
                    let kind = Bool.random(using: &generator) ? "deposit" : "withdraw"
                    try await producer.enqueue(ProducerRecord(topic: events, key: id, value: "\(kind) \(amount)"))
                }
                if round == 6 {
                    for id in ids.prefix(3) {
                        try await producer.enqueue(ProducerRecord(topic: events, key: id, value: "close"))
                    }
                    open.removeFirst(3)
                }
                try await producer.flush()
                // The projector: fold the new events, then snapshot each account they touched.
                var touched: Set<String> = []
                for event in try await Self.readAll(ternd.bootstrap, events, from: position) {
                    Self.apply(event, to: &folded)
                    touched.insert(event.keyString!)
                    position[event.topicPartition] = .offset(event.offset + 1)
                }
                for id in touched.sorted() {
                    try await producer.enqueue(
                        ProducerRecord(topic: snapshots, key: id, value: Self.snapshotValue(folded[id]))
                    )
                    snapshotsWritten += 1
                }
                try await producer.flush()
            }
            // A tail of events no snapshot covers yet.
            for _ in 0..<40 {
                let id = open.randomElement(using: &generator)!
                try await producer.enqueue(ProducerRecord(topic: events, key: id, value: "deposit 1"))
            }
            try await producer.flush()
            // The truth: every event folded from the beginning.
            var truth: [String: Account] = [:]
            let everything = [
                TopicPartition(topic: events, partition: 0): OffsetSpec.earliest,
                TopicPartition(topic: events, partition: 1): .earliest,
            ]
            for event in try await Self.readAll(ternd.bootstrap, events, from: everything) {
                Self.apply(event, to: &truth)
            }
            #expect(truth.count == 27)

            // The cleaner compacts the snapshots (all but the active segment) to one record per
            // account: well under half of what was written (~10 per account) is left.
            let snapshotPartition = TopicPartition(topic: snapshots, partition: 0)
            let deadline = ContinuousClock.now + .seconds(90)
            var left = snapshotsWritten
            while ContinuousClock.now < deadline {
                left = try await Self.readAll(ternd.bootstrap, snapshots, from: [snapshotPartition: .earliest]).count
                if left < snapshotsWritten / 2 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(left < snapshotsWritten / 2, "\(left) of \(snapshotsWritten) snapshots left")

            let rebuilt = try await Self.rebuild(
                ternd.bootstrap,
                events: events,
                snapshots: snapshots,
                eventPartitions: 2
            )
            #expect(rebuilt.mapValues(\.balance) == truth.mapValues(\.balance))
            #expect(rebuilt.keys.allSatisfy { !ids.prefix(3).contains($0) }, "closed accounts came back")
            try await producer.close()
            await admin.close()
        }
    }
}
