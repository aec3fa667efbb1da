/// Names of a partition's segment files: the segment's base offset as 20 zero-padded decimal
/// digits (enough for any non-negative Int64) plus the role's extension, as Kafka names them,
/// e.g. `00000000000000012345.log`. Sorting the names sorts the segments.
public struct SegmentFileName: Hashable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case log
        case offsetIndex = "index"
        case timeIndex = "timeindex"
        /// The aborted-transaction index (`TransactionIndex`), present only when it has entries.
        case txnIndex = "txnindex"
    }

    public var baseOffset: Int64
    public var kind: Kind

    public init(baseOffset: Int64, kind: Kind) {
        precondition(baseOffset >= 0, "offsets are non-negative")
        self.baseOffset = baseOffset
        self.kind = kind
    }

    /// Parses a file name; nil for anything that is not exactly 20 digits, a dot and a known role.
    public init?(parsing name: String) {
        let parts = name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 20, parts[0].utf8.allSatisfy({ (48...57).contains($0) }),
            let baseOffset = Int64(parts[0]), let kind = Kind(rawValue: String(parts[1]))
        else { return nil }
        self.init(baseOffset: baseOffset, kind: kind)
    }

    public var fileName: String {
        let digits = String(self.baseOffset)
        return String(repeating: "0", count: 20 - digits.count) + digits + "." + self.kind.rawValue
    }
}
