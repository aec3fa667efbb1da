import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The line formats `ternd --log-format` offers.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `time=… level=info logger=ternd msg="listening" address=…`, one event per line.
    case logfmt
    /// One JSON object per line (JSON Lines): `{"time":"…","level":"info","logger":"ternd","msg":"…",…}`.
    case json
}

/// A swift-log handler that writes one structured line per event to standard error.
///
/// Each line goes out in a single `write(2)`, so lines from different threads never interleave.
/// Metadata keys come after the fixed fields, sorted, so the same event always prints the same way.
public struct StructuredLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat
    private let output: @Sendable (String) -> Void

    public init(
        label: String,
        format: LogFormat,
        level: Logger.Level = .info,
        output: @escaping @Sendable (String) -> Void = StructuredLogHandler.writeToStandardError
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let metadata = event.metadata { merged.merge(metadata) { $1 } }
        self.output(
            Self.render(
                format: self.format,
                time: Self.timestamp(),
                level: event.level,
                label: self.label,
                message: "\(event.message)",
                metadata: merged
            )
        )
    }

    /// One line, newline included.
    static func render(
        format: LogFormat,
        time: String,
        level: Logger.Level,
        label: String,
        message: String,
        metadata: Logger.Metadata
    ) -> String {
        let fields =
            [("time", time), ("level", level.rawValue), ("logger", label), ("msg", message)]
            + metadata.keys.sorted().map { ($0, Self.flatten(metadata[$0]!)) }
        switch format {
        case .logfmt:
            return fields.map { $0.0.filter { !$0.isWhitespace && $0 != "=" } + "=" + Self.logfmtValue($0.1) }
                .joined(separator: " ") + "\n"
        case .json:
            return "{" + fields.map { "\"\(JSON.escape($0.0))\":\"\(JSON.escape($0.1))\"" }.joined(separator: ",")
                + "}\n"
        }
    }

    private static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let array): "[" + array.map(Self.flatten).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            "{" + dictionary.keys.sorted().map { "\($0)=\(Self.flatten(dictionary[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// Bare when it needs no quoting; otherwise quoted with `\\`, `"`, newline and tab escaped.
    static func logfmtValue(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 }
        guard needsQuotes else { return value }
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    /// RFC 3339 UTC with milliseconds: 2026-11-29T09:45:39.123Z.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2) + "."
            + pad(Int32(now.tv_nsec / 1_000_000), 3) + "Z"
    }

    @Sendable public static func writeToStandardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
