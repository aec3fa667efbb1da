import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TernClient
import Testing

/// Failure handling as the public API shows it: the error kind a caller can switch on, and a
/// one-line message.
@Suite(.serialized) struct TernClientErrorTests {
    /// Runs `body` and returns the `TernClientError` it throws (failing the test if it throws
    /// something else or nothing) and how long that took.
    static func clientError(
        _ body: () async throws -> Void
    ) async -> (error: TernClientError?, elapsed: Duration) {
        let start = ContinuousClock.now
        do {
            try await body()
            Issue.record("expected a TernClientError, got success")
            return (nil, ContinuousClock.now - start)
        } catch let error as TernClientError {
            return (error, ContinuousClock.now - start)
        } catch {
            Issue.record("expected a TernClientError, got \(error)")
            return (nil, ContinuousClock.now - start)
        }
    }

    /// A loopback server that answers anything it receives with `reply` (or never answers, if nil).
    static func fakeServer(reply: String?) async throws -> any Channel {
        final class Answer: ChannelInboundHandler, Sendable {
            typealias InboundIn = ByteBuffer
            typealias OutboundOut = ByteBuffer
            let reply: String?
            init(reply: String?) { self.reply = reply }
            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                guard let reply = self.reply else { return }
                context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
            }
        }
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Answer(reply: reply))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    @Test func unreachableBootstrapFailsQuicklyNamingTheAddress() async throws {
        let port = try await freePort()
        // Timeouts far longer than a refusal takes: failing before them shows the client gave up
        // on the refusal itself, without a wall-clock bound a loaded CI machine could miss.
        var configuration = ClientConfiguration(bootstrapServers: ["127.0.0.1:\(port)"])
        configuration.connectTimeout = .seconds(120)
        configuration.requestTimeout = .seconds(120)
        let admin = try Admin(configuration: configuration)
        let (error, elapsed) = await Self.clientError { _ = try await admin.metadata() }
        await admin.close()
        let unwrapped = try #require(error)
        #expect(unwrapped.kind == .unreachable)
        #expect(unwrapped.message.contains("127.0.0.1:\(port)"), "\(unwrapped)")
        #expect(unwrapped.message.lowercased().contains("refused"), "\(unwrapped)")
        #expect(!unwrapped.description.contains("\n"), "\(unwrapped)")
        #expect(elapsed < .seconds(120), "a refused connection waited for a timeout: \(elapsed)")
    }

    @Test func anHTTPServerIsNotKafka() async throws {
        let server = try await Self.fakeServer(reply: "HTTP/1.1 400 Bad Request\r\n\r\n")
        let port = server.localAddress!.port!
        var configuration = ClientConfiguration(bootstrapServers: ["127.0.0.1:\(port)"])
        // A long timeout: the answer's bytes, not a timeout, must end the attempt.
        configuration.requestTimeout = .seconds(120)
        let admin = try Admin(configuration: configuration)
        let (error, elapsed) = await Self.clientError { _ = try await admin.metadata() }
        await admin.close()
        try await server.close()
        let unwrapped = try #require(error)
        #expect(unwrapped.kind == .notKafka, "\(unwrapped)")
        #expect(!unwrapped.description.contains("\n"), "\(unwrapped)")
        #expect(elapsed < .seconds(120), "waited for the request timeout: \(elapsed)")
    }

    @Test func aSilentServerTimesOut() async throws {
        let server = try await Self.fakeServer(reply: nil)
        let port = server.localAddress!.port!
        var configuration = ClientConfiguration(bootstrapServers: ["127.0.0.1:\(port)"])
        configuration.requestTimeout = .milliseconds(500)
        let admin = try Admin(configuration: configuration)
        let (error, elapsed) = await Self.clientError { _ = try await admin.metadata() }
        await admin.close()
        try await server.close()
        let unwrapped = try #require(error)
        #expect(unwrapped.kind == .timeout, "\(unwrapped)")
        #expect(unwrapped.message.contains("127.0.0.1:\(port)"), "\(unwrapped)")
        #expect(!unwrapped.description.contains("\n"), "\(unwrapped)")
        // A few retries of a 500 ms request at most; not the 30 s default (bounded below it so a
        // loaded machine's scheduling delays cannot fail the test).
        #expect(elapsed < .seconds(25), "took \(elapsed)")
    }

    @Test func producerErrors() async throws {
        try await withTernd { ternd in
            let admin = try Admin(configuration: ClientConfiguration(bootstrapServers: [ternd.bootstrap]))
            try await admin.createTopic("two", partitions: 2)
            await admin.close()
            var configuration = ProducerConfiguration(bootstrapServers: [ternd.bootstrap])
            configuration.deliveryTimeout = .seconds(10)
            configuration.messageMaxBytes = 10_000
            let producer = try Producer(configuration: configuration)

            let (missing, _) = await Self.clientError {
                try await producer.send(ProducerRecord(topic: "two", partition: 7, value: "x"))
            }
            #expect(missing?.kind == .unknownTopicOrPartition, "\(String(describing: missing))")

            let (tooLarge, _) = await Self.clientError {
                try await producer.send(
                    ProducerRecord(topic: "two", partition: 0, key: nil, value: [UInt8](repeating: 1, count: 20_000))
                )
            }
            #expect(tooLarge?.kind == .kafka(.messageTooLarge), "\(String(describing: tooLarge))")

            // The producer still works after both failures.
            let written = try await producer.send(ProducerRecord(topic: "two", partition: 1, value: "fine"))
            #expect(written.partition == 1 && written.offset == 0)

            try await producer.close()
            let (closed, _) = await Self.clientError {
                try await producer.send(ProducerRecord(topic: "two", partition: 0, value: "late"))
            }
            #expect(closed?.kind == .closed, "\(String(describing: closed))")
        }
    }

    /// Nothing to read from a topic that does not exist: the consumer ends with an error rather
    /// than waiting forever.
    @Test func consumerOfAnUnknownTopicFails() async throws {
        try await withTernd { ternd in
            var configuration = ConsumerConfiguration(
                bootstrapServers: [ternd.bootstrap],
                mode: .assign([TopicPartition(topic: "nowhere", partition: 0): .earliest])
            )
            configuration.client.requestTimeout = .seconds(5)
            let consumer = try Consumer(configuration: configuration)
            let reading = Task {
                await Self.clientError { for try await _ in consumer {} }
            }
            let outcome = try await withThrowingTaskGroup(of: (error: TernClientError?, elapsed: Duration)?.self) {
                group in
                group.addTask { await reading.value }
                group.addTask {
                    try await Task.sleep(for: .seconds(20))
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
            try await consumer.close()
            if outcome == nil { _ = await reading.value }
            let unwrapped = try #require(outcome?.error, "the consumer waited 20 s without an error")
            #expect(unwrapped.kind == .unknownTopicOrPartition, "\(unwrapped)")
            #expect(unwrapped.message.contains("nowhere"), "\(unwrapped)")
        }
    }

    /// The broker stops while a consumer waits for records and comes back on the same port with
    /// the same data: the consumer reconnects and reads on where it was.
    @Test func consumerReconnectsAfterABrokerRestart() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        let port = try await freePort()
        var ternd = try await TerndProcess.start(dataDirectory: dataDirectory, port: port)
        var producerConfiguration = ProducerConfiguration(bootstrapServers: [ternd.bootstrap])
        producerConfiguration.client.reconnectBackoffMax = .milliseconds(200)
        let producer = try Producer(configuration: producerConfiguration)
        for index in 0..<100 {
            try await producer.enqueue(ProducerRecord(topic: "comeback", partition: 0, value: "\(index)"))
        }
        try await producer.flush()

        var configuration = ConsumerConfiguration(
            bootstrapServers: [ternd.bootstrap],
            mode: .assign([TopicPartition(topic: "comeback", partition: 0): .earliest])
        )
        configuration.client.reconnectBackoffMax = .milliseconds(200)
        configuration.fetchMaxWait = .milliseconds(100)
        let consumer = try Consumer(configuration: configuration)
        let offsets = Mutex<[Int64]>([])
        let reading = Task {
            for try await record in consumer {
                let count = offsets.withLock {
                    $0.append(record.offset)
                    return $0.count
                }
                if count == 200 { return }
            }
        }
        try await TernGroupConsumerTests.waitUntil("the first 100 records") { offsets.withLock { $0.count } == 100 }

        try await ternd.stop()
        try await Task.sleep(for: .milliseconds(500))
        ternd = try await TerndProcess.start(dataDirectory: dataDirectory, port: port)
        for index in 100..<200 {
            try await producer.enqueue(ProducerRecord(topic: "comeback", partition: 0, value: "\(index)"))
        }
        try await producer.flush()
        try await TernGroupConsumerTests.waitUntil("all 200 records after the restart") {
            offsets.withLock { $0.count } == 200
        }
        try await reading.value
        try await consumer.close()
        try await producer.close()
        #expect(offsets.withLock { $0 } == Array(0..<200))
        try await ternd.stop()
    }
}
