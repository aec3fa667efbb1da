import Foundation
import NIOCore
import Synchronization
import TernClient
import TernStorage
import TernTestKit
import Testing

/// Issue 14, power loss: a real broker on the in-memory file system, whose crash drops every byte
/// and directory entry that was not fsynced (a SIGKILL keeps the page cache and so cannot tell an
/// fsync from none). Producers with acks=all and acks=1 write while the plug is pulled at a random
/// moment; after each restart a checker reads every partition back (see `PowerLossLedger`).
///
/// `TERN_POWER_LOSS_CYCLES` (default 40) sets the run's length; `tools/power-loss.sh` runs
/// hundreds of cycles. The moments are random (timing makes a run unrepeatable anyway); a failure
/// names the cycle and what was lost.
@Suite struct PowerLossTests {
    static let topicConfigs = ["segment.bytes": "16384"]

    /// Tern's producers (idempotent acks=all, plain acks=1) and offset commits.
    @Test func ternClientsAcknowledgedWritesSurvivePowerLoss() async throws {
        let cycles = ProcessInfo.processInfo.environment["TERN_POWER_LOSS_CYCLES"].flatMap { Int($0) } ?? 40
        try await Self.run(cycles: cycles, label: "Tern client") { cycle, topics, bootstrapServers in
            try ProducingRun(cycle: cycle, topics: topics, bootstrapServers: bootstrapServers)
        }
    }

    /// librdkafka's producers through confluent-kafka (a new Python process each cycle).
    @Test func librdkafkaAcknowledgedWritesSurvivePowerLoss() async throws {
        let cycles = ProcessInfo.processInfo.environment["TERN_POWER_LOSS_PYTHON_CYCLES"].flatMap { Int($0) } ?? 8
        try await Self.run(cycles: cycles, label: "confluent-kafka") { cycle, topics, bootstrapServers in
            try PythonProducingRun(cycle: cycle, topics: topics, bootstrapServers: bootstrapServers)
        }
    }

    static func run(
        cycles: Int,
        label: String,
        makeRun: (Int, [String], [String]) throws -> any PowerLossWriters
    ) async throws {
        let fileSystem = InMemoryFileSystem()
        var ledger = PowerLossLedger()
        var broker = try await TestBroker.start(storage: .memory(fileSystem))
        try await broker.createTopic("events", partitions: 3, configs: Self.topicConfigs)
        ledger.addTopic("events", partitions: 3)
        var totals = (acked: 0, ackedLeaderOnly: 0, lostLeaderOnly: 0)

        for cycle in 0..<cycles {
            var topics = ["events"]
            if cycle % 4 == 1 {
                // Created just before the plug is pulled: acknowledged records in it mean its
                // directory entries were durable.
                let topic = "created-\(cycle)"
                try await broker.createTopic(topic, partitions: 2, configs: Self.topicConfigs)
                ledger.addTopic(topic, partitions: 2)
                topics.append(topic)
            }
            // On stderr, unbuffered: where a long run (tools/power-loss.sh) is.
            if cycle % 50 == 49 {
                FileHandle.standardError.write(
                    Data("PowerLossTests (\(label)): cycle \(cycle + 1) of \(cycles)\n".utf8)
                )
            }
            let run = try makeRun(cycle, topics, broker.bootstrapServers)
            try run.start()
            try await run.waitForFirstAcknowledgements()
            try await Task.sleep(for: .milliseconds(Int.random(in: 0..<60)))
            await broker.simulatePowerLoss()
            let outcome = try await run.finish()

            broker = try await TestBroker.start(storage: .memory(fileSystem))
            // Every partition is read whole every 20th cycle and at the end; in between from where
            // the previous check ended, which is where this cycle's records begin.
            let whole = cycle % 20 == 19 || cycle == cycles - 1
            // A topic whose creation was acknowledged must exist, with every partition, and no
            // log may end below where the last check found it (reading would wait for it).
            let existing = try await broker.admin().metadata().topics
            let partitionCounts = Dictionary(uniqueKeysWithValues: existing.map { ($0.name, $0.partitions.count) })
            let missing = ledger.partitions.filter { partitionCounts[$0.topic, default: 0] <= Int($0.partition) }
            #expect(missing.isEmpty, "\(label), cycle \(cycle): created, then lost: \(missing)")
            guard missing.isEmpty else { break }
            let ends = try await broker.admin().listOffsets(ledger.partitions, spec: .latest)
            let shrunk = ledger.partitions.filter { ends[$0, default: -1] < ledger.checkedEnd[$0, default: 0] }
            let shrinkage = shrunk.map { "\($0) \(ends[$0, default: -1]) < \(ledger.checkedEnd[$0, default: 0])" }
            #expect(shrunk.isEmpty, "\(label), cycle \(cycle): logs ending below the last check: \(shrinkage)")
            guard shrunk.isEmpty else { break }
            var logs: [TernClient.TopicPartition: (from: Int64, records: [ConsumerRecord])] = [:]
            for partition in ledger.partitions {
                let from = whole ? 0 : ledger.checkedEnd[partition, default: 0]
                logs[partition] = (
                    from,
                    try await broker.records(
                        topic: partition.topic,
                        partition: partition.partition,
                        from: .offset(from)
                    )
                )
            }
            let committed = try await broker.admin().fetchOffsets(group: ProducingRun.group)
            let verdict = ledger.check(outcome, logs: logs, committed: committed)
            #expect(
                verdict.failures.isEmpty,
                "\(label), cycle \(cycle), \(verdict.failures.count) failures:\n\(verdict.failures.prefix(20).joined(separator: "\n"))"
            )
            guard verdict.failures.isEmpty else { break }
            totals.acked += outcome.acknowledged.count
            totals.ackedLeaderOnly += outcome.acknowledgedLeaderOnly.count
            totals.lostLeaderOnly += verdict.lostLeaderOnly
        }
        try await broker.stop()
        print(
            "PowerLossTests (\(label)): \(cycles) power losses; \(totals.acked) acks=all records acknowledged, "
                + "all kept; \(totals.ackedLeaderOnly) acks=1 acknowledged, \(totals.lostLeaderOnly) lost (suffixes only)"
        )
        // The run must have exercised something: records acknowledged before most power losses.
        #expect(totals.acked > cycles)
    }
}

/// Producers writing to a broker until its plug is pulled.
protocol PowerLossWriters {
    func start() throws
    /// Returns once every producer had a record acknowledged (they look the topics up and get a
    /// producer id first), so the power loss falls in the middle of writing.
    func waitForFirstAcknowledgements() async throws
    /// After the power loss: stops, waits until every record is acknowledged or failed.
    func finish() async throws -> ProducingOutcome
}

/// A record the broker said it wrote.
struct Acknowledgement {
    var partition: TernClient.TopicPartition
    var offset: Int64
    var value: String
}

/// What one cycle's producers were told.
struct ProducingOutcome {
    /// acks=all records acknowledged, with where the broker said it wrote them.
    var acknowledged: [Acknowledgement] = []
    /// acks=1 records acknowledged.
    var acknowledgedLeaderOnly: [Acknowledgement] = []
    /// Every value sent (acknowledged or not): nothing else may appear in a log.
    var sent: Set<String> = []
    /// Offsets of `ProducingRun.group` the broker confirmed committing, and the last one asked.
    var lastCommitConfirmed: Int64?
    var lastCommitAsked: Int64?
}

/// Two producers (idempotent acks=all, plain acks=1) and a committer writing as fast as they can
/// until the broker goes away.
final class ProducingRun: PowerLossWriters, Sendable {
    static let group = "power-loss"
    static let committedPartition = TernClient.TopicPartition(topic: "events", partition: 0)

    let cycle: Int
    let topics: [String]
    let durable: Producer
    let leaderOnly: Producer
    let admin: Admin
    private let outcome = Mutex(ProducingOutcome())
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let stopping = Atomic<Bool>(false)

    init(cycle: Int, topics: [String], bootstrapServers: [String]) throws {
        self.cycle = cycle
        self.topics = topics
        func configuration(_ acks: Acks) -> ProducerConfiguration {
            var configuration = ProducerConfiguration(bootstrapServers: bootstrapServers)
            configuration.acks = acks
            configuration.idempotent = acks == .all
            configuration.linger = .milliseconds(1)
            // The broker does not come back on this port: give up on what is in flight quickly.
            configuration.deliveryTimeout = .milliseconds(300)
            configuration.retryBackoff = .milliseconds(20)
            configuration.client.requestTimeout = .milliseconds(300)
            configuration.client.connectTimeout = .milliseconds(300)
            // Each reconnect attempt waits out this backoff before the delivery timeout is checked.
            configuration.client.reconnectBackoffMax = .milliseconds(50)
            return configuration
        }
        self.durable = try Producer(configuration: configuration(.all))
        self.leaderOnly = try Producer(configuration: configuration(.leader))
        var adminConfiguration = ClientConfiguration(bootstrapServers: bootstrapServers)
        adminConfiguration.requestTimeout = .milliseconds(300)
        adminConfiguration.connectTimeout = .milliseconds(300)
        adminConfiguration.reconnectBackoffMax = .milliseconds(50)
        self.admin = try Admin(configuration: adminConfiguration)
    }

    func start() throws {
        let produce = { (producer: Producer, label: String, leaderOnly: Bool) in
            Task {
                var sequence = 0
                while !self.stopping.load(ordering: .relaxed) {
                    let topic = self.topics[sequence % self.topics.count]
                    let value = "c\(self.cycle)-\(label)-\(sequence)"
                    sequence += 1
                    self.outcome.withLock { _ = $0.sent.insert(value) }
                    let record = ProducerRecord(topic: topic, key: "k\(sequence % 7)", value: value)
                    do {
                        try await producer.enqueue(record) { result in
                            guard case .success(let metadata) = result else { return }
                            let acknowledgement = Acknowledgement(
                                partition: TernClient.TopicPartition(
                                    topic: metadata.topic,
                                    partition: metadata.partition
                                ),
                                offset: metadata.offset,
                                value: value
                            )
                            self.outcome.withLock { outcome in
                                if leaderOnly {
                                    outcome.acknowledgedLeaderOnly.append(acknowledgement)
                                } else {
                                    outcome.acknowledged.append(acknowledgement)
                                }
                            }
                        }
                    } catch {
                        // Metadata can time out on a loaded machine (the timeouts are short for
                        // the power loss): retry until the run stops, or no record is ever sent.
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                    // Batches of a few hundred records, then a breath so the others get a turn.
                    if sequence % 200 == 0 { try? await Task.sleep(for: .milliseconds(1)) }
                }
            }
        }
        let commit = Task {
            // Offsets grow across cycles, so a commit from an earlier cycle can be told apart.
            var next = Int64(self.cycle) * 1_000_000 + 1
            while !self.stopping.load(ordering: .relaxed) {
                let offset = next
                next += 1
                self.outcome.withLock { $0.lastCommitAsked = offset }
                do {
                    try await self.admin.commitOffsets(group: Self.group, [Self.committedPartition: offset])
                    self.outcome.withLock { $0.lastCommitConfirmed = offset }
                } catch {
                    // Unconfirmed, so the checker does not count on it; the next one is larger.
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
        }
        self.tasks.withLock {
            $0 = [produce(self.durable, "all", false), produce(self.leaderOnly, "one", true), commit]
        }
    }

    func waitForFirstAcknowledgements() async throws {
        // Generous: a loaded machine can stall this process for seconds.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let started = self.outcome.withLock { !$0.acknowledged.isEmpty && !$0.acknowledgedLeaderOnly.isEmpty }
            if started { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw TestFailure("no record acknowledged within 60 s")
    }

    func finish() async throws -> ProducingOutcome {
        self.stopping.store(true, ordering: .relaxed)
        try? await self.durable.close()
        try? await self.leaderOnly.close()
        await self.admin.close()
        for task in self.tasks.withLock({ $0 }) { await task.value }
        return self.outcome.withLock { $0 }
    }
}

/// Tests/IntegrationTests/python/power_loss_producer.py: librdkafka's idempotent acks=all and
/// plain acks=1 producers.
final class PythonProducingRun: PowerLossWriters, @unchecked Sendable {
    let process = Process()
    let outputFile: URL
    let stdoutFile: URL

    init(cycle: Int, topics: [String], bootstrapServers: [String]) throws {
        let directory = try Paths.temporaryDirectory()
        self.outputFile = directory.appendingPathComponent("records.txt")
        self.stdoutFile = directory.appendingPathComponent("stdout.txt")
        guard FileManager.default.createFile(atPath: self.stdoutFile.path, contents: nil) else {
            throw TestFailure("cannot create \(self.stdoutFile.path)")
        }
        self.process.executableURL = URL(fileURLWithPath: Paths.python)
        self.process.arguments = [
            Paths.pythonScripts.appendingPathComponent("power_loss_producer.py").path,
            bootstrapServers.joined(separator: ","), "py\(cycle)", topics.joined(separator: ","), self.outputFile.path,
        ]
        self.process.standardOutput = try FileHandle(forWritingTo: self.stdoutFile)
    }

    deinit {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }

    func start() throws { try self.process.run() }

    func waitForFirstAcknowledgements() async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let output = try? String(contentsOf: self.stdoutFile, encoding: .utf8), output.contains("acked") {
                return
            }
            guard self.process.isRunning else { throw TestFailure("power_loss_producer.py exited early") }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestFailure("power_loss_producer.py had no record acknowledged within 20 s")
    }

    func finish() async throws -> ProducingOutcome {
        self.process.terminate()
        let deadline = ContinuousClock.now + .seconds(20)
        while self.process.isRunning {
            guard ContinuousClock.now < deadline else { throw TestFailure("power_loss_producer.py did not exit") }
            try await Task.sleep(for: .milliseconds(10))
        }
        guard self.process.terminationStatus == 0 else {
            throw TestFailure("power_loss_producer.py exited with \(self.process.terminationStatus)")
        }
        var outcome = ProducingOutcome()
        for line in try String(contentsOf: self.outputFile, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            if fields.count == 2, fields[0] == "sent" {
                outcome.sent.insert(fields[1])
            } else if fields.count == 5, let partition = Int32(fields[2]), let offset = Int64(fields[3]) {
                let acknowledgement = Acknowledgement(
                    partition: TernClient.TopicPartition(topic: fields[1], partition: partition),
                    offset: offset,
                    value: fields[4]
                )
                if fields[0] == "all" {
                    outcome.acknowledged.append(acknowledgement)
                } else {
                    outcome.acknowledgedLeaderOnly.append(acknowledgement)
                }
            } else {
                throw TestFailure("power_loss_producer.py wrote '\(line)'")
            }
        }
        return outcome
    }
}

/// What every partition must hold, built up over the power losses.
struct PowerLossLedger {
    /// Per partition, offset → value of every record known durable: acknowledged with acks=all,
    /// or read back after a restart.
    private(set) var expected: [TernClient.TopicPartition: [Int64: String]] = [:]
    private var partitionOrder: [TernClient.TopicPartition] = []
    /// Per partition, the log end offset the last check found.
    private(set) var checkedEnd: [TernClient.TopicPartition: Int64] = [:]
    /// Every value any producer sent.
    private var everSent: Set<String> = []
    private var lastCommitConfirmed: Int64?

    var partitions: [TernClient.TopicPartition] { self.partitionOrder }

    mutating func addTopic(_ topic: String, partitions: Int32) {
        for index in 0..<partitions {
            let partition = TernClient.TopicPartition(topic: topic, partition: index)
            self.partitionOrder.append(partition)
            self.expected[partition] = [:]
        }
    }

    struct Verdict {
        var failures: [String] = []
        var lostLeaderOnly = 0
    }

    /// Checks the logs read after a restart (each partition from its `from` offset) against what
    /// the producers were told, then records what the logs now hold as durable.
    ///
    /// - every acks=all record acknowledged (now or in an earlier cycle) is at its offset, byte for
    ///   byte; so is every record read back after an earlier restart;
    /// - acks=1 records lost are a suffix of their partition: each one acknowledged below the log
    ///   end offset is there;
    /// - the logs hold nothing that was not sent, and no acks=all value twice;
    /// - the group's committed offset is at least the last commit the broker confirmed.
    mutating func check(
        _ outcome: ProducingOutcome,
        logs: [TernClient.TopicPartition: (from: Int64, records: [ConsumerRecord])],
        committed: [TernClient.TopicPartition: Int64]
    ) -> Verdict {
        var verdict = Verdict()
        self.everSent.formUnion(outcome.sent)
        for acknowledgement in outcome.acknowledged {
            self.expected[acknowledgement.partition, default: [:]][acknowledgement.offset] = acknowledgement.value
        }
        for partition in self.partitionOrder {
            let (from, records) = logs[partition] ?? (0, [])
            var read: [Int64: String] = [:]
            var seen: Set<String> = []
            for record in records {
                let value = record.value.map { String(buffer: $0) } ?? "<null>"
                read[record.offset] = value
                if !self.everSent.contains(value) {
                    verdict.failures.append("\(partition) offset \(record.offset): '\(value)' was never sent")
                }
                if value.contains("-all-") && !seen.insert(value).inserted {
                    verdict.failures.append("\(partition): '\(value)' appears twice")
                }
            }
            let logEnd = (records.last?.offset ?? (from - 1)) + 1
            for (offset, value) in self.expected[partition] ?? [:] where offset >= from && read[offset] != value {
                verdict.failures.append(
                    "\(partition) offset \(offset): acknowledged '\(value)' lost (found \(read[offset] ?? "nothing"))"
                )
            }
            for acknowledgement in outcome.acknowledgedLeaderOnly where acknowledgement.partition == partition {
                if acknowledgement.offset >= logEnd {
                    verdict.lostLeaderOnly += 1
                } else if read[acknowledgement.offset] != acknowledgement.value {
                    verdict.failures.append(
                        "\(partition) offset \(acknowledgement.offset): acks=1 '\(acknowledgement.value)' lost below "
                            + "the log end \(logEnd)"
                    )
                }
            }
            // What survived is durable now: a later power loss must keep it.
            var expected = (self.expected[partition] ?? [:]).filter { $0.key < from }
            expected.merge(read) { $1 }
            self.expected[partition] = expected
            self.checkedEnd[partition] = logEnd
        }
        let committedOffset = committed[ProducingRun.committedPartition]
        if let confirmed = outcome.lastCommitConfirmed ?? self.lastCommitConfirmed {
            if committedOffset == nil || committedOffset! < confirmed
                || committedOffset! > (outcome.lastCommitAsked ?? confirmed)
            {
                verdict.failures.append(
                    "committed offset \(committedOffset.map(String.init) ?? "none"), confirmed \(confirmed)"
                )
            }
        }
        if let confirmed = outcome.lastCommitConfirmed { self.lastCommitConfirmed = confirmed }
        return verdict
    }
}
