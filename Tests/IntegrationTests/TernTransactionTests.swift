import Foundation
import Synchronization
import TernClient
import Testing

/// Tern's transactional producer and read_committed consumer against a real `ternd`, checked by
/// an independent peer (confluent-kafka's consumers and producers, python/transactions.py).
@Suite struct TernTransactionTests {
    static let partitions: Int32 = 3
    /// The transactions of python/transactions.py's PHASES: value templates per partition, and
    /// whether the transaction commits.
    static let phases: [(templates: [String], commit: Bool)] = [
        (["c{p}-0", "c{p}-1"], true), (["a{p}-0", "a{p}-1"], false), (["c{p}-2"], true),
    ]

    static func values(committedOnly: Bool) -> [Int32: [String]] {
        var values: [Int32: [String]] = [:]
        for partition in 0..<Self.partitions {
            values[partition] = Self.phases.filter { $0.commit || !committedOnly }.flatMap { phase in
                phase.templates.map { $0.replacingOccurrences(of: "{p}", with: "\(partition)") }
            }
        }
        return values
    }

    static func transactionalProducer(_ bootstrap: String, id: String) throws -> Producer {
        var configuration = ProducerConfiguration(bootstrapServers: [bootstrap])
        configuration.transactionalId = id
        configuration.linger = .milliseconds(1)
        return try Producer(configuration: configuration)
    }

    /// Every record of the topic's partitions from the beginning to their end at this isolation.
    static func read(_ bootstrap: String, _ topic: String, _ isolation: IsolationLevel) async throws -> [Int32:
        [String]]
    {
        var configuration = ConsumerConfiguration(
            bootstrapServers: [bootstrap],
            mode: .assign(
                Dictionary(
                    uniqueKeysWithValues: (0..<Self.partitions).map {
                        (TopicPartition(topic: topic, partition: $0), OffsetSpec.earliest)
                    }
                )
            )
        )
        configuration.isolationLevel = isolation
        configuration.stopAtEnd = true
        let consumer = try Consumer(configuration: configuration)
        var values: [Int32: [String]] = Dictionary(uniqueKeysWithValues: (0..<Self.partitions).map { ($0, []) })
        for try await record in consumer {
            values[record.partition, default: []].append(record.valueString ?? "")
        }
        try await consumer.close()
        return values
    }

    static func summary(_ result: CommandResult) -> [String: Any] {
        TransactionClientTests.summary(result)
    }

    @Test func confluentConsumersSeeExactlyTheCommittedTransactionsOfTernsProducer() async throws {
        try await withTernd { ternd in
            let topic = "tern-tx-\(UInt32.random(in: 0...UInt32.max))"
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic(topic, partitions: Self.partitions)
            await admin.close()
            let producer = try Self.transactionalProducer(ternd.bootstrap, id: "tx-\(topic)")
            try await producer.initTransactions()
            for phase in Self.phases {
                try producer.beginTransaction()
                for partition in 0..<Self.partitions {
                    for template in phase.templates {
                        let value = template.replacingOccurrences(of: "{p}", with: "\(partition)")
                        try await producer.enqueue(
                            ProducerRecord(topic: topic, partition: partition, key: "k", value: value)
                        )
                    }
                }
                if phase.commit {
                    try await producer.commitTransaction()
                } else {
                    try await producer.flush()  // the aborted records reach the log first
                    try await producer.abortTransaction()
                }
            }
            try await producer.close()
            let result = try await runPython("transactions.py", ["check", ternd.bootstrap, topic])
            #expect(Self.summary(result)["ok"] as? Bool == true, "\(result.output)\n\(result.stderr)")
            // Tern's own consumer agrees at both isolation levels.
            #expect(try await Self.read(ternd.bootstrap, topic, .readCommitted) == Self.values(committedOnly: true))
            #expect(try await Self.read(ternd.bootstrap, topic, .readUncommitted) == Self.values(committedOnly: false))
        }
    }

    @Test(arguments: ["confluent", "aiokafka"])
    func ternsReadCommittedConsumerSkipsAbortedTransactionsOf(client: String) async throws {
        try await withTernd { ternd in
            let topic = "peer-tx-\(UInt32.random(in: 0...UInt32.max))"
            let result = try await runPython("transactions.py", ["produce", ternd.bootstrap, topic, client])
            #expect(Self.summary(result)["ok"] as? Bool == true, "\(result.output)\n\(result.stderr)")
            #expect(try await Self.read(ternd.bootstrap, topic, .readCommitted) == Self.values(committedOnly: true))
            // read_uncommitted sees the aborted records too, and never a marker.
            #expect(try await Self.read(ternd.bootstrap, topic, .readUncommitted) == Self.values(committedOnly: false))
        }
    }

    @Test func aNewProducerWithTheSameIdFencesTheOldOneAndAbortsItsTransaction() async throws {
        try await withTernd { ternd in
            let topic = "fence-\(UInt32.random(in: 0...UInt32.max))"
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic(topic, partitions: Self.partitions)
            await admin.close()
            let zombie = try Self.transactionalProducer(ternd.bootstrap, id: "fenced-\(topic)")
            try await zombie.initTransactions()
            try zombie.beginTransaction()
            try await zombie.send(ProducerRecord(topic: topic, partition: 0, value: "zombie"))
            let successor = try Self.transactionalProducer(ternd.bootstrap, id: "fenced-\(topic)")
            try await successor.initTransactions()
            try successor.beginTransaction()
            try await successor.send(ProducerRecord(topic: topic, partition: 0, value: "successor"))
            try await successor.commitTransaction()
            let refused = await #expect(throws: TernClientError.self) { try await zombie.commitTransaction() }
            #expect(
                [.producerFenced, .invalidProducerEpoch].contains(refused?.kafkaErrorCode),
                "\(String(describing: refused))"
            )
            // Fenced is final: nothing else is allowed.
            #expect(throws: TernClientError.self) { try zombie.beginTransaction() }
            try await zombie.close()
            try await successor.close()
            let committed = try await Self.read(ternd.bootstrap, topic, .readCommitted)
            #expect(committed[0] == ["successor"])
        }
    }

    /// A batch the broker refuses (bigger than the topic's max.message.bytes) fails its
    /// transaction: the commit throws, the abort succeeds, and the next transaction (on a new
    /// epoch, its sequences restarted) commits.
    @Test func aFailedSendLeavesTheTransactionToAbortAndTheNextOneCommits() async throws {
        try await withTernd { ternd in
            let topic = "abortable-\(UInt32.random(in: 0...UInt32.max))"
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic(topic, partitions: 1, configs: ["max.message.bytes": "2000"])
            await admin.close()
            let producer = try Self.transactionalProducer(ternd.bootstrap, id: "abortable-\(topic)")
            try await producer.initTransactions()
            try producer.beginTransaction()
            try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "kept back"))
            let big = String(repeating: "x", count: 5000)
            await #expect(throws: TernClientError.self) {
                try await producer.send(ProducerRecord(topic: topic, partition: 0, value: big))
            }
            let commit = await #expect(throws: TernClientError.self) { try await producer.commitTransaction() }
            #expect(commit?.kafkaErrorCode == .messageTooLarge, "\(String(describing: commit))")
            // Only an abort is allowed now.
            await #expect(throws: TernClientError.self) {
                try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "refused"))
            }
            try await producer.abortTransaction()
            try producer.beginTransaction()
            try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "after"))
            try await producer.commitTransaction()
            try await producer.close()
            var configuration = ConsumerConfiguration(
                bootstrapServers: [ternd.bootstrap],
                mode: .assign([TopicPartition(topic: topic, partition: 0): .earliest])
            )
            configuration.isolationLevel = .readCommitted
            configuration.stopAtEnd = true
            let consumer = try Consumer(configuration: configuration)
            var values: [String] = []
            for try await record in consumer { values.append(record.valueString ?? "") }
            try await consumer.close()
            #expect(values == ["after"])
        }
    }

    /// read_committed stops at the last stable offset: records after an open transaction's first
    /// one wait for it to end, and "latest" is that offset too.
    @Test func readCommittedWaitsAtTheLastStableOffset() async throws {
        try await withTernd { ternd in
            let topic = "lso-\(UInt32.random(in: 0...UInt32.max))"
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic(topic, partitions: Self.partitions)
            await admin.close()
            let plain = try Producer(configuration: ProducerConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await plain.send(ProducerRecord(topic: topic, partition: 0, value: "before"))
            let producer = try Self.transactionalProducer(ternd.bootstrap, id: "lso-\(topic)")
            try await producer.initTransactions()
            try producer.beginTransaction()
            try await producer.send(ProducerRecord(topic: topic, partition: 0, value: "open"))
            try await plain.send(ProducerRecord(topic: topic, partition: 0, value: "after"))
            #expect(try await Self.read(ternd.bootstrap, topic, .readCommitted)[0] == ["before"])
            #expect(try await Self.read(ternd.bootstrap, topic, .readUncommitted)[0] == ["before", "open", "after"])
            // Starting at "latest" with read_committed starts at the open transaction's first offset.
            var configuration = ConsumerConfiguration(
                bootstrapServers: [ternd.bootstrap],
                mode: .assign([TopicPartition(topic: topic, partition: 0): .latest])
            )
            configuration.isolationLevel = .readCommitted
            let consumer = try Consumer(configuration: configuration)
            let partition = TopicPartition(topic: topic, partition: 0)
            let deadline = ContinuousClock.now + .seconds(20)
            while (consumer.position(partition) ?? -1) < 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(consumer.position(partition) == 1)
            try await producer.commitTransaction()
            var values: [String] = []
            for try await record in consumer {
                values.append(record.valueString ?? "")
                if values.count == 2 { break }
            }
            try await consumer.close()
            #expect(values == ["open", "after"])
            #expect(try await Self.read(ternd.bootstrap, topic, .readCommitted)[0] == ["before", "open", "after"])
            try await producer.close()
            try await plain.close()
        }
    }

    @Test func callsOutOfOrderAreRefused() async throws {
        try await withTernd { ternd in
            let plain = try Producer(configuration: ProducerConfiguration(bootstrapServers: [ternd.bootstrap]))
            #expect(throws: TernClientError.self) { try plain.beginTransaction() }
            try await plain.close()
            let producer = try Self.transactionalProducer(
                ternd.bootstrap,
                id: "order-\(UInt32.random(in: 0...UInt32.max))"
            )
            #expect(throws: TernClientError.self) { try producer.beginTransaction() }
            try await producer.initTransactions()
            await #expect(throws: TernClientError.self) {
                try await producer.send(ProducerRecord(topic: "anywhere", value: "outside a transaction"))
            }
            await #expect(throws: TernClientError.self) { try await producer.commitTransaction() }
            try producer.beginTransaction()
            #expect(throws: TernClientError.self) { try producer.beginTransaction() }
            // Nothing sent: ends without asking the coordinator.
            try await producer.commitTransaction()
            try await producer.close()
        }
    }

    /// Consume-transform-produce with Tern's consumer and producer: each step's output and input
    /// offsets commit together. Steps are abandoned at random points (the transaction left open,
    /// the producer dropped unclosed, the consumer gone); a new producer with the same
    /// transactional id aborts what was left, and the output holds each input exactly once, as
    /// confluent-kafka's read_committed consumer sees it.
    @Test func consumeTransformProduceWithAbandonedStepsIsExactlyOnce() async throws {
        try await withTernd { ternd in
            let topic = "tern-ctp-\(UInt32.random(in: 0...UInt32.max))"
            let count = 400
            let setup = try await runPython("transactions.py", ["ctp-setup", ternd.bootstrap, topic, "\(count)"])
            #expect(Self.summary(setup)["ok"] as? Bool == true, "\(setup.output)\n\(setup.stderr)")
            var abandoned: [Producer] = []
            var finished = false
            var runs = 0
            while !finished && runs < 20 {
                runs += 1
                // The first runs stop after a random number of records, mid-transaction.
                let stopAfter = runs <= 4 ? Int.random(in: 10...150) : Int.max
                var consumerConfiguration = ConsumerConfiguration(
                    bootstrapServers: [ternd.bootstrap],
                    mode: .group(id: topic + "-group", topics: [topic + "-in"])
                )
                consumerConfiguration.isolationLevel = .readCommitted
                consumerConfiguration.enableAutoCommit = false
                consumerConfiguration.autoOffsetReset = .earliest
                consumerConfiguration.stopAtEnd = true
                let consumer = try Consumer(configuration: consumerConfiguration)
                let producer = try Self.transactionalProducer(ternd.bootstrap, id: topic + "-processor")
                try await producer.initTransactions()
                var positions: [TopicPartition: Int64] = [:]
                var inTransaction = 0
                var handled = 0
                var stopped = false
                for try await record in consumer {
                    if inTransaction == 0 { try producer.beginTransaction() }
                    try await producer.enqueue(
                        ProducerRecord(
                            topic: topic + "-out",
                            key: record.key,
                            value: record.valueString.map { ByteBuffer(string: $0.uppercased()) }
                        )
                    )
                    positions[record.topicPartition] = record.offset + 1
                    inTransaction += 1
                    handled += 1
                    if handled >= stopAfter {
                        stopped = true
                        break
                    }
                    if inTransaction == 25 {
                        try await producer.sendOffsetsToTransaction(positions, group: try consumer.groupMetadata())
                        try await producer.commitTransaction()
                        inTransaction = 0
                    }
                }
                if stopped {
                    abandoned.append(producer)  // left open, never closed: its successor fences it
                    try await consumer.close()
                    continue
                }
                if inTransaction > 0 {
                    try await producer.sendOffsetsToTransaction(positions, group: try consumer.groupMetadata())
                    try await producer.commitTransaction()
                }
                try await consumer.close()
                try await producer.close()
                finished = runs > 4
            }
            #expect(finished)
            let check = try await runPython("transactions.py", ["ctp-check", ternd.bootstrap, topic, "\(count)"])
            #expect(Self.summary(check)["ok"] as? Bool == true, "\(check.output)\n\(check.stderr)")
            for producer in abandoned { try? await producer.close() }
        }
    }
    /// A broker SIGKILLed while a producer runs transactions (twice, at random points, with the
    /// broker restarted on the same data at once): every transaction is visible to read_committed
    /// whole or not at all, every commit the producer saw return is visible, and once a successor
    /// with the same transactional id has initialised, nothing is left open (its own transaction
    /// is readable, so the last stable offset moved past everything before it).
    @Test func aBrokerKilledMidTransactionLeavesEveryTransactionWholeOrAbsent() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        var ternd = try await TerndProcess.start(dataDirectory: dataDirectory)
        let port = ternd.port
        let topic = "killed-tx-\(UInt32.random(in: 0...UInt32.max))"
        let recordsPerPartition = 5
        let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
        try await admin.createTopic(topic, partitions: Self.partitions)
        await admin.close()
        var configuration = ProducerConfiguration(bootstrapServers: [ternd.bootstrap])
        configuration.transactionalId = "killed-\(topic)"
        configuration.linger = .milliseconds(1)
        configuration.deliveryTimeout = .seconds(15)
        configuration.requestTimeout = .seconds(5)
        let committed = Mutex<[Int]>([])
        let keepGoing = Atomic<Bool>(true)
        let transactions = Task {
            var number = 0
            // A producer the kill left unusable (its abort failed too) is replaced, as an
            // application would: the successor's initTransactions fences it and ends its transaction.
            while keepGoing.load(ordering: .relaxed) {
                guard let producer = try? Producer(configuration: configuration) else { return }
                do {
                    try await producer.initTransactions()
                } catch {
                    try? await producer.close()
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                while keepGoing.load(ordering: .relaxed) {
                    defer { number += 1 }
                    do {
                        try producer.beginTransaction()
                        for partition in 0..<Self.partitions {
                            for index in 0..<recordsPerPartition {
                                try await producer.enqueue(
                                    ProducerRecord(topic: topic, partition: partition, value: "t\(number)-\(index)")
                                )
                            }
                        }
                        try await producer.commitTransaction()
                        committed.withLock { $0.append(number) }
                    } catch {
                        // The broker went away mid-step: abort if it lets us, else a new producer.
                        do { try await producer.abortTransaction() } catch { break }
                    }
                }
                try? await producer.close()
            }
        }
        for _ in 0..<2 {
            let before = committed.withLock { $0.count }
            let deadline = ContinuousClock.now + .seconds(30)
            while committed.withLock({ $0.count }) < before + 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await Task.sleep(for: .milliseconds(Int64.random(in: 0...300)))
            try await ternd.kill()
            ternd = try await TerndProcess.start(dataDirectory: dataDirectory, port: port)
        }
        try await Task.sleep(for: .milliseconds(500))
        keepGoing.store(false, ordering: .relaxed)
        await transactions.value
        let acknowledged = committed.withLock { $0 }
        #expect(acknowledged.count >= 6, "too few commits to mean anything: \(acknowledged)")

        let successor = try Self.transactionalProducer(ternd.bootstrap, id: "killed-\(topic)")
        try await successor.initTransactions()
        try successor.beginTransaction()
        for partition in 0..<Self.partitions {
            try await successor.enqueue(ProducerRecord(topic: topic, partition: partition, value: "final"))
        }
        try await successor.commitTransaction()
        try await successor.close()

        let visible = try await Self.read(ternd.bootstrap, topic, .readCommitted)
        var seen: [String: Int] = [:]
        for partition in 0..<Self.partitions {
            #expect(visible[partition]?.last == "final", "partition \(partition): \(visible[partition] ?? [])")
            for value in visible[partition] ?? [] where value != "final" {
                seen[String(value.split(separator: "-")[0]), default: 0] += 1
            }
        }
        let partial = seen.filter { $0.value != Int(Self.partitions) * recordsPerPartition }
        #expect(partial.isEmpty, "transactions seen in part: \(partial)")
        let missing = acknowledged.filter { seen["t\($0)"] == nil }
        #expect(missing.isEmpty, "committed transactions not visible: \(missing)")
        print("TernTransactionTests: \(acknowledged.count) commits acknowledged, \(seen.count) transactions visible")
        try await ternd.stop()
    }
    /// Consume-transform-produce with Tern's client in its own process
    /// (tern-transaction-processor), SIGKILLed at random points (mid-transaction, between
    /// transactions, while committing) and restarted until it has read everything: the output
    /// holds each input exactly once and the group's offsets cover the input, as confluent-kafka's
    /// read_committed consumer sees it.
    @Test func aKilledTernProcessorStillProcessesEachRecordExactlyOnce() async throws {
        try await withTernd { ternd in
            let topic = "tern-ctp-kill-\(UInt32.random(in: 0...UInt32.max))"
            let count = 2000
            let setup = try await runPython("transactions.py", ["ctp-setup", ternd.bootstrap, topic, "\(count)"])
            #expect(Self.summary(setup)["ok"] as? Bool == true, "\(setup.output)\n\(setup.stderr)")
            var kills = 0
            var finished = false
            var outputs: [String] = []
            let deadline = ContinuousClock.now + .seconds(240)
            while !finished, ContinuousClock.now < deadline {
                let processor = Process()
                processor.executableURL = URL(fileURLWithPath: Paths.transactionProcessor)
                processor.arguments = [ternd.bootstrap, topic]
                let outputFile = try Paths.temporaryDirectory().appendingPathComponent("processor.out")
                guard FileManager.default.createFile(atPath: outputFile.path, contents: nil) else {
                    throw TestFailure("cannot create \(outputFile.path)")
                }
                func printed() -> String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }
                processor.standardOutput = try FileHandle(forWritingTo: outputFile)
                processor.standardError = FileHandle.nullDevice
                try processor.run()
                // Four kills, each at a random moment after the run's first commit (mid-transaction,
                // between two, or inside a commit), then one run to its end.
                if kills < 4 {
                    while processor.isRunning, !printed().contains("committed"), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...100)))
                    if processor.isRunning {
                        kill(processor.processIdentifier, SIGKILL)
                        kills += 1
                    }
                }
                while processor.isRunning, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                if processor.isRunning { kill(processor.processIdentifier, SIGKILL) }
                outputs.append(printed())
                if processor.terminationReason == .exit {
                    #expect(processor.terminationStatus == 0, "processor failed: \(outputs.last ?? "")")
                    finished = processor.terminationStatus == 0 && outputs.last?.contains("done ") == true
                }
            }
            #expect(finished, "the processor did not finish within the time limit: \(outputs)")
            #expect(kills >= 3, "only \(kills) kills landed")
            let check = try await runPython("transactions.py", ["ctp-check", ternd.bootstrap, topic, "\(count)"])
            #expect(
                Self.summary(check)["ok"] as? Bool == true,
                "\(check.output)\n\(check.stderr)\nprocessor runs: \(outputs)"
            )
        }
    }
}
