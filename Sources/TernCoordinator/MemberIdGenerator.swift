/// Makes the unique part of new member ids, which the coordinator forms as `clientId-<suffix>` as
/// Kafka does. Injected so tests get predictable ids.
public protocol MemberIdSuffixGenerator: Sendable {
    mutating func nextSuffix() -> String
}

/// Random (version 4) UUIDs in their usual text form, as Kafka's `UUID.randomUUID().toString()`.
public struct RandomUUIDSuffixGenerator: MemberIdSuffixGenerator {
    public init() {}

    public mutating func nextSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // IETF variant
        let hex = bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }
}
