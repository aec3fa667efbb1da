/// How a consumer prints messages: kcat's `-f` format (or the one it builds from `-K`/`-D`) or
/// its `-J` JSON envelope, byte for byte as kcat 1.7.1 writes them (`format.c`, `json.c`).
public struct OutputFormat: Sendable {
    public enum Token: Sendable, Equatable {
        case literal([UInt8])
        case payload, payloadLength, payloadLengthBinary
        case key, keyLength
        case timestamp, headers, topic, partition, offset
        /// Tern's extra `%I`: the timestamp as ISO-8601 UTC with milliseconds.
        case isoTimestamp
    }

    public enum Style: Sendable, Equatable {
        case tokens([Token])
        /// The JSON envelope followed by `separator` (kcat: the `-D` delimiter).
        case json(separator: [UInt8], binary: JSONEnvelope.Binary)
    }

    public var style: Style
    /// `-Z`: print empty or NULL keys and values as `NULL` (kcat's "nullstr").
    public var nullString: [UInt8]?
    public var keyPack: PackFormat?
    public var valuePack: PackFormat?

    public init(style: Style, nullString: [UInt8]? = nil, keyPack: PackFormat? = nil, valuePack: PackFormat? = nil) {
        self.style = style
        self.nullString = nullString
        self.keyPack = keyPack
        self.valuePack = valuePack
    }

    /// Parses a `-f` format string like kcat's `fmt_parse`.
    public static func parse(_ format: String) throws(CLIError) -> [Token] {
        let bytes = Array(format.utf8)
        var tokens: [Token] = []
        var i = 0
        while i < bytes.count {
            guard let percent = bytes[i...].firstIndex(of: UInt8(ascii: "%")) else {
                tokens.append(.literal(Escapes.formatLiteral(bytes[i...])))
                break
            }
            if percent > i { tokens.append(.literal(Escapes.formatLiteral(bytes[i..<percent]))) }
            guard percent + 1 < bytes.count else { throw CLIError("Empty formatter") }
            let letter = bytes[percent + 1]
            switch letter {
            case UInt8(ascii: "o"): tokens.append(.offset)
            case UInt8(ascii: "k"): tokens.append(.key)
            case UInt8(ascii: "K"): tokens.append(.keyLength)
            case UInt8(ascii: "s"): tokens.append(.payload)
            case UInt8(ascii: "S"): tokens.append(.payloadLength)
            case UInt8(ascii: "R"): tokens.append(.payloadLengthBinary)
            case UInt8(ascii: "t"): tokens.append(.topic)
            case UInt8(ascii: "p"): tokens.append(.partition)
            case UInt8(ascii: "T"): tokens.append(.timestamp)
            case UInt8(ascii: "h"): tokens.append(.headers)
            case UInt8(ascii: "I"): tokens.append(.isoTimestamp)
            case UInt8(ascii: "%"): tokens.append(.literal([UInt8(ascii: "%")]))
            default:
                let shown = String(decoding: bytes[(percent + 1)...].prefix(1), as: UTF8.self)
                throw CLIError("Unsupported formatter: %\(shown)")
            }
            i = percent + 2
        }
        // Empty literals (a lone "\x00") print nothing; dropping them keeps output identical.
        return tokens.filter { $0 != .literal([]) }
    }

    /// The format kcat builds when `-f` is not given: `%k<keydelim>%s<delim>` or `%s<delim>`.
    public static func delimited(keyDelimiter: [UInt8]?, delimiter: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        if let keyDelimiter {
            tokens.append(.key)
            if !keyDelimiter.isEmpty { tokens.append(.literal(keyDelimiter)) }
        }
        tokens.append(.payload)
        if !delimiter.isEmpty { tokens.append(.literal(delimiter)) }
        return tokens
    }

    /// Appends one formatted message to `out`. On a deserializer failure the partial output stays
    /// and the error says which message failed, as kcat does.
    public func write(_ record: CLIRecord, into out: inout [UInt8]) throws(CLIError) {
        switch self.style {
        case .json(let separator, let binary):
            JSONEnvelope.write(record, binary: binary, into: &out)
            out += separator
        case .tokens(let tokens):
            for token in tokens {
                do {
                    try self.write(token, record, into: &out)
                } catch {
                    throw CLIError(
                        "Failed to format message in \(record.topic) [\(record.partition)] at offset \(record.offset): \(error.message)"
                    )
                }
            }
        }
    }

    private func write(_ token: Token, _ record: CLIRecord, into out: inout [UInt8]) throws(CLIError) {
        switch token {
        case .literal(let bytes): out += bytes
        case .offset: out += Array(String(record.offset).utf8)
        case .partition: out += Array(String(record.partition).utf8)
        case .topic: out += Array(record.topic.utf8)
        case .timestamp: out += Array(String(record.timestamp ?? -1).utf8)
        case .isoTimestamp:
            if let ts = record.timestamp { out += Array(ISOTime.format(milliseconds: ts).utf8) }
        case .key:
            // kcat tests the length, not NULL-ness: an empty key prints as the null string too.
            if let key = record.key, !key.isEmpty {
                if let pack = self.keyPack { try pack.unpack(key, what: "key", into: &out) } else { out += key }
            } else if let null = self.nullString {
                out += null
            }
        case .payload:
            if let value = record.value, !value.isEmpty {
                if let pack = self.valuePack { try pack.unpack(value, what: "value", into: &out) } else { out += value }
            } else if let null = self.nullString {
                out += null
            }
        case .keyLength: out += Array(String(record.key.map { $0.count } ?? -1).utf8)
        case .payloadLength: out += Array(String(record.value.map { $0.count } ?? -1).utf8)
        case .payloadLengthBinary:
            let length = UInt32(bitPattern: Int32(record.value.map { $0.count } ?? -1))
            out += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        case .headers:
            for (index, header) in record.headers.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(header.key.utf8)
                out.append(UInt8(ascii: "="))
                if let value = header.value {
                    out += value
                } else {
                    out += Array("NULL".utf8)
                }
            }
        }
    }
}

/// ISO-8601 UTC timestamps without Foundation (days-from-civil, Howard Hinnant's algorithm).
public enum ISOTime {
    public static func format(milliseconds: Int64) -> String {
        let millis = ((milliseconds % 1000) + 1000) % 1000
        let seconds = (milliseconds - millis) / 1000
        let secondOfDay = ((seconds % 86_400) + 86_400) % 86_400
        let days = (seconds - secondOfDay) / 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }
}
