/// The text `tern bench` draws while it runs and the table it ends with: a bar with percent,
/// rate and ETA on a terminal, a plain line per interval otherwise (logs, CI).
public struct BenchProgress: Sendable, Equatable {
    public var name: String
    /// Records done so far.
    public var done: Int
    /// Records the run will take, when known.
    public var total: Int?
    public var bytes: Int
    public var seconds: Double
    /// The 99th percentile latency so far, in milliseconds, when the run measures latency.
    public var p99Milliseconds: Double?

    public init(name: String, done: Int, total: Int?, bytes: Int, seconds: Double, p99Milliseconds: Double? = nil) {
        self.name = name
        self.done = done
        self.total = total
        self.bytes = bytes
        self.seconds = seconds
        self.p99Milliseconds = p99Milliseconds
    }

    public var recordsPerSecond: Double { self.seconds > 0 ? Double(self.done) / self.seconds : 0 }
    public var megabytesPerSecond: Double { self.seconds > 0 ? Double(self.bytes) / self.seconds / 1e6 : 0 }

    /// Done / total, clamped to 0...1; nil without a total.
    public var fraction: Double? {
        guard let total, total > 0 else { return nil }
        return min(1, max(0, Double(self.done) / Double(total)))
    }

    /// Seconds left at the average rate so far; nil without a total or before any record.
    public var etaSeconds: Double? {
        guard let total, self.done > 0, self.recordsPerSecond > 0 else { return nil }
        return Double(max(0, total - self.done)) / self.recordsPerSecond
    }

    /// `[██████░░░░]`, `width` cells between the brackets.
    public static func bar(_ fraction: Double, width: Int) -> String {
        let filled = min(width, max(0, Int((fraction * Double(width)).rounded(.down))))
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]"
    }

    /// `45s`, `3m07s`, `2h05m`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded(.up))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + twoDigits(s % 60) + "s" }
        return "\(s / 3600)h" + twoDigits(s / 60 % 60) + "m"
    }

    /// The line redrawn in place on a terminal (the caller writes `\r` and clears the line).
    public var terminalLine: String {
        var parts = [self.name]
        if let fraction {
            parts.append(Self.bar(fraction, width: 24))
            parts.append(Self.decimal(fraction * 100, 1) + "%")
            parts.append("\(self.done)/\(self.total!)")
        } else {
            parts.append("\(self.done) records")
        }
        parts.append(Self.decimal(self.recordsPerSecond, 0) + " rec/s")
        parts.append(Self.decimal(self.megabytesPerSecond, 2) + " MB/s")
        if let p99 = self.p99Milliseconds { parts.append("p99 " + Self.decimal(p99, 2) + " ms") }
        if let eta = self.etaSeconds { parts.append("ETA " + Self.duration(eta)) }
        return parts.joined(separator: "  ")
    }

    /// One line per interval when stderr is not a terminal.
    public var plainLine: String {
        var line = "\(self.name): \(self.done)"
        if let total, let fraction {
            line += "/\(total) records (\(Self.decimal(fraction * 100, 1))%)"
        } else {
            line += " records"
        }
        line +=
            ", \(Self.decimal(self.recordsPerSecond, 0)) records/s, \(Self.decimal(self.megabytesPerSecond, 2)) MB/s"
        if let p99 = self.p99Milliseconds { line += ", p99 \(Self.decimal(p99, 2)) ms" }
        if let eta = self.etaSeconds { line += ", ETA \(Self.duration(eta))" }
        return line
    }

    /// The closing summary: one aligned `label  value` row per field, under a title.
    public static func table(title: String, rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        var out = title + "\n"
        for (label, value) in rows {
            out += "  " + label + String(repeating: " ", count: width - label.count) + "  " + value + "\n"
        }
        return out
    }

    /// Human labels for the summary's `key=value` names.
    public static func label(_ key: String) -> String {
        switch key {
        case "records_per_sec": "records/s"
        case "mb_per_sec": "MB/s"
        case "p50_ms": "latency p50 (ms)"
        case "p95_ms": "latency p95 (ms)"
        case "p99_ms": "latency p99 (ms)"
        case "p99_9_ms": "latency p99.9 (ms)"
        case "max_ms": "latency max (ms)"
        case "record_size": "record size"
        default: key
        }
    }

    static func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// Fixed decimals, without Foundation.
    static func decimal(_ value: Double, _ places: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int64(scaled / scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
        if places > 0 {
            let fraction = String(Int64(scaled) - whole * Int64(scale))
            text += "." + String(repeating: "0", count: places - fraction.count) + fraction
        }
        return text
    }
}
