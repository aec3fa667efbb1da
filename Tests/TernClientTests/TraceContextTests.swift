import NIOCore
import TernClient
import TernRecords
import Testing
import Tracing

@Suite struct TraceParentTests {
    static let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let span = "00f067aa0ba902b7"

    /// The spec's examples and rules (https://www.w3.org/TR/trace-context/#traceparent-header).
    @Test(arguments: [
        ("00-\(trace)-\(span)-01", true, 0x01),
        ("00-\(trace)-\(span)-00", true, 0x00),
        // Unknown flag bits are kept.
        ("00-\(trace)-\(span)-09", true, 0x09),
        // A later version: its first four fields, extra fields after a dash allowed.
        ("01-\(trace)-\(span)-01", true, 0x01),
        ("cc-\(trace)-\(span)-01-what-the-future-holds", true, 0x01),
        // Version 00 has exactly four fields.
        ("00-\(trace)-\(span)-01-extra", false, 0),
        ("cc-\(trace)-\(span)-01x", false, 0),
        // Version ff is forbidden.
        ("ff-\(trace)-\(span)-01", false, 0),
        // All-zero ids are invalid.
        ("00-00000000000000000000000000000000-\(span)-01", false, 0),
        ("00-\(trace)-0000000000000000-01", false, 0),
        // Uppercase hex, non-hex, wrong lengths and separators.
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-\(span)-01", false, 0),
        ("00-\(trace)-00F067AA0BA902B7-01", false, 0),
        ("0G-\(trace)-\(span)-01", false, 0),
        ("00-\(trace)-\(span)-0g", false, 0),
        ("00-\(trace.dropLast())-\(span)-01", false, 0),
        ("00-\(trace)-\(span.dropLast())-01", false, 0),
        ("00_\(trace)-\(span)-01", false, 0),
        ("00-\(trace)_\(span)-01", false, 0),
        ("00-\(trace)-\(span)_01", false, 0),
        ("", false, 0),
        ("00-\(trace)-\(span)-", false, 0),
    ])
    func parse(value: String, valid: Bool, flags: Int) {
        let parsed = TraceParent(value)
        #expect((parsed != nil) == valid, "\(value)")
        if let parsed {
            #expect(parsed.traceID == Self.trace)
            #expect(parsed.spanID == Self.span)
            #expect(parsed.flags == UInt8(flags))
            #expect(parsed.isSampled == (flags & 1 == 1))
        }
    }

    @Test func headerValueIsVersion00() throws {
        let parsed = try #require(TraceParent("cc-\(Self.trace)-\(Self.span)-0b-more"))
        #expect(parsed.headerValue == "00-\(Self.trace)-\(Self.span)-0b")
        #expect(TraceParent(parsed.headerValue) == parsed)
    }
}

@Suite struct RecordHeaderPropagationTests {
    @Test func injectorWritesOneHeaderPerKeyAndReplacesItsOwn() {
        var headers = [RecordHeader(key: "app", value: ByteBuffer(string: "x"))]
        let injector = RecordHeadersInjector()
        injector.inject("first", forKey: "traceparent", into: &headers)
        injector.inject("state", forKey: "tracestate", into: &headers)
        injector.inject("second", forKey: "traceparent", into: &headers)
        #expect(headers.map(\.key) == ["app", "traceparent", "tracestate"])
        #expect(headers.map { $0.value.map { String(buffer: $0) } } == ["x", "second", "state"])
    }

    @Test func extractorReadsTheFirstHeaderWithTheKey() {
        let headers = [
            RecordHeader(key: "traceparent", value: nil),
            RecordHeader(key: "tracestate", value: ByteBuffer(string: "a=1")),
            RecordHeader(key: "tracestate", value: ByteBuffer(string: "b=2")),
        ]
        let extractor = RecordHeadersExtractor()
        #expect(extractor.extract(key: "tracestate", from: headers) == "a=1")
        #expect(extractor.extract(key: "traceparent", from: headers) == nil)
        #expect(extractor.extract(key: "baggage", from: headers) == nil)
    }

    @Test func recordTraceParentNeedsAValidHeader() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(
            [RecordHeader(key: "traceparent", value: ByteBuffer(string: valid))].traceParent?.spanID
                == "00f067aa0ba902b7"
        )
        #expect([RecordHeader(key: "traceparent", value: ByteBuffer(string: "garbage"))].traceParent == nil)
        #expect([RecordHeader]().traceParent == nil)
    }
}
