public import Instrumentation
import Logging
import NIOCore
public import TernRecords
import Tracing

/// Writes a context into Kafka record headers, as OpenTelemetry's Kafka instrumentations do: one
/// header per key (`traceparent`, `tracestate`, …), UTF-8 values. A key already present is
/// replaced, so a retried inject does not duplicate headers.
public struct RecordHeadersInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout [RecordHeader]) {
        let header = RecordHeader(key: key, value: ByteBuffer(string: value))
        if let index = carrier.firstIndex(where: { $0.key == key }) {
            carrier[index] = header
        } else {
            carrier.append(header)
        }
    }
}

/// Reads a context from Kafka record headers: the first header with the key (Kafka allows
/// repeats; OpenTelemetry's Python and Java extractors also take the first).
public struct RecordHeadersExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: [RecordHeader]) -> String? {
        guard let header = carrier.first(where: { $0.key == key }), let value = header.value else { return nil }
        return String(buffer: value)
    }
}

/// The W3C `traceparent` a record carries, if any and valid.
extension Array where Element == RecordHeader {
    public var traceParent: TraceParent? {
        guard let value = RecordHeadersExtractor().extract(key: TraceParent.headerName, from: self) else {
            return nil
        }
        return TraceParent(value)
    }
}

/// Span names and attributes from OpenTelemetry's messaging semantic conventions (v1.27+, where
/// `messaging.operation.type` replaced `messaging.operation` and "send" replaced "publish").
enum MessagingAttributes {
    static let system = "messaging.system"
    static let destinationName = "messaging.destination.name"
    static let partitionID = "messaging.destination.partition.id"
    static let operationType = "messaging.operation.type"
    static let operationName = "messaging.operation.name"
    static let messageKey = "messaging.kafka.message.key"
    static let offset = "messaging.kafka.offset"
    static let consumerGroup = "messaging.consumer.group.name"
    static let clientID = "messaging.client.id"
    static let bodySize = "messaging.message.body.size"
    static let batchCount = "messaging.batch.message_count"
}

/// The tracer and instrument a producer or consumer uses, taken when it is created.
///
/// Once per client rather than per record: looking them up (a task-local read, a reader lock and
/// a dynamic cast) on every `send` cost the no-tracer producer about a quarter of its throughput
/// (docs/benchmarks.md), and a stored nil costs nothing. An application bootstraps before it
/// creates clients; tests create them inside `withTracer`.
struct ClientTracer: Sendable {
    let tracer: any Tracer
    /// What injects and extracts: the bootstrapped (or task-local) instrument, which may be a
    /// `MultiplexInstrument` with more propagators than the tracer.
    let instrument: any Instrument

    /// The active tracer, or nil when none is bootstrapped or bound with `withTracer`.
    static func active() -> ClientTracer? {
        let instrument = InstrumentationSystem.instrument
        if instrument is NoOpInstrument { return nil }
        let tracer = InstrumentationSystem.tracer
        if tracer is NoOpTracer { return nil }
        return ClientTracer(tracer: tracer, instrument: instrument)
    }
}

enum ClientTracing {

    /// A record key as the attribute carries it: UTF-8 text when it is valid UTF-8. Kafka keys are
    /// bytes, and semconv leaves out a key with no unambiguous string form.
    static func keyAttribute(_ key: ByteBuffer?) -> String? {
        guard let key else { return nil }
        return key.withUnsafeReadableBytes { bytes in
            String(validating: bytes, as: UTF8.self)
        }
    }

    /// Logger metadata naming the record's trace, when it carries a valid `traceparent`.
    static func logMetadata(_ headers: [RecordHeader]) -> Logger.Metadata {
        guard let parent = headers.traceParent else { return [:] }
        return ["trace_id": "\(parent.traceID)", "span_id": "\(parent.spanID)"]
    }
}
