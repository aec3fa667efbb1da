import Instrumentation
import Logging
import TernRecords
import Tracing

/// The "process" span of one delivered record.
enum ProcessTrace {
    /// Extracts the producer's context from the record's headers and starts the span with it as
    /// parent (so producer and consumer share one trace, as OpenTelemetry's kafka-python
    /// instrumentation does) and as a link (what semconv asks of consumer spans, and what stays
    /// meaningful when a backend splits traces per service). Without a context in the headers the
    /// parent is the iterating task's current context. The span's context goes on the record for
    /// spans of the caller's processing.
    static func start(
        _ record: inout ConsumerRecord,
        tracing: ClientTracer,
        groupID: String?,
        clientID: String,
        logger: Logger
    ) -> any Span {
        let instrument = tracing.instrument
        var producer = ServiceContext.topLevel
        instrument.extract(record.headers, into: &producer, using: RecordHeadersExtractor())
        var parent = ServiceContext.current ?? .topLevel
        if !producer.isEmpty {
            instrument.extract(record.headers, into: &parent, using: RecordHeadersExtractor())
        }
        let span = tracing.tracer.startSpan("process \(record.topic)", context: parent, ofKind: .consumer)
        if !producer.isEmpty { span.addLink(SpanLink(context: producer, attributes: [:])) }
        span.updateAttributes { attributes in
            attributes[MessagingAttributes.system] = "kafka"
            attributes[MessagingAttributes.destinationName] = record.topic
            attributes[MessagingAttributes.partitionID] = "\(record.partition)"
            attributes[MessagingAttributes.offset] = record.offset
            attributes[MessagingAttributes.operationType] = "process"
            attributes[MessagingAttributes.operationName] = "process"
            attributes[MessagingAttributes.clientID] = clientID
            if let groupID { attributes[MessagingAttributes.consumerGroup] = groupID }
            if let key = ClientTracing.keyAttribute(record.key) { attributes[MessagingAttributes.messageKey] = key }
            if let value = record.value { attributes[MessagingAttributes.bodySize] = value.readableBytes }
        }
        record.traceContext = span.context
        logger.trace(
            "record delivered",
            metadata: ClientTracing.logMetadata(record.headers).merging(
                ["topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)"],
                uniquingKeysWith: { $1 }
            )
        )
        return span
    }
}

/// The span of one offset commit.
enum CommitTrace {
    static func start(
        _ offsets: [TopicPartition: Int64],
        tracing: ClientTracer,
        groupID: String,
        clientID: String
    ) -> any Span {
        let topics = Set(offsets.keys.map(\.topic))
        // semconv names a span by its destination when there is one.
        let name = topics.count == 1 ? "commit \(topics.first!)" : "commit"
        let span = tracing.tracer.startSpan(name, context: ServiceContext.current ?? .topLevel, ofKind: .client)
        span.updateAttributes { attributes in
            attributes[MessagingAttributes.system] = "kafka"
            attributes[MessagingAttributes.operationType] = "settle"
            attributes[MessagingAttributes.operationName] = "commit"
            attributes[MessagingAttributes.consumerGroup] = groupID
            attributes[MessagingAttributes.clientID] = clientID
            attributes[MessagingAttributes.batchCount] = offsets.count
            if topics.count == 1 { attributes[MessagingAttributes.destinationName] = topics.first! }
        }
        return span
    }
}
