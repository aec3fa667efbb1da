import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TernClient
import TernRecords
import TernWire
import Testing

/// Many concurrent connections against one `ternd` process: producers and consumers that behave,
/// and clients that pipeline fetches and never read their socket. Checks that the slow ones are
/// disconnected by `socket.write.timeout.ms`, the healthy ones are all served without an error,
/// the broker's memory stays bounded, and its descriptors return to where they were.
///
/// CI runs a short version; tools/soak.sh runs the 1,000 connections for 10 minutes
/// (`TERN_SOAK_CONNECTIONS`, `TERN_SOAK_SECONDS`) and prints the figures docs/benchmarks.md keeps.
@Suite struct SoakTests {
    static let environment = ProcessInfo.processInfo.environment
    static let connections = environment["TERN_SOAK_CONNECTIONS"].flatMap(Int.init) ?? 150
    static let seconds = environment["TERN_SOAK_SECONDS"].flatMap(Int.init) ?? 8
    static let writeTimeoutMs = environment["TERN_SOAK_WRITE_TIMEOUT_MS"].flatMap(Int.init) ?? 1_500

    @Test func manyConnectionsSomeNeverReading() async throws {
        let ternd = try await TerndProcess.start(environment: [
            "TERN_SOCKET_WRITE_TIMEOUT_MS": "\(Self.writeTimeoutMs)",
            // The run's own clients, not the idle timeout, decide when connections end.
            "TERN_CONNECTIONS_MAX_IDLE_MS": "-1",
            "TERN_LOG_LEVEL": "warning",
        ])
        let pid = ternd.process.processIdentifier
        let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
        try await admin.createTopic("soak", partitions: 8)
        try await admin.createTopic("bulk", partitions: 1)
        // What the never-reading clients ask for: 16 MiB of 64 KiB records.
        try await withRawConnection(port: ternd.port) { connection in
            let value = String(repeating: "b", count: 64 << 10)
            for _ in 0..<32 {
                let answer = try await produce(
                    connection,
                    topic: "bulk",
                    records: try recordBatch(values: Array(repeating: value, count: 8))
                )
                #expect(answer.errorCode == .none)
            }
        }
        let baselineDescriptors = try Self.openDescriptors(pid)
        let baselineRSS = try Self.residentBytes(pid)
        let brokerCPUBefore = try Self.cpuSeconds(pid)
        let ownCPUBefore = Self.ownCPUSeconds()
        let started = ContinuousClock.now

        let slowCount = Self.connections / 5
        let producerCount = (Self.connections - slowCount) / 2
        let consumerCount = Self.connections - slowCount - producerCount
        let stats = SoakStatistics()

        let sampler = Task {
            while !Task.isCancelled {
                if let rss = try? Self.residentBytes(pid) { stats.sampleRSS(rss) }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        var slowChannels: [any Channel] = []
        for index in 0..<slowCount {
            slowChannels.append(try await Self.openNeverReadingClient(port: ternd.port, correlationBase: Int32(index)))
        }
        // From here: opening the never-reading clients can take seconds on a loaded machine.
        let deadline = ContinuousClock.now + .seconds(Self.seconds)
        try await withThrowingTaskGroup { group in
            for index in 0..<producerCount {
                group.addTask { try await Self.produceUntil(deadline, port: ternd.port, index: index, stats: stats) }
            }
            for index in 0..<consumerCount {
                group.addTask { try await Self.consumeUntil(deadline, port: ternd.port, index: index, stats: stats) }
            }
            try await group.waitForAll()
        }
        sampler.cancel()
        let elapsedSeconds = Double((ContinuousClock.now - started).components.seconds)
        let brokerCores = (try Self.cpuSeconds(pid) - brokerCPUBefore) / elapsedSeconds
        let generatorCores = (Self.ownCPUSeconds() - ownCPUBefore) / elapsedSeconds
        for channel in slowChannels { try? await channel.close() }

        let slowClosed = try await scrape(ternd)["tern_connections_closed_slow_total"] ?? 0
        // Every connection is closed now; the broker's descriptors return to the baseline.
        var descriptors = try Self.openDescriptors(pid)
        let settle = ContinuousClock.now + .seconds(20)
        while descriptors > baselineDescriptors, ContinuousClock.now < settle {
            try await Task.sleep(for: .milliseconds(100))
            descriptors = try Self.openDescriptors(pid)
        }
        let summary = stats.summary()
        let peakRSS = stats.peakRSS
        print(
            """
            SoakTests: \(Self.connections) connections (\(producerCount) producing, \(consumerCount) consuming, \
            \(slowCount) never reading) for \(Self.seconds) s; produce requests \(summary.count), \
            latency p50 \(summary.p50Ms) ms, p99 \(summary.p99Ms) ms, p99.9 \(summary.p999Ms) ms, max \(summary.maxMs) ms; \
            fetches \(stats.fetches.load(ordering: .relaxed)); slow connections closed \(Int(slowClosed)); \
            broker RSS \(baselineRSS >> 20) MiB before, peak \(peakRSS >> 20) MiB; \
            descriptors \(baselineDescriptors) before, \(descriptors) after; \
            CPU in cores: broker \((brokerCores * 100).rounded() / 100), load generator (this process) \
            \((generatorCores * 100).rounded() / 100)
            """
        )
        #expect(stats.failures.load(ordering: .relaxed) == 0, "healthy clients saw errors: \(stats.firstFailure)")
        #expect(summary.count > producerCount, "the producers hardly ran")
        #expect(Int(slowClosed) == slowCount, "never-reading clients closed by the broker: \(slowClosed)")
        #expect(descriptors <= baselineDescriptors, "descriptors \(baselineDescriptors) before, \(descriptors) after")
        // Until it is closed, a never-reading client holds up to three replies (≤ 1 MiB each here):
        // one in NIO's buffer, one waiting to be handed to it, one that filled the reply budget.
        // Allow 4 MiB for each, plus 256 MiB for everything else (the healthy clients' buffers,
        // and what glibc's arenas keep after frees).
        let bound = baselineRSS + Int64(slowCount) * (4 << 20) + (256 << 20)
        #expect(peakRSS <= bound, "broker RSS peaked at \(peakRSS >> 20) MiB, bound \(bound >> 20) MiB")
        try await ternd.stop()
    }

    /// Produces 10 records of 100 bytes (acks=1) every 100 ms until `deadline`, timing each.
    private static func produceUntil(
        _ deadline: ContinuousClock.Instant,
        port: Int,
        index: Int,
        stats: SoakStatistics
    ) async throws {
        try await withRawConnection(port: port) { connection in
            let values = (0..<10).map { _ in String(repeating: "p", count: 100) }
            // Spread the first requests over one period so they do not arrive in lockstep.
            try await Task.sleep(for: .milliseconds(index * 7 % 100))
            while ContinuousClock.now < deadline {
                let started = ContinuousClock.now
                do {
                    let answer = try await produce(
                        connection,
                        topic: "soak",
                        partition: Int32(index % 8),
                        records: try recordBatch(values: values)
                    )
                    if answer.errorCode != .none { stats.fail("produce: \(answer.errorCode)") }
                } catch {
                    stats.fail("produce: \(error)")
                    return
                }
                let elapsed = ContinuousClock.now - started
                stats.recordProduce(elapsed)
                try await Task.sleep(for: max(.milliseconds(100) - elapsed, .milliseconds(1)))
            }
        }
    }

    /// Long-polls one partition of `soak` from its end, following what the producers write.
    private static func consumeUntil(
        _ deadline: ContinuousClock.Instant,
        port: Int,
        index: Int,
        stats: SoakStatistics
    ) async throws {
        try await withRawConnection(port: port) { connection in
            let partition = Int32(index % 8)
            var offset: Int64 = 0
            while ContinuousClock.now < deadline {
                do {
                    let response = try await connection.send(
                        FetchRequest(
                            maxWaitMs: 500,
                            minBytes: 1,
                            topics: [
                                .init(
                                    topic: "soak",
                                    partitions: [
                                        .init(partition: partition, fetchOffset: offset, partitionMaxBytes: 256 << 10)
                                    ]
                                )
                            ]
                        ),
                        version: 11
                    )
                    let answer = try #require(response.responses.first?.partitions.first)
                    guard answer.errorCode == .none else {
                        stats.fail("fetch: \(answer.errorCode)")
                        return
                    }
                    if let records = answer.records, records.readableBytes > 0 {
                        for batch in try RecordBatch.split(records).batches { offset = max(offset, batch.nextOffset) }
                    }
                    stats.fetches.add(1, ordering: .relaxed)
                } catch {
                    stats.fail("fetch: \(error)")
                    return
                }
            }
        }
    }

    /// A client that sends 64 fetches of 1 MiB from `bulk` and never reads its socket (a small
    /// receive buffer, reading off).
    private static func openNeverReadingClient(port: Int, correlationBase: Int32) async throws -> any Channel {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .connect(host: "127.0.0.1", port: port).get()
        var frames = ByteBuffer()
        for id in Int32(0)..<64 {
            FetchRequest(
                maxWaitMs: 0,
                minBytes: 0,
                maxBytes: 1 << 20,
                topics: [
                    .init(topic: "bulk", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])
                ]
            ).writeFrame(to: &frames, version: 11, correlationId: correlationBase * 64 + id, clientId: "never-reads")
        }
        try await channel.writeAndFlush(frames)
        return channel
    }

    static func openDescriptors(_ pid: Int32) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }

    /// User + system CPU seconds of process `pid` (/proc/PID/stat, in clock ticks).
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
        guard let close = stat.lastIndex(of: ")") else { throw TestFailure("bad /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw TestFailure("bad /proc/\(pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func residentBytes(_ pid: Int32) throws -> Int64 {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int64($0) })
        else { throw TestFailure("no VmRSS in /proc/\(pid)/status") }
        return kib << 10
    }
}

/// What the soak's healthy clients saw.
final class SoakStatistics: Sendable {
    private let produceLatencies = Mutex<[Duration]>([])
    private let peak = Mutex<Int64>(0)
    private let failure = Mutex<String?>(nil)
    let failures = Atomic<Int>(0)
    let fetches = Atomic<Int>(0)

    func recordProduce(_ latency: Duration) { self.produceLatencies.withLock { $0.append(latency) } }
    func sampleRSS(_ bytes: Int64) { self.peak.withLock { $0 = max($0, bytes) } }
    var peakRSS: Int64 { self.peak.withLock { $0 } }
    var firstFailure: String { self.failure.withLock { $0 ?? "none" } }

    func fail(_ description: String) {
        self.failures.add(1, ordering: .relaxed)
        self.failure.withLock { if $0 == nil { $0 = description } }
    }

    func summary() -> (count: Int, p50Ms: Double, p99Ms: Double, p999Ms: Double, maxMs: Double) {
        let sorted = self.produceLatencies.withLock { $0 }.sorted()
        guard !sorted.isEmpty else { return (0, 0, 0, 0, 0) }
        func milliseconds(_ quantile: Double) -> Double {
            let duration = sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))]
            let (seconds, attoseconds) = duration.components
            return (Double(seconds) * 1_000 + Double(attoseconds) / 1e15 * 1).rounded(toPlaces: 2)
        }
        return (sorted.count, milliseconds(0.5), milliseconds(0.99), milliseconds(0.999), milliseconds(1.0))
    }
}

extension Double {
    fileprivate func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
