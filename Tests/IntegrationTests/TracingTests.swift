import Foundation
import InMemoryTracing
import Logging
import NIOCore
import TernClient
import TernTestKit
import Testing
import Tracing

/// InMemoryTracer's spans with W3C trace context on the wire: its ids are 32 and 16 lowercase hex
/// digits and it injects and extracts `traceparent` and `tracestate` as OpenTelemetry's W3C
/// propagator does (swift-otel's, in an application). Bound per test with `withTracer`, so tests
/// need no process-wide `InstrumentationSystem.bootstrap` and run in parallel with the others.
struct W3CTestTracer: Tracer {
    let recorded = InMemoryTracer(
        idGenerator: .init(nextTraceID: { randomHex(bytes: 16) }, nextSpanID: { randomHex(bytes: 8) })
    )

    func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> ServiceContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> InMemorySpan {
        self.recorded.startSpan(
            operationName,
            context: context(),
            ofKind: kind,
            at: instant(),
            function: function,
            file: fileID,
            line: line
        )
    }

    func forceFlush() {}

    func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext,
        into carrier: inout Carrier,
        using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
        injector.inject("tern=test", forKey: "tracestate", into: &carrier)
    }

    func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier,
        into context: inout ServiceContext,
        using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let value = extractor.extract(key: "traceparent", from: carrier), let parent = TraceParent(value) else {
            return
        }
        context.inMemorySpanContext = InMemorySpanContext(
            traceID: parent.traceID,
            spanID: parent.spanID,
            parentSpanID: nil
        )
    }

    func finished(_ name: String) -> [FinishedInMemorySpan] {
        self.recorded.finishedSpans.filter { $0.operationName == name }
    }
}

private func randomHex(bytes: Int) -> String {
    (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
}

private func header(_ headers: [RecordHeader], _ key: String) -> [String] {
    headers.filter { $0.key == key }.map { $0.value.map { String(buffer: $0) } ?? "" }
}

private func string(_ attributes: SpanAttributes, _ key: String) -> String? {
    if case .string(let value) = attributes.get(key) { return value }
    return nil
}

private func int(_ attributes: SpanAttributes, _ key: String) -> Int64? {
    if case .int64(let value) = attributes.get(key) { return value }
    return nil
}

@Suite struct TracingTests {
    let callerTrace = "0af7651916cd43dd8448eb211c80319c"
    let callerSpan = "b7ad6b7169203331"

    private func consume(
        _ broker: TestBroker,
        topic: String,
        group: String? = nil,
        commit: Bool = false
    ) async throws -> [ConsumerRecord] {
        var configuration = ConsumerConfiguration(
            bootstrapServers: broker.bootstrapServers,
            mode: .assign([TopicPartition(topic: topic, partition: 0): .earliest])
        )
        configuration.groupId = group
        configuration.enableAutoCommit = false
        configuration.stopAtEnd = true
        configuration.fetchMaxWait = .milliseconds(10)
        let consumer = try Consumer(configuration: configuration)
        var records: [ConsumerRecord] = []
        do {
            for try await record in consumer { records.append(record) }
            if commit { try await consumer.commit() }
        } catch {
            try? await consumer.close()
            throw error
        }
        try await consumer.close()
        return records
    }

    /// Send spans, the context in the record's headers, process spans that continue and link to
    /// it, a caller's own `traceparent` kept, a failed send, and a commit span, through a real
    /// broker.
    @Test func producerAndConsumerSpansThroughTheBroker() async throws {
        try await withTestBroker { broker in
            try await broker.createTopic("traced", partitions: 1)
            let tracer = W3CTestTracer()
            let lines = CapturedLines()
            var logger = Logger(label: "tern.producer", factory: { _ in CapturingLogHandler(lines: lines) })
            logger.logLevel = .debug
            var producerConfiguration = ProducerConfiguration(bootstrapServers: broker.bootstrapServers)
            producerConfiguration.linger = .zero
            let callerParent = "00-\(self.callerTrace)-\(self.callerSpan)-01"
            // Clients take the tracer active when they are created.
            let (first, delivered, failure, records) = try await withTracer(tracer) {
                let producer = try Producer(configuration: producerConfiguration, logger: logger)
                let first = try await producer.send(ProducerRecord(topic: "traced", key: "k1", value: "one"))
                let delivered = AsyncStream.makeStream(of: RecordMetadata.self)
                try await producer.enqueue(
                    ProducerRecord(topic: "traced", key: [0xff, 0xfe], value: [1])
                ) { result in
                    if case .success(let written) = result { delivered.continuation.yield(written) }
                    delivered.continuation.finish()
                }
                try await producer.send(
                    ProducerRecord(
                        topic: "traced",
                        value: "caller's",
                        headers: [RecordHeader(key: "traceparent", value: ByteBuffer(string: callerParent))]
                    )
                )
                let failure = await #expect(throws: TernClientError.self) {
                    try await producer.send(ProducerRecord(topic: "traced", partition: 7, value: "nowhere"))
                }
                var second: RecordMetadata?
                for await written in delivered.stream { second = written }
                try await producer.close()
                let records = try await self.consume(broker, topic: "traced", group: "tracers", commit: true)
                return (first, second, failure, records)
            }
            #expect(first.offset == 0)
            #expect(delivered?.offset == 1)
            try #require(records.count == 3)

            // Send spans: one per record, ended on delivery, with semconv attributes.
            let sends = tracer.finished("send traced")
            try #require(sends.count == 4, "\(tracer.recorded.finishedSpans.map(\.operationName))")
            let firstSend = try #require(sends.first { int($0.attributes, "messaging.kafka.offset") == 0 })
            #expect(firstSend.kind == .producer)
            #expect(firstSend.parentSpanID == nil)
            #expect(string(firstSend.attributes, "messaging.system") == "kafka")
            #expect(string(firstSend.attributes, "messaging.destination.name") == "traced")
            #expect(string(firstSend.attributes, "messaging.operation.type") == "send")
            #expect(string(firstSend.attributes, "messaging.kafka.message.key") == "k1")
            #expect(string(firstSend.attributes, "messaging.destination.partition.id") == "0")
            #expect(int(firstSend.attributes, "messaging.message.body.size") == 3)
            let secondSend = try #require(sends.first { int($0.attributes, "messaging.kafka.offset") == 1 })
            // A key that is not UTF-8 has no string form and is left out.
            #expect(secondSend.attributes.get("messaging.kafka.message.key") == nil)

            // The record carries the send span's context, once, as a valid W3C traceparent.
            #expect(header(records[0].headers, "traceparent") == ["00-\(firstSend.traceID)-\(firstSend.spanID)-01"])
            #expect(records[0].headers.traceParent?.traceID == firstSend.traceID)
            #expect(records[0].headers.traceParent?.spanID == firstSend.spanID)
            #expect(header(records[0].headers, "tracestate") == ["tern=test"])
            #expect(records[1].headers.traceParent?.spanID == secondSend.spanID)
            // The caller's own traceparent is kept as it was, and not duplicated.
            #expect(header(records[2].headers, "traceparent") == [callerParent])
            #expect(header(records[2].headers, "tracestate").isEmpty)

            // The failed send's span records the error.
            #expect(failure != nil)
            let failedSend = try #require(sends.first { $0.errors.count == 1 })
            #expect(failedSend.status?.code == .error)
            #expect(failedSend.attributes.get("messaging.kafka.offset") == nil)
            // The log line about it names its trace.
            let failedLog = lines.all.filter { $0.contains("record not delivered") }
            #expect(failedLog.count == 1, "\(lines.all)")
            #expect(failedLog.first?.contains("trace_id=\(failedSend.traceID)") == true, "\(failedLog)")

            // Process spans: children of the producer's span and linked to it.
            let processes = tracer.finished("process traced")
            try #require(processes.count == 3, "\(tracer.recorded.finishedSpans.map(\.operationName))")
            let firstProcess = try #require(processes.first { int($0.attributes, "messaging.kafka.offset") == 0 })
            #expect(firstProcess.kind == .consumer)
            #expect(firstProcess.traceID == firstSend.traceID)
            #expect(firstProcess.parentSpanID == firstSend.spanID)
            #expect(firstProcess.links.count == 1)
            #expect(firstProcess.links.first?.context.inMemorySpanContext?.traceID == firstSend.traceID)
            #expect(firstProcess.links.first?.context.inMemorySpanContext?.spanID == firstSend.spanID)
            #expect(string(firstProcess.attributes, "messaging.operation.type") == "process")
            #expect(string(firstProcess.attributes, "messaging.destination.name") == "traced")
            #expect(string(firstProcess.attributes, "messaging.destination.partition.id") == "0")
            #expect(string(firstProcess.attributes, "messaging.consumer.group.name") == "tracers")
            #expect(string(firstProcess.attributes, "messaging.kafka.message.key") == "k1")
            #expect(records[0].traceContext?.inMemorySpanContext?.spanID == firstProcess.spanID)
            let callerProcess = try #require(processes.first { int($0.attributes, "messaging.kafka.offset") == 2 })
            #expect(callerProcess.traceID == self.callerTrace)
            #expect(callerProcess.parentSpanID == self.callerSpan)
            // Every process span ended: the last when the iterator reached the end.
            #expect(tracer.recorded.activeSpans.isEmpty)

            let commits = tracer.finished("commit traced")
            try #require(commits.count == 1, "\(tracer.recorded.finishedSpans.map(\.operationName))")
            #expect(commits[0].kind == .client)
            #expect(string(commits[0].attributes, "messaging.operation.type") == "settle")
            #expect(string(commits[0].attributes, "messaging.operation.name") == "commit")
            #expect(string(commits[0].attributes, "messaging.consumer.group.name") == "tracers")
            #expect(commits[0].errors.isEmpty)
        }
    }

    /// Without a tracer when the client was created, it adds no headers and starts nothing, even
    /// when a tracer is bound later.
    @Test func noTracerNoHeaders() async throws {
        try await withTestBroker { broker in
            var configuration = ProducerConfiguration(bootstrapServers: broker.bootstrapServers)
            configuration.linger = .zero
            let producer = try Producer(configuration: configuration)
            let tracer = W3CTestTracer()
            try await withTracer(tracer) {
                _ = try await producer.send(ProducerRecord(topic: "plain", value: "v"))
            }
            try await producer.close()
            let records = try await self.consume(broker, topic: "plain")
            #expect(records.count == 1)
            #expect(records.first?.headers.isEmpty == true)
            #expect(records.first?.traceContext == nil)
            #expect(tracer.recorded.finishedSpans.isEmpty)
        }
    }

    /// A kafka-python producer instrumented by OpenTelemetry writes a record through Tern; Tern's
    /// consumer continues its trace. Then a record Tern's producer wrote is read by OpenTelemetry's
    /// propagator to the send span's ids.
    @Test func interoperatesWithOpenTelemetryPython() async throws {
        try await withTestBroker { broker in
            try await broker.createTopic("from-python", partitions: 1)
            let produced = try await runPython("tracing.py", ["produce", broker.bootstrapServer, "from-python"])
            let python = try #require(
                try JSONSerialization.jsonObject(with: Data(produced.output.utf8)) as? [String: Any],
                "\(produced.output)"
            )
            let pythonTrace = try #require(python["trace_id"] as? String)
            let pythonSpan = try #require(python["span_id"] as? String)
            let tracer = W3CTestTracer()
            let records = try await withTracer(tracer) { try await self.consume(broker, topic: "from-python") }
            try #require(records.count == 1)
            #expect(records[0].headers.traceParent?.traceID == pythonTrace)
            let process = try #require(tracer.finished("process from-python").first)
            #expect(process.traceID == pythonTrace)
            #expect(process.parentSpanID == pythonSpan)
            #expect(process.links.first?.context.inMemorySpanContext?.spanID == pythonSpan)

            try await broker.createTopic("from-swift", partitions: 1)
            var configuration = ProducerConfiguration(bootstrapServers: broker.bootstrapServers)
            configuration.linger = .zero
            try await withTracer(tracer) {
                let producer = try Producer(configuration: configuration)
                _ = try await producer.send(ProducerRecord(topic: "from-swift", key: "k", value: "to python"))
                try await producer.close()
            }
            let send = try #require(tracer.finished("send from-swift").first)
            let extracted = try await runPython("tracing.py", ["extract", broker.bootstrapServer, "from-swift"])
            let otel = try #require(
                try JSONSerialization.jsonObject(with: Data(extracted.output.utf8)) as? [String: Any],
                "\(extracted.output)"
            )
            #expect(otel["ok"] as? Bool == true, "\(extracted.output)")
            #expect(otel["trace_id"] as? String == send.traceID)
            #expect(otel["span_id"] as? String == send.spanID)
            #expect(otel["sampled"] as? Bool == true)
            #expect(otel["is_remote"] as? Bool == true)
            #expect(otel["trace_state"] as? String == "tern=test")
        }
    }
}
