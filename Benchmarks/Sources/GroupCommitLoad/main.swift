// GroupCommitLoad: consumer-group offset-commit load against a running ternd (issue 5, "Scale").
//
// Modes:
//   load  G groups each send a "simple" OffsetCommit v3 (generation -1, empty member id) of
//         `--partitions` partitions every `--interval-ms`, spread evenly over the interval and over
//         `--connections` connections, pipelined, for `--duration-s`. A group has at most one commit
//         in flight: a commit that falls due while the group's previous one is unanswered is
//         skipped and counted (a timer-driven consumer cannot commit faster than it is answered).
//         Latency is send → response, per commit.
//   fill  Closed loop: each connection keeps `--window` commits in flight, cycling over the same
//         G groups, until `--records` offset records (partitions committed without error) are
//         written. Used to grow `__consumer_offsets` for the replay measurement.
//
// Prints a human summary and one machine-readable `RESULT key=value …` line.

import Dispatch
import Histogram
import NIOCore
import NIOPosix
import TernWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Options

struct Options: Sendable {
    enum Mode: String, Sendable { case load, fill }
    var mode: Mode = .load
    var host = "127.0.0.1"
    var port = 9092
    var topic = "group-bench"
    var groups = 1000
    var partitions = 10
    var intervalMs = 100
    var durationS = 60.0
    var connections = 8
    var records = 1_000_000
    var window = 32
    var groupPrefix = "bench-group-"

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.dropFirst().makeIterator()
        func value(_ flag: String) -> String {
            guard let value = iterator.next() else { fail("\(flag) needs a value") }
            return value
        }
        func int(_ flag: String) -> Int {
            guard let int = Int(value(flag)), int > 0 else { fail("\(flag) needs a positive integer") }
            return int
        }
        while let argument = iterator.next() {
            switch argument {
            case "load", "fill": options.mode = Mode(rawValue: argument)!
            case "--host": options.host = value(argument)
            case "--port": options.port = int(argument)
            case "--topic": options.topic = value(argument)
            case "--groups": options.groups = int(argument)
            case "--partitions": options.partitions = int(argument)
            case "--interval-ms": options.intervalMs = int(argument)
            case "--duration-s":
                guard let seconds = Double(value(argument)), seconds > 0 else { fail("--duration-s needs a number") }
                options.durationS = seconds
            case "--connections": options.connections = int(argument)
            case "--records": options.records = int(argument)
            case "--window": options.window = int(argument)
            case "--group-prefix": options.groupPrefix = value(argument)
            case "-h", "--help":
                print(
                    """
                    usage: GroupCommitLoad [load|fill] [--host H] [--port P] [--topic T] [--groups G]
                           [--partitions N] [--interval-ms MS] [--duration-s S] [--connections C]
                           [--records R (fill)] [--window W (fill, per connection)] [--group-prefix S]
                    """
                )
                exit(0)
            default: fail("unknown argument \(argument)")
            }
        }
        return options
    }
}

func fail(_ message: String) -> Never {
    var stderr = FileOutputStream.standardError
    print("GroupCommitLoad: \(message)", to: &stderr)
    exit(2)
}

struct FileOutputStream: TextOutputStream {
    let fd: Int32
    static var standardError: Self { Self(fd: 2) }
    mutating func write(_ string: String) {
        var string = string
        string.withUTF8 { bytes in _ = Glibc.write(self.fd, bytes.baseAddress, bytes.count) }
    }
}

func nowNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

// MARK: - Setup connection (request/response, one at a time)

/// Creates the topic over a short-lived connection; "already exists" is fine.
func createTopic(_ options: Options, group: any EventLoopGroup) async throws {
    let channel = try await ClientBootstrap(group: group)
        .connect(host: options.host, port: options.port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    try await channel.executeThenClose { inbound, outbound in
        var frame = ByteBuffer()
        CreateTopicsRequest(
            topics: [.init(name: options.topic, numPartitions: Int32(options.partitions), replicationFactor: 1)]
        ).writeFrame(to: &frame, version: 3, correlationId: 1, clientId: "group-commit-load")
        try await outbound.write(frame)
        var iterator = inbound.makeAsyncIterator()
        guard var body = try await iterator.next() else { fail("connection closed during CreateTopics") }
        _ = try ResponseHeader(from: &body, headerVersion: ApiKey.createTopics.responseHeaderVersion(for: 3))
        let response = try CreateTopicsResponse.decode(body, version: 3)
        for topic in response.topics where topic.errorCode != .none && topic.errorCode != .topicAlreadyExists {
            fail("CreateTopics \(topic.name): error \(topic.errorCode) \(topic.errorMessage ?? "")")
        }
    }
}

// MARK: - Load connection

/// What one connection measured.
struct ConnectionStats: Sendable {
    /// Send → response, microseconds, successful commits only.
    var latency = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    /// How late the client sent a commit after its due time, microseconds (client scheduling lag).
    var sendLag = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    var sent = 0
    var ok = 0
    var failed = 0
    var skipped = 0
    var okRecords = 0
    var errorCodes: [Int16: Int] = [:]
    /// Responses to commits sent in the measurement window (load mode); all of them in fill mode.
    var okInWindow = 0

    mutating func add(_ other: ConnectionStats) {
        self.latency.add(other.latency)
        self.sendLag.add(other.sendLag)
        self.sent += other.sent
        self.ok += other.ok
        self.failed += other.failed
        self.skipped += other.skipped
        self.okRecords += other.okRecords
        self.okInWindow += other.okInWindow
        self.errorCodes.merge(other.errorCodes, uniquingKeysWith: +)
    }
}

/// Drives one connection on its event loop: sends commits on schedule (load) or to keep a window
/// full (fill), matches responses to requests by correlation id (they come back in order) and
/// records latencies.
final class CommitConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct InFlight {
        var correlationId: Int32
        var slot: Int
        var sentNs: UInt64
    }

    private let options: Options
    /// Global group numbers this connection commits for (load: fixed; fill: cycled).
    private let groups: [Int]
    private let groupIds: [String]
    /// Offsets within the interval at which each slot's group commits (load), ascending.
    private let phasesNs: [UInt64]
    private var outstanding: [Bool]
    private var commitCounter: [Int64]
    private var inFlight = CircularBuffer<InFlight>(initialCapacity: 256)
    private var nextCorrelationId: Int32 = 1
    private var context: ChannelHandlerContext?
    private let done: EventLoopPromise<ConnectionStats>

    // Load schedule.
    private var startNs: UInt64 = 0
    private var endNs: UInt64 = 0
    private var nextSlot = 0
    private var round: UInt64 = 0
    private var finishedSending = false

    // Fill quota.
    private var commitsToSend = 0

    private(set) var stats = ConnectionStats()

    /// Load: when the schedule starts (shared by all connections). Fill: how many commits to send.
    private let scheduledStartNs: UInt64
    private let fillCommits: Int

    init(
        options: Options,
        groups: [Int],
        startNs: UInt64,
        fillCommits: Int,
        done: EventLoopPromise<ConnectionStats>
    ) {
        self.options = options
        self.scheduledStartNs = startNs
        self.fillCommits = fillCommits
        self.groups = groups
        self.groupIds = groups.map { "\(options.groupPrefix)\($0)" }
        let intervalNs = UInt64(options.intervalMs) * 1_000_000
        // Group g commits at g/G of the interval: all groups together are spread evenly in time.
        self.phasesNs = groups.map { UInt64($0) * intervalNs / UInt64(options.groups) }
        self.outstanding = Array(repeating: false, count: groups.count)
        self.commitCounter = Array(repeating: 0, count: groups.count)
        self.done = done
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        switch self.options.mode {
        case .load: self.startLoad()
        case .fill: self.startFill(commits: self.fillCommits)
        }
    }

    /// Load mode: begins the schedule at `scheduledStartNs` (shared by all connections).
    private func startLoad() {
        self.startNs = self.scheduledStartNs
        self.endNs = self.startNs + UInt64(self.options.durationS * 1e9)
        self.tick()
    }

    /// Fill mode: `commits` commits in total, `options.window` in flight.
    private func startFill(commits: Int) {
        self.commitsToSend = commits
        if commits == 0 {
            self.finishedSending = true
            self.done.succeed(self.stats)
            return
        }
        var slot = 0
        while self.stats.sent < min(commits, self.options.window) {
            self.send(slot: slot, nowNs: nowNs())
            slot = (slot + 1) % self.groups.count
        }
        self.context?.flush()
    }

    private func dueNs(slot: Int, round: UInt64) -> UInt64 {
        self.startNs + round * UInt64(self.options.intervalMs) * 1_000_000 + self.phasesNs[slot]
    }

    private func tick() {
        guard let context, !self.finishedSending else { return }
        let now = nowNs()
        var wrote = false
        while true {
            let due = self.dueNs(slot: self.nextSlot, round: self.round)
            if due >= self.endNs {
                self.finishedSending = true
                break
            }
            if due > now {
                let deadline = NIODeadline.uptimeNanoseconds(due)
                context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.tick() }
                break
            }
            if self.outstanding[self.nextSlot] {
                self.stats.skipped += 1
            } else {
                self.stats.sendLag.record((now - due) / 1000)
                self.send(slot: self.nextSlot, nowNs: now)
                wrote = true
            }
            self.nextSlot += 1
            if self.nextSlot == self.groups.count {
                self.nextSlot = 0
                self.round += 1
            }
        }
        if wrote { context.flush() }
        self.finishIfDone()
    }

    private func send(slot: Int, nowNs: UInt64) {
        guard let context else { return }
        self.commitCounter[slot] += 1
        let offset = self.commitCounter[slot]
        let request = OffsetCommitRequest(
            groupId: self.groupIds[slot],
            topics: [
                .init(
                    name: self.options.topic,
                    partitions: (0..<Int32(self.options.partitions)).map {
                        .init(partitionIndex: $0, committedOffset: offset)
                    }
                )
            ]
        )
        var frame = context.channel.allocator.buffer(capacity: 64 + 16 * self.options.partitions)
        let correlationId = self.nextCorrelationId
        self.nextCorrelationId &+= 1
        request.writeFrame(to: &frame, version: 3, correlationId: correlationId, clientId: "gcl")
        self.inFlight.append(InFlight(correlationId: correlationId, slot: slot, sentNs: nowNs))
        self.outstanding[slot] = true
        self.stats.sent += 1
        context.write(self.wrapOutboundOut(frame), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var body = self.unwrapInboundIn(data)
        let now = nowNs()
        do {
            let header = try ResponseHeader(
                from: &body,
                headerVersion: ApiKey.offsetCommit.responseHeaderVersion(for: 3)
            )
            guard let request = self.inFlight.popFirst(), request.correlationId == header.correlationId else {
                fail("response with correlation id \(header.correlationId) does not match the oldest request")
            }
            self.outstanding[request.slot] = false
            let response = try OffsetCommitResponse.decode(body, version: 3)
            var errors = 0
            var okRecords = 0
            for topic in response.topics {
                for partition in topic.partitions {
                    if partition.errorCode == .none {
                        okRecords += 1
                    } else {
                        errors += 1
                        self.stats.errorCodes[partition.errorCode.rawValue, default: 0] += 1
                    }
                }
            }
            self.stats.okRecords += okRecords
            if errors == 0 && okRecords == self.options.partitions {
                self.stats.ok += 1
                self.stats.latency.record((now - request.sentNs) / 1000)
                if self.options.mode == .fill || request.sentNs < self.endNs { self.stats.okInWindow += 1 }
            } else {
                self.stats.failed += 1
            }
            if self.options.mode == .fill, self.stats.sent < self.commitsToSend {
                self.send(slot: (request.slot + self.options.window) % self.groups.count, nowNs: now)
                context.flush()
            } else if self.options.mode == .fill, self.stats.sent >= self.commitsToSend {
                self.finishedSending = true
            }
        } catch {
            fail("cannot decode OffsetCommit response: \(error)")
        }
        self.finishIfDone()
    }

    private func finishIfDone() {
        if self.finishedSending && self.inFlight.isEmpty {
            self.done.succeed(self.stats)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !(self.finishedSending && self.inFlight.isEmpty) {
            fail("connection closed by the broker with \(self.inFlight.count) commits unanswered")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("connection error: \(error)")
    }
}

// MARK: - Main

func cpuSecondsOfThisProcess() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

func ms(_ microseconds: UInt64) -> String {
    let value = Double(microseconds) / 1000
    return value < 10 ? String(format2(value, 3)) : String(format2(value, 1))
}

func format2(_ value: Double, _ digits: Int) -> String {
    var multiplier = 1.0
    for _ in 0..<digits { multiplier *= 10 }
    let rounded = (value * multiplier).rounded() / multiplier
    var text = "\(rounded)"
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}

let options = Options.parse(CommandLine.arguments)
// One event-loop thread: the broker gets the rest of the machine's two cores.
let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let eventLoop = eventLoops.next()

try await createTopic(options, group: eventLoops)

let cpuBefore = cpuSecondsOfThisProcess()
let connectNs = nowNs()
// Connections are set up well before the load schedule begins.
let startNs = nowNs() + 100_000_000 + UInt64(options.connections) * 10_000_000
let totalFillCommits = (options.records + options.partitions - 1) / options.partitions
var futures: [EventLoopFuture<ConnectionStats>] = []
for connection in 0..<options.connections {
    // Groups are dealt round-robin to connections.
    let groups = Array(stride(from: connection, to: options.groups, by: options.connections))
    let fillShare = totalFillCommits / options.connections + (connection < totalFillCommits % options.connections ? 1 : 0)
    let promise = eventLoop.makePromise(of: ConnectionStats.self)
    _ = try await ClientBootstrap(group: eventLoop)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { [options] channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                try channel.pipeline.syncOperations.addHandler(
                    CommitConnection(
                        options: options,
                        groups: groups,
                        startNs: startNs,
                        fillCommits: fillShare,
                        done: promise
                    )
                )
            }
        }
        .connect(host: options.host, port: options.port)
        .get()
    futures.append(promise.futureResult)
}
if options.mode == .load, nowNs() > startNs { fail("connecting took longer than the head start given to the schedule") }

var total = ConnectionStats()
for stats in try await EventLoopFuture.whenAllSucceed(futures, on: eventLoop).get() {
    total.add(stats)
}
let endNs = nowNs()
let measuredFromNs = options.mode == .load ? startNs : connectNs
let elapsedS = Double(endNs - min(measuredFromNs, endNs)) / 1e9
let clientCpuS = cpuSecondsOfThisProcess() - cpuBefore
let latency = total.latency
let windowS = options.mode == .load ? options.durationS : elapsedS
let achieved = Double(total.okInWindow) / windowS
let target = options.mode == .load ? Double(options.groups) * 1000 / Double(options.intervalMs) : 0
let errors = total.errorCodes.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")

print(
    """
    mode \(options.mode.rawValue): \(options.groups) groups × \(options.partitions) partitions, \
    \(options.connections) connections\(options.mode == .load ? ", every \(options.intervalMs) ms for \(options.durationS) s" : ", window \(options.window)/connection")
    commits sent \(total.sent), ok \(total.ok), failed \(total.failed), skipped (previous unanswered) \(total.skipped)
    offset records written \(total.okRecords); partition errors \(errors.isEmpty ? "none" : errors)
    commits/s achieved \(format2(achieved, 0))\(options.mode == .load ? " of \(format2(target, 0)) target (\(format2(100 * achieved / target, 1)) %)" : "") over \(format2(windowS, 2)) s (elapsed incl. drain \(format2(elapsedS, 2)) s)
    commit latency ms: p50 \(ms(latency.valueAtPercentile(50))) p90 \(ms(latency.valueAtPercentile(90))) \
    p99 \(ms(latency.valueAtPercentile(99))) p99.9 \(ms(latency.valueAtPercentile(99.9))) \
    max \(ms(latency.max)) mean \(format2(latency.mean / 1000, 3)) (n=\(latency.totalCount))
    client send lag ms: p50 \(ms(total.sendLag.valueAtPercentile(50))) p99 \(ms(total.sendLag.valueAtPercentile(99))) max \(ms(total.sendLag.max))
    client CPU \(format2(clientCpuS, 2)) s = \(format2(clientCpuS / elapsedS, 3)) cores
    """
)
print(
    "RESULT mode=\(options.mode.rawValue) sent=\(total.sent) ok=\(total.ok) failed=\(total.failed) "
        + "skipped=\(total.skipped) ok_records=\(total.okRecords) achieved_per_s=\(format2(achieved, 1)) "
        + "target_per_s=\(format2(target, 0)) p50_ms=\(ms(latency.valueAtPercentile(50))) "
        + "p99_ms=\(ms(latency.valueAtPercentile(99))) p999_ms=\(ms(latency.valueAtPercentile(99.9))) "
        + "max_ms=\(ms(latency.max)) elapsed_s=\(format2(elapsedS, 3)) client_cpu_s=\(format2(clientCpuS, 2))"
)
try await eventLoops.shutdownGracefully()
