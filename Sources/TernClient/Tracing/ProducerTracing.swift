import Instrumentation
import Logging
import TernRecords
import Tracing

/// The "send" span of one record, from `send`/`enqueue` to its acknowledgement.
struct SendTrace: Sendable {
    let span: any Span
    /// `trace_id`/`span_id` of the record's `traceparent` for log lines about it.
    let logMetadata: Logger.Metadata

    /// Starts the span (a child of the caller's current context) and writes the span's context into
    /// the record's headers through the active instrument, unless the caller set a `traceparent`
    /// of their own, which is kept as it is.
    static func start(_ record: inout ProducerRecord, tracing: ClientTracer, clientID: String) -> SendTrace {
        let span = tracing.tracer.startSpan(
            "send \(record.topic)",
            context: ServiceContext.current ?? .topLevel,
            ofKind: .producer
        )
        span.updateAttributes { attributes in
            attributes[MessagingAttributes.system] = "kafka"
            attributes[MessagingAttributes.destinationName] = record.topic
            attributes[MessagingAttributes.operationType] = "send"
            attributes[MessagingAttributes.operationName] = "send"
            attributes[MessagingAttributes.clientID] = clientID
            if let key = ClientTracing.keyAttribute(record.key) { attributes[MessagingAttributes.messageKey] = key }
            if let partition = record.partition { attributes[MessagingAttributes.partitionID] = "\(partition)" }
            if let value = record.value { attributes[MessagingAttributes.bodySize] = value.readableBytes }
        }
        if !record.headers.contains(where: { $0.key == TraceParent.headerName }) {
            tracing.instrument.inject(span.context, into: &record.headers, using: RecordHeadersInjector())
        }
        return SendTrace(span: span, logMetadata: ClientTracing.logMetadata(record.headers))
    }

    func finish(_ result: Result<RecordMetadata, any Error>, logger: Logger) {
        switch result {
        case .success(let written):
            self.span.updateAttributes { attributes in
                attributes[MessagingAttributes.partitionID] = "\(written.partition)"
                // acks=0 gets no offset.
                if written.offset >= 0 { attributes[MessagingAttributes.offset] = written.offset }
            }
            logger.trace(
                "record delivered",
                metadata: self.logMetadata.merging(
                    ["topic": "\(written.topic)", "partition": "\(written.partition)", "offset": "\(written.offset)"],
                    uniquingKeysWith: { $1 }
                )
            )
        case .failure(let error):
            self.span.recordError(error)
            self.span.setStatus(SpanStatus(code: .error))
            logger.debug(
                "record not delivered",
                metadata: self.logMetadata.merging(["error": "\(error)"], uniquingKeysWith: { $1 })
            )
        }
        self.span.end()
    }
}
