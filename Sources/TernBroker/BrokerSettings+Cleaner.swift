import TernStorage

extension BrokerSettings {
    /// The log cleaner's broker keys (Kafka's names), with type and description.
    static let cleanerKeyCatalogue: [String: (type: LogConfig.ValueType, documentation: String)] = [
        "log.cleaner.enable": (.boolean, "Run the log cleaner (compaction of cleanup.policy=compact topics)."),
        "log.cleaner.threads": (.int, "Threads that clean logs."),
        "log.cleaner.io.max.bytes.per.second": (.double, "Cap on the cleaner threads' reads plus writes."),
        "log.cleaner.dedupe.buffer.size": (.long, "Memory of the cleaner's key maps, all threads together."),
        "log.cleaner.backoff.ms": (.long, "How long an idle cleaner thread sleeps before looking again."),
    ]

    /// The values of `cleanerKeyCatalogue`'s keys when nothing sets them.
    static var cleanerDefaultValues: [String: String] {
        let config = LogCleanerConfig()
        return [
            "log.cleaner.enable": String(config.isEnabled), "log.cleaner.threads": String(config.threadCount),
            "log.cleaner.io.max.bytes.per.second": String(config.ioMaxBytesPerSecond),
            "log.cleaner.dedupe.buffer.size": String(config.dedupeBufferBytes),
            "log.cleaner.backoff.ms": String(config.backoffMs),
        ]
    }

    /// Reads the cleaner keys of resolved properties.
    static func cleanerConfig(from merged: [String: String]) throws(Error) -> LogCleanerConfig {
        var config = LogCleanerConfig()
        if let value = merged["log.cleaner.enable"] {
            guard let enabled = Bool(value) else {
                throw Error(description: "log.cleaner.enable=\(value): must be true or false")
            }
            config.isEnabled = enabled
        }
        if let value = merged["log.cleaner.threads"] {
            guard let count = Int(value), (1...64).contains(count) else {
                throw Error(description: "log.cleaner.threads=\(value): must be in 1...64")
            }
            config.threadCount = count
        }
        if let value = merged["log.cleaner.io.max.bytes.per.second"] {
            guard let rate = Double(value), rate > 0 else {
                throw Error(description: "log.cleaner.io.max.bytes.per.second=\(value): must be positive")
            }
            config.ioMaxBytesPerSecond = rate
        }
        if let value = merged["log.cleaner.dedupe.buffer.size"] {
            guard let bytes = Int(value), bytes >= 24 * 1024 else {
                throw Error(description: "log.cleaner.dedupe.buffer.size=\(value): must be at least 24576")
            }
            config.dedupeBufferBytes = bytes
        }
        if let value = merged["log.cleaner.backoff.ms"] {
            guard let ms = Int64(value), ms >= 1 else {
                throw Error(description: "log.cleaner.backoff.ms=\(value): must be at least 1")
            }
            config.backoffMs = ms
        }
        return config
    }
}
