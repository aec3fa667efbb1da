/// Writes metrics in the Prometheus text exposition format (version 0.0.4), for the families whose
/// values are read at scrape time (partition offsets, group lag, process figures) rather than
/// counted by swift-metrics.
///
/// A family is declared once with `family(_:type:help:)`, then its samples follow; the format
/// requires a family's samples to be contiguous and its name to appear in one `# TYPE` line only.
public struct PrometheusTextWriter: Sendable {
    public enum MetricType: String, Sendable {
        case counter, gauge
    }

    public private(set) var text = ""

    public init() {}

    /// Starts a family: `# HELP` and `# TYPE` lines.
    public mutating func family(_ name: String, type: MetricType, help: String) {
        precondition(Self.isValidName(name), "invalid metric name \(name)")
        self.text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }

    /// One sample of the family declared last.
    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Double) {
        self.text += name
        if !labels.isEmpty {
            self.text += "{"
            var first = true
            for (label, labelValue) in labels {
                if !first { self.text += "," }
                first = false
                self.text += label + "=\"" + Self.escapeLabelValue(labelValue) + "\""
            }
            self.text += "}"
        }
        self.text += " " + Self.format(value) + "\n"
    }

    public mutating func sample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Int64) {
        self.sample(name, labels, Double(value))
    }

    public mutating func sample(_ name: String, _ value: Double) {
        self.sample(name, [:], value)
    }

    public mutating func sample(_ name: String, _ value: Int64) {
        self.sample(name, [:], Double(value))
    }

    /// Integers print without a fraction (up to 2^53, beyond which a double is not exact anyway);
    /// infinities and NaN as Prometheus spells them.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return String(value)
    }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return value }
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Help text escapes backslash and line feed.
    static func escapeHelp(_ help: String) -> String {
        var escaped = ""
        for character in help {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == 0x5F || byte == 0x3A
        }
    }
}
