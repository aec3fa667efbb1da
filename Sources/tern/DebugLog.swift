import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The client library's log, on stderr (never stdout, which carries message data). Warnings and
/// errors only, unless `-d` asks for everything: then each request the client sends and each
/// response's error codes, in kcat's `%7|time|FACILITY|name| message` shape.
struct StderrLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let millis = String(now.tv_nsec / 1_000_000)
        let time = "\(now.tv_sec).\(String(repeating: "0", count: 3 - millis.count))\(millis)"
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var line = "%\(Self.syslogLevel(event.level))|\(time)|\(event.level.rawValue.uppercased())|\(self.label)| "
        line += event.message.description
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        printError(line)
    }

    /// kcat prints librdkafka's syslog levels: 7 debug, 6 info, 4 warning, 3 error.
    static func syslogLevel(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Routes every logger of the process to stderr; `debug` logs everything (`-d`).
    static func bootstrap(debug: Bool) {
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, logLevel: debug ? .trace : .warning) }
    }
}
