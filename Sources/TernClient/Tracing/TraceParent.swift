/// A W3C Trace Context `traceparent` header value (https://www.w3.org/TR/trace-context/#traceparent-header),
/// parsed by the spec's rules:
///
///     00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
///     version-trace id (16 bytes)-parent span id (8 bytes)-flags
///
/// Lowercase hex only; an all-zero trace or span id is invalid; version `ff` is invalid. Version 00
/// is exactly 55 characters. A later version is read by its first four fields, and may carry more
/// after a `-` (so a newer producer's context still propagates).
///
/// Tern does not generate these (the bootstrapped tracer does, e.g. swift-otel's W3C propagator);
/// the client parses them to put the trace id in its log lines and to leave a caller's own header
/// alone.
public struct TraceParent: Hashable, Sendable {
    /// 32 lowercase hex digits.
    public var traceID: String
    /// 16 lowercase hex digits: the span that wrote the record.
    public var spanID: String
    public var flags: UInt8

    public var isSampled: Bool { self.flags & 1 == 1 }

    /// The header's name in Kafka record headers, as OpenTelemetry's Kafka instrumentations write it.
    public static let headerName = "traceparent"
    /// The companion vendor-specific header, passed along verbatim.
    public static let stateHeaderName = "tracestate"

    /// nil when `value` is not a valid `traceparent`.
    public init?(_ value: some StringProtocol) {
        let bytes = Array(value.utf8)
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
            bytes[52] == UInt8(ascii: "-"),
            let version = Self.hexByte(bytes[0], bytes[1]), version != 0xff,
            let flags = Self.hexByte(bytes[53], bytes[54])
        else { return nil }
        // Version 00 has exactly four fields; a later one may add fields after a dash.
        if version == 0 {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55 {
            guard bytes[55] == UInt8(ascii: "-") else { return nil }
        }
        let traceID = bytes[3..<35]
        let spanID = bytes[36..<52]
        guard traceID.allSatisfy(Self.isLowerHex), spanID.allSatisfy(Self.isLowerHex),
            traceID.contains(where: { $0 != UInt8(ascii: "0") }),
            spanID.contains(where: { $0 != UInt8(ascii: "0") })
        else { return nil }
        self.traceID = String(decoding: traceID, as: UTF8.self)
        self.spanID = String(decoding: spanID, as: UTF8.self)
        self.flags = flags
    }

    /// The version-00 form.
    public var headerValue: String {
        let hexDigits = Array("0123456789abcdef")
        let flags = String([hexDigits[Int(self.flags >> 4)], hexDigits[Int(self.flags & 0xf)]])
        return "00-\(self.traceID)-\(self.spanID)-\(flags)"
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    private static func hexByte(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard let high = hexValue(high), let low = hexValue(low) else { return nil }
        return high << 4 | low
    }
}
