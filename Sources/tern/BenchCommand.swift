import ArgumentParser
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import TernCLICore
import TernClient
import TernCompression
import TernWire

#if canImport(Glibc)
    import Glibc
#endif

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load generators in the spirit of kafka-producer-perf-test: throughput and latency percentiles.",
        discussion: """
            Each shows its progress on stderr (a bar with percent, rate and ETA on a terminal, a plain \
            line every 5 s otherwise; see --progress-interval), then prints one summary line \
            (key=value) on stdout and a summary table on stderr, or only a JSON object on stdout with \
            --json. Latencies come from an HdrHistogram with microsecond resolution.
            """,
        subcommands: [Produce.self, Consume.self, EndToEnd.self]
    )
}

/// Options shared by the load generators.
struct LoadOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Topic (created if missing).") var topic: String = "tern-bench"
    @Option(name: [.customShort("n"), .long], help: "Records to send.") var records: Int = 100_000
    @Option(name: [.customShort("s"), .customLong("record-size")], help: "Value size in bytes.") var recordSize: Int =
        100
    @Option(help: "Target records/s over all producers (0: as fast as possible).") var rate: Double = 0
    @Option(help: "0, 1 or all.") var acks: String = "all"
    @Option(help: "none, gzip, snappy, lz4 or zstd.") var compression: String = "none"
    @Option(help: "Partitions of the topic when it is created.") var partitions: Int32 = 1
    @Option(help: "Concurrent producers.") var producers: Int = 1
    @Option(name: .customLong("linger-ms"), help: "Producer linger.") var lingerMs: Int64 = 5
    @Option(name: .customLong("batch-size"), help: "Producer batch size in bytes.") var batchSize: Int = 1_000_000
    @Option(
        name: .customLong("transactional-id"),
        help:
            "Produce in transactions with this transactional.id (acks=all; with several producers, suffixed -1, -2, …)."
    ) var transactionalId: String?
    @Option(
        name: .customLong("transaction-records"),
        help: "Records per transaction of each producer, with --transactional-id."
    ) var transactionRecords: Int = 10_000
    @Option(
        help: "Key the records with N keys in turn (key-0 … key-<N-1>); 0: no keys. A compacted topic needs keys."
    ) var keys: Int = 0
    @Flag(
        name: .customLong("no-latency"),
        help: "Enqueue without a delivery callback per record (throughput only; no latency figures)."
    ) var noLatency = false

    func validate() throws {
        guard self.records > 0 else { throw ValidationError("--records must be positive") }
        guard self.recordSize >= 8 else {
            throw ValidationError("--record-size must be at least 8 (it carries a send time)")
        }
        guard self.producers > 0 else { throw ValidationError("--producers must be positive") }
        guard ["0", "1", "all", "-1"].contains(self.acks) else { throw ValidationError("--acks must be 0, 1 or all") }
        guard CompressionCodec(name: self.compression) != nil else {
            throw ValidationError("--compression must be none, gzip, snappy, lz4 or zstd")
        }
        guard self.rate >= 0 else { throw ValidationError("--rate must be ≥ 0") }
        guard self.transactionRecords > 0 else { throw ValidationError("--transaction-records must be positive") }
        guard self.keys >= 0 else { throw ValidationError("--keys must be 0 or positive") }
        if self.transactionalId != nil, !["all", "-1"].contains(self.acks) {
            throw ValidationError("--transactional-id needs --acks all")
        }
    }

    func producerConfiguration(_ client: ClientConfiguration) -> ProducerConfiguration {
        var c = ProducerConfiguration(client: client)
        c.acks = self.acks == "0" ? .none : self.acks == "1" ? .leader : .all
        c.idempotent = c.acks == .all
        c.compression = CompressionCodec(name: self.compression)!
        c.linger = .milliseconds(self.lingerMs)
        c.batchSize = self.batchSize
        c.deliveryTimeout = .seconds(60)
        return c
    }

    /// The transactional id of producer `index` (0-based) of the run.
    func transactionalId(ofProducer index: Int) -> String? {
        guard let id = self.transactionalId else { return nil }
        return self.producers == 1 ? id : "\(id)-\(index + 1)"
    }
}

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Counts and latencies shared by the tasks of a run.
final class BenchRecorder: Sendable {
    struct State {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var records = 0
        var bytes = 0
        var errors = 0
        var firstError: String?
    }

    let state = NIOLockedValueBox(State())

    func record(records: Int, bytes: Int) {
        self.state.withLockedValue {
            $0.records += records
            $0.bytes += bytes
        }
    }

    func record(latencyMicros: UInt64?, bytes: Int) {
        self.state.withLockedValue {
            $0.records += 1
            $0.bytes += bytes
            if let latencyMicros { _ = $0.histogram.record(min(latencyMicros, 60_000_000)) }
        }
    }

    func fail(_ error: any Error) {
        self.state.withLockedValue {
            $0.errors += 1
            if $0.firstError == nil { $0.firstError = describe(error) }
        }
    }
}

/// `--progress-interval`, shared by the load generators.
struct ProgressOptions: ParsableArguments {
    @Option(
        name: .customLong("progress-interval"),
        help: "Seconds between progress updates on stderr (default: 0.25 on a terminal, 5 otherwise; 0: none)."
    )
    var seconds: Double?

    func validate() throws {
        if let seconds, !(seconds >= 0) { throw ValidationError("--progress-interval must be ≥ 0") }
    }
}

/// The progress display and the summary.
struct BenchReport {
    var name: String
    var json: Bool
    var progressInterval: Double?

    /// Draws progress on stderr until the task is stopped (`stopProgress`): a bar redrawn in place on
    /// a terminal, a plain line per interval otherwise. `total` is the records the run will take.
    func progress(_ recorder: BenchRecorder, started: UInt64, total: Int?) -> Task<Void, Never>? {
        let terminal = stderrIsTerminal()
        let interval = self.progressInterval ?? (terminal ? 0.25 : 5)
        guard interval > 0 else { return nil }
        let name = self.name
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
                if Task.isCancelled { break }
                let (records, bytes, p99) = recorder.state.withLockedValue { state -> (Int, Int, UInt64?) in
                    (
                        state.records, state.bytes,
                        state.histogram.totalCount > 0 ? state.histogram.valueAtPercentile(99) : nil
                    )
                }
                let progress = BenchProgress(
                    name: name,
                    done: records,
                    total: total,
                    bytes: bytes,
                    seconds: Double(monotonicNanoseconds() - started) / 1e9,
                    p99Milliseconds: p99.map { Double($0) / 1000 }
                )
                if terminal {
                    writeStderr("\r\u{1B}[K" + progress.terminalLine)
                } else {
                    printError(progress.plainLine)
                }
            }
        }
    }

    func finish(_ recorder: BenchRecorder, started: UInt64, extra: [(String, String)] = []) -> Bool {
        let s = recorder.state.withLockedValue { $0 }
        let seconds = Double(monotonicNanoseconds() - started) / 1e9
        if stderrIsTerminal() && self.progressInterval != 0 { writeStderr("\r\u{1B}[K") }
        var fields: [(String, String)] = [
            ("records", String(s.records)), ("bytes", String(s.bytes)), ("seconds", format(seconds, 3)),
            ("records_per_sec", format(Double(s.records) / seconds, 1)),
            ("mb_per_sec", format(Double(s.bytes) / seconds / 1e6)),
        ]
        if s.histogram.totalCount > 0 {
            let h = s.histogram
            for (label, p) in [("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("p99_9", 99.9)] {
                fields.append(("\(label)_ms", format(Double(h.valueAtPercentile(p)) / 1000, 3)))
            }
            fields.append(("max_ms", format(Double(h.max) / 1000, 3)))
        }
        fields.append(("errors", String(s.errors)))
        fields += extra
        if self.json {
            let body = fields.map { key, value -> String in
                let text = ["acks", "compression", "topic"].contains(key) || Double(value) == nil
                return jsonString(key) + ":" + (text ? jsonString(value) : value)
            }.joined(separator: ",")
            print("{\"bench\":\(jsonString(self.name)),\(body)}")
        } else {
            print("\(self.name): " + fields.map { "\($0)=\($1)" }.joined(separator: " "))
            // The same figures for a person, on stderr so stdout stays one line for scripts.
            OutputStream.standardOutput.flush()
            writeStderr(
                BenchProgress.table(title: "\(self.name) summary", rows: fields.map { (BenchProgress.label($0), $1) })
            )
        }
        if let error = s.firstError { printError("tern bench: \(s.errors) error(s), first: \(error)") }
        return s.errors == 0
    }
}

func format(_ value: Double, _ decimals: Int = 2) -> String {
    guard value.isFinite else { return "0" }
    if decimals == 0 { return String(Int64(value.rounded())) }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let fraction = text[text.index(after: dot)...]
        if fraction.count < decimals { text += String(repeating: "0", count: decimals - fraction.count) }
    } else if decimals > 0 {
        text += "." + String(repeating: "0", count: decimals)
    }
    return text
}

/// Stops a progress display and waits until it wrote its last line.
func stopProgress(_ progress: Task<Void, Never>?) async {
    progress?.cancel()
    await progress?.value
}

/// Milliseconds since the epoch.
func wallClockMilliseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

/// Creates the topic unless it exists.
func ensureTopic(_ connection: ConnectionOptions, _ topic: String, partitions: Int32) async throws {
    try await withAdmin(connection) { admin in
        do {
            try await admin.createTopic(topic, partitions: partitions)
        } catch let error as TernClientError where error.kafkaErrorCode == .topicAlreadyExists {}
    }
}

/// Sends `load.records` records from `load.producers` producers at `load.rate`; each value starts
/// with the monotonic send time in nanoseconds (for e2e). Latency = enqueue → acknowledgement.
func runProducers(_ load: LoadOptions, _ connection: ConnectionOptions, recorder: BenchRecorder) async throws {
    let configuration = load.producerConfiguration(try connection.clientConfiguration(clientId: "tern-bench"))
    let padding = (0..<load.recordSize - 8).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<load.producers {
            let count = load.records / load.producers + (index < load.records % load.producers ? 1 : 0)
            let perProducerRate = load.rate / Double(load.producers)
            var configuration = configuration
            configuration.transactionalId = load.transactionalId(ofProducer: index)
            let transactionRecords = configuration.transactionalId == nil ? Int.max : load.transactionRecords
            group.addTask { [configuration] in
                let producer = try Producer(configuration: configuration)
                if configuration.transactionalId != nil { try await producer.initTransactions() }
                // Records go in transactions of `transactionRecords` (all in one stream without
                // a transactional id): each is committed before the next begins.
                @inline(__always) func send(_ count: Int, _ enqueue: (Int) async throws -> Void) async throws {
                    var sent = 0
                    while sent < count {
                        let end = min(count, sent &+ transactionRecords)
                        if configuration.transactionalId != nil { try producer.beginTransaction() }
                        for i in sent..<end { try await enqueue(i) }
                        if configuration.transactionalId != nil { try await producer.commitTransaction() }
                        sent = end
                    }
                }
                let start = monotonicNanoseconds()
                // Record timestamps from the monotonic send time and one wall-clock reading, so the
                // loop reads the clock once per record, as the librdkafka generator does.
                let wallStartMs = wallClockMilliseconds()
                let allocator = ByteBufferAllocator()
                // Option values copied out once: reading an @Option instantiates generic metadata
                // on every access, which cost a fifth of the loop's time.
                let (topic, recordSize, noLatency) = (load.topic, load.recordSize, load.noLatency)
                // Keys made once: record i of this producer gets key (i mod N).
                let keys = (0..<load.keys).map { ByteBuffer(string: "key-\($0)") }
                @inline(__always) func key(_ i: Int) -> ByteBuffer? { keys.isEmpty ? nil : keys[i % keys.count] }
                if noLatency && perProducerRate == 0 {
                    // The library's fire-and-forget path at full speed: one shared value, no
                    // callback; records count once close() has had them all acknowledged.
                    var value = allocator.buffer(capacity: recordSize)
                    value.writeInteger(UInt64(0))
                    value.writeBytes(padding)
                    try await send(count) { i in
                        try await producer.enqueue(ProducerRecord(topic: topic, key: key(i), value: value))
                    }
                    try await producer.close()
                    recorder.record(records: count, bytes: count * recordSize)
                    return
                }
                try await send(count) { i in
                    if perProducerRate > 0 {
                        let due = start + UInt64(Double(i) / perProducerRate * 1e9)
                        let now = monotonicNanoseconds()
                        if due > now + 1_000_000 { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
                    }
                    let sentAt = monotonicNanoseconds()
                    var value = allocator.buffer(capacity: recordSize)
                    value.writeInteger(sentAt)
                    value.writeBytes(padding)
                    let size = recordSize
                    let timestamp = wallStartMs + Int64((sentAt - start) / 1_000_000)
                    let record = ProducerRecord(topic: topic, key: key(i), value: value, timestamp: timestamp)
                    try await producer.enqueue(record) { result in
                        switch result {
                        case .success:
                            recorder.record(latencyMicros: (monotonicNanoseconds() - sentAt) / 1000, bytes: size)
                        case .failure(let error): recorder.fail(error)
                        }
                    }
                }
                try await producer.close()
            }
        }
        try await group.waitForAll()
    }
}

extension BenchCommand {
    struct Produce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Produce records and report throughput and acknowledgement latency.",
            discussion: "Example: tern bench produce -b localhost:9092 --records 1000000 --record-size 100 --acks 1"
        )
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var load: LoadOptions
        @OptionGroup var progressOptions: ProgressOptions
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() async throws {
            try await ensureTopic(self.connection, self.load.topic, partitions: self.load.partitions)
            let recorder = BenchRecorder()
            let report = BenchReport(name: "produce", json: self.json, progressInterval: self.progressOptions.seconds)
            let started = monotonicNanoseconds()
            let progress = report.progress(recorder, started: started, total: self.load.records)
            do {
                try await runProducers(self.load, self.connection, recorder: recorder)
            } catch {
                await stopProgress(progress)
                printError("tern bench: \(describe(error))")
                throw ExitCode(1)
            }
            await stopProgress(progress)
            let ok = report.finish(
                recorder,
                started: started,
                extra: [
                    ("record_size", String(self.load.recordSize)), ("acks", self.load.acks),
                    ("compression", self.load.compression), ("producers", String(self.load.producers)),
                    ("partitions", String(self.load.partitions)),
                ]
                    + (self.load.transactionalId == nil
                        ? [] : [("transaction_records", String(self.load.transactionRecords))])
            )
            if !ok { throw ExitCode(1) }
        }
    }
}
