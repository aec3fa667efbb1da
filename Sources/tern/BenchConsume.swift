import ArgumentParser
import NIOConcurrencyHelpers
import NIOCore
import TernCLICore
import TernClient

extension BenchCommand {
    struct Consume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a topic from the beginning to its end and report throughput.",
            discussion: "Example: tern bench consume -b localhost:9092 --topic tern-bench"
        )
        @OptionGroup var connection: ConnectionOptions
        @Option(name: [.short, .long], help: "Topic to read.") var topic: String = "tern-bench"
        @Option(
            name: [.customShort("n"), .long],
            help: "Stop after this many records (default: at the end of every partition)."
        )
        var records: Int?
        @Option(help: "Read as a member of this consumer group (default: assign all partitions, no group).")
        var group: String?
        @Option(
            name: .customLong("isolation-level"),
            help: "read_uncommitted, or read_committed: records of open and aborted transactions are not read."
        )
        var isolationLevel: String = "read_uncommitted"
        @OptionGroup var progressOptions: ProgressOptions
        @Flag(help: "Print the summary as JSON.") var json = false

        func validate() throws {
            guard ["read_uncommitted", "read_committed"].contains(self.isolationLevel) else {
                throw ValidationError("--isolation-level must be read_uncommitted or read_committed")
            }
        }

        func run() async throws {
            let recorder = BenchRecorder()
            let report = BenchReport(name: "consume", json: self.json, progressInterval: self.progressOptions.seconds)
            let started: UInt64
            do {
                let client = try self.connection.clientConfiguration(clientId: "tern-bench")
                let (topic, limit) = (self.topic, self.records)
                let (partitions, inTopic) = try await withAdmin(self.connection) { admin in
                    let partitions = try await admin.partitions(of: topic)
                    let earliest = try await admin.listOffsets(partitions, spec: .earliest)
                    let latest = try await admin.listOffsets(partitions, spec: .latest)
                    let records = partitions.reduce(0) { $0 + Int(max(0, (latest[$1] ?? 0) - (earliest[$1] ?? 0))) }
                    return (partitions, records)
                }
                var configuration: ConsumerConfiguration
                if let group = self.group {
                    configuration = ConsumerConfiguration(client: client, mode: .group(id: group, topics: [topic]))
                    configuration.autoOffsetReset = .earliest
                } else {
                    configuration = ConsumerConfiguration(
                        client: client,
                        mode: .assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, OffsetSpec.earliest) }))
                    )
                    configuration.enableAutoCommit = false
                }
                configuration.isolationLevel =
                    self.isolationLevel == "read_committed" ? .readCommitted : .readUncommitted
                configuration.stopAtEnd = limit == nil
                let consumer = try Consumer(configuration: configuration)
                started = monotonicNanoseconds()
                let progress = report.progress(
                    recorder,
                    started: started,
                    total: limit.map { min($0, inTopic) } ?? inTopic
                )
                var count = 0
                // Counted locally and handed to the recorder in blocks: a lock per record cost more
                // than delivering the record.
                var (pendingRecords, pendingBytes) = (0, 0)
                do {
                    for try await record in consumer {
                        pendingBytes += (record.value?.readableBytes ?? 0) + (record.key?.readableBytes ?? 0)
                        pendingRecords += 1
                        count += 1
                        if pendingRecords == 4096 {
                            recorder.record(records: pendingRecords, bytes: pendingBytes)
                            (pendingRecords, pendingBytes) = (0, 0)
                        }
                        if let limit, count >= limit { break }
                    }
                    recorder.record(records: pendingRecords, bytes: pendingBytes)
                } catch {
                    await stopProgress(progress)
                    try? await consumer.close()
                    throw error
                }
                await stopProgress(progress)
                try await consumer.close()
            } catch let error as ExitCode {
                throw error
            } catch {
                printError("tern bench: \(describe(error))")
                throw ExitCode(1)
            }
            if !report.finish(recorder, started: started, extra: [("topic", self.topic)]) { throw ExitCode(1) }
        }
    }

    struct EndToEnd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "e2e",
            abstract: "Produce and consume at once; report end-to-end latency (send → delivered to the consumer).",
            discussion: """
                The consumer starts at the end of the topic, then the producers send. Each value \
                carries its send time, so latency is measured on one clock.

                Example: tern bench e2e -b localhost:9092 --records 100000 --rate 10000
                """
        )
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var load: LoadOptions
        @OptionGroup var progressOptions: ProgressOptions
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() async throws {
            try await ensureTopic(self.connection, self.load.topic, partitions: self.load.partitions)
            let recorder = BenchRecorder()
            let produced = BenchRecorder()
            let report = BenchReport(name: "e2e", json: self.json, progressInterval: self.progressOptions.seconds)
            let started: UInt64
            do {
                let client = try self.connection.clientConfiguration(clientId: "tern-bench")
                let topic = self.load.topic
                let partitions = try await withAdmin(self.connection) { admin in try await admin.partitions(of: topic) }
                var configuration = ConsumerConfiguration(
                    client: client,
                    mode: .assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, OffsetSpec.latest) }))
                )
                configuration.enableAutoCommit = false
                configuration.fetchMaxWait = .milliseconds(100)
                let consumer = try Consumer(configuration: configuration)
                // Wait until the consumer has its start positions, so no record is missed.
                let deadline = monotonicNanoseconds() + 10_000_000_000
                while partitions.contains(where: { consumer.position($0) == nil }), monotonicNanoseconds() < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                started = monotonicNanoseconds()
                let progress = report.progress(recorder, started: started, total: self.load.records)
                let (load, connection, total) = (self.load, self.connection, self.load.records)
                do {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await runProducers(load, connection, recorder: produced) }
                        group.addTask {
                            var count = 0
                            for try await record in consumer {
                                guard var value = record.value, let sentAt = value.readInteger(as: UInt64.self) else {
                                    continue
                                }
                                let now = monotonicNanoseconds()
                                recorder.record(
                                    latencyMicros: now > sentAt ? (now - sentAt) / 1000 : 0,
                                    bytes: value.readableBytes + 8
                                )
                                count += 1
                                if count >= total { break }
                            }
                        }
                        // The consumer may wait for records that never come if the producer failed.
                        try await group.next()
                        let timeout = Task {
                            try await Task.sleep(for: .seconds(30))
                            try? await consumer.close()
                        }
                        try await group.next()
                        timeout.cancel()
                    }
                } catch {
                    await stopProgress(progress)
                    try? await consumer.close()
                    throw error
                }
                await stopProgress(progress)
                try await consumer.close()
            } catch let error as ExitCode {
                throw error
            } catch {
                printError("tern bench: \(describe(error))")
                throw ExitCode(1)
            }
            let producedErrors = produced.state.withLockedValue { $0.errors }
            if producedErrors > 0 { recorder.state.withLockedValue { $0.errors += producedErrors } }
            let ok = report.finish(
                recorder,
                started: started,
                extra: [
                    ("record_size", String(self.load.recordSize)), ("acks", self.load.acks),
                    ("compression", self.load.compression), ("producers", String(self.load.producers)),
                    ("partitions", String(self.load.partitions)), ("rate", format(self.load.rate, 0)),
                ]
            )
            if !ok { throw ExitCode(1) }
        }
    }
}
