import Dispatch
import NIOCore
import TernWire
import Testing

func hex(_ buffer: ByteBuffer) -> String {
    let digits = Array("0123456789abcdef")
    return String(buffer.readableBytesView.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
}

func buffer(hex: String) -> ByteBuffer {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return ByteBuffer(bytes: bytes)
}

/// The name of a message type ("FetchRequest").
func typeName(_ type: any KafkaMessage.Type) -> String {
    String(describing: type)
}

/// Every served API's request and response type, from `KafkaRequest.servedApis`, by name.
let servedMessageNames: [String] = KafkaRequest.servedApis.flatMap {
    [$0.apiKey.name + "Request", $0.apiKey.name + "Response"]
}

/// A message of one served type with every field of every version set (see
/// tools/golden/gen_wire_samples.py), the same with nullable fields null where the version allows,
/// the sizes their encodings must have at each version according to Kafka's JSON schema, and the
/// value each version reads back.
struct MessageSample: Sendable, CustomTestStringConvertible {
    var schemaVersions: ClosedRange<Int16>
    var full: any KafkaMessage
    var nulls: @Sendable (Int16) -> any KafkaMessage
    var fullSizes: [Int]
    var nullSizes: [Int]
    /// Every error code `full` holds (any version), sorted.
    var errorCodes: [Int16]
    /// `full` as it reads back at a version: the fields of that version, the others at defaults.
    var atVersion: @Sendable (Int16) -> any KafkaMessage
    /// `nulls(version)` as it reads back at that version.
    var nullsAtVersion: @Sendable (Int16) -> any KafkaMessage

    var name: String { typeName(type(of: self.full)) }
    var testDescription: String { self.name }
}

/// One kafka-python encoding (tools/golden/gen_wire_golden.py): the message at `version`, with the
/// fields of that version only, and kafka-python's bytes for it.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    var name: String
    var version: Int16
    var hex: String
    var message: any KafkaMessage

    init(_ name: String, version: Int16, hex: String, _ message: any KafkaMessage) {
        self.name = name
        self.version = version
        self.hex = hex
        self.message = message
    }

    var testDescription: String { "\(self.name) v\(self.version)" }

    static let all: [GoldenCase] =
        apiVersions + dataApis + groupApis + adminApis + describeApis + securityApis
        + transactionApis
    static let versionsCovered: [String: ClosedRange<Int16>] =
        apiVersionsVersions
        .merging(dataApisVersions) { a, _ in a }
        .merging(groupApisVersions) { a, _ in a }
        .merging(adminApisVersions) { a, _ in a }
        .merging(describeApisVersions) { a, _ in a }
        .merging(securityApisVersions) { a, _ in a }
        .merging(transactionApisVersions) { a, _ in a }
}

/// The encode/decode checks every message gets at one version:
/// - encode → decode → encode gives the same bytes, and a second decode the same value;
/// - every strict prefix of the encoding fails to decode;
/// - one trailing byte is refused as trailing.
/// Returns the encoding.
@discardableResult
func expectStableRoundTrip<M: KafkaMessage>(
    _ message: M,
    version: Int16,
    _ context: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> ByteBuffer {
    let encoded = message.encoded(version: version)
    let decoded = try M.decode(encoded, version: version)
    let reencoded = decoded.encoded(version: version)
    #expect(reencoded == encoded, "\(context): re-encoding differs", sourceLocation: sourceLocation)
    #expect(
        try M.decode(reencoded, version: version) == decoded,
        "\(context): second decode differs",
        sourceLocation: sourceLocation
    )

    var prefixFailures = 0
    for length in 0..<encoded.readableBytes {
        let prefix = encoded.getSlice(at: encoded.readerIndex, length: length)!
        if (try? M.decode(prefix, version: version)) != nil {
            prefixFailures += 1
            Issue.record(
                "\(context): the \(length)-byte prefix of \(encoded.readableBytes) decodes",
                sourceLocation: sourceLocation
            )
            if prefixFailures > 3 { break }
        }
    }

    var withTrailingByte = encoded
    withTrailingByte.writeInteger(UInt8(0))
    do {
        _ = try M.decode(withTrailingByte, version: version)
        Issue.record("\(context): a trailing byte is accepted", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == .trailingBytes, "\(context)", sourceLocation: sourceLocation)
    }
    return encoded
}

/// The tags of every unknown tagged field in a value, nested structs included (by reflection).
func unknownTags(of value: Any) -> [UInt32] {
    if let field = value as? TaggedField { return [field.tag] }
    return Mirror(reflecting: value).children.flatMap { unknownTags(of: $0.value) }
}

/// CPU-bound test work, one job at a time off Swift's cooperative pool. Swift Testing runs tests on
/// that pool, one thread per core (two on CI): a test computing there for seconds stalls every other
/// test in the process, in-process brokers included, and the timeouts they wait under. On one
/// serial queue such work takes at most one core, however many test arguments submit it.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        cpuBoundTestWork.async { continuation.resume(with: Result { try work() }) }
    }
}

private let cpuBoundTestWork = DispatchQueue(label: "tern.tests.cpu-bound")
