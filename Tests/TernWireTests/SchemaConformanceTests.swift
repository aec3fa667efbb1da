import Foundation
import NIOCore
import TernWire
import Testing

/// Kafka's JSON message schemas (../shared/reference/kafka-messages from the package root), read
/// here independently of tools/codegen: the generated types must have exactly the fields of each
/// version, in the schema's encoding.
enum KafkaSchemas {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/reference/kafka-messages").standardizedFileURL

    static var available: Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory)
            && isDirectory.boolValue
    }

    /// Removes `//` comments outside string literals.
    static func strippingComments(_ text: String) -> String {
        var output: [Character] = []
        var inString = false
        var escaped = false
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if inString {
                output.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
            } else if character == "\"" {
                inString = true
                output.append(character)
            } else if character == "/", index + 1 < characters.count, characters[index + 1] == "/" {
                while index < characters.count, characters[index] != "\n" { index += 1 }
                continue
            } else {
                output.append(character)
            }
            index += 1
        }
        return String(output)
    }

    static func load(_ name: String) throws -> SchemaMessage {
        let text = try String(contentsOf: directory.appendingPathComponent("\(name).json"), encoding: .utf8)
        let json = try JSONSerialization.jsonObject(with: Data(strippingComments(text).utf8))
        return try SchemaMessage(json: try #require(json as? [String: Any]))
    }
}

/// A version range of a schema ("3+", "0-7", "5", "none").
struct SchemaVersions {
    var low: Int
    var high: Int

    static let none = SchemaVersions(low: 1, high: 0)

    init(low: Int, high: Int) {
        self.low = low
        self.high = high
    }

    init(_ text: String?) {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty, text != "none" else {
            self = .none
            return
        }
        if text.hasSuffix("+") {
            self.init(low: Int(text.dropLast())!, high: Int(Int16.max))
        } else if let dash = text.firstIndex(of: "-") {
            self.init(low: Int(text[..<dash])!, high: Int(text[text.index(after: dash)...])!)
        } else {
            self.init(low: Int(text)!, high: Int(text)!)
        }
    }

    func contains(_ version: Int16) -> Bool { Int(version) >= self.low && Int(version) <= self.high }
}

struct SchemaField {
    var name: String
    var type: String
    var versions: SchemaVersions
    var nullableVersions: SchemaVersions
    var taggedVersions: SchemaVersions
    var tag: Int?
    var defaultValue: String
    var fields: [SchemaField]?

    init(json: [String: Any]) {
        self.name = json["name"] as? String ?? ""
        self.type = (json["type"] as? String ?? "").trimmingCharacters(in: .whitespaces)
        self.versions = SchemaVersions(json["versions"] as? String)
        self.nullableVersions = SchemaVersions(json["nullableVersions"] as? String)
        self.taggedVersions = SchemaVersions(json["taggedVersions"] as? String)
        self.tag = json["tag"] as? Int
        switch json["default"] {
        case let bool as Bool: self.defaultValue = bool ? "true" : "false"
        case let value?: self.defaultValue = "\(value)"
        case nil: self.defaultValue = ""
        }
        self.fields = (json["fields"] as? [[String: Any]])?.map(SchemaField.init(json:))
    }

    var isArray: Bool { self.type.hasPrefix("[]") }
    var elementType: String { self.isArray ? String(self.type.dropFirst(2)) : self.type }
    var isStruct: Bool { self.elementType.first?.isUppercase == true }
    func isNullable(_ version: Int16) -> Bool { self.nullableVersions.contains(version) || self.type == "records" }
    func isTagged(_ version: Int16) -> Bool { self.taggedVersions.contains(version) }
    var defaultIsNull: Bool { self.defaultValue == "null" || (self.type == "records") }

    /// The schema default of an integer field.
    var integerDefault: Int64 {
        let text = self.defaultValue
        if text.lowercased().hasPrefix("0x") { return Int64(text.dropFirst(2), radix: 16) ?? 0 }
        return Int64(text) ?? 0
    }
}

struct SchemaMessage {
    var name: String
    var validVersions: SchemaVersions
    var flexibleVersions: SchemaVersions
    var fields: [SchemaField]
    var commonStructs: [String: [SchemaField]]

    init(json: [String: Any]) throws {
        self.name = json["name"] as? String ?? ""
        self.validVersions = SchemaVersions(json["validVersions"] as? String)
        self.flexibleVersions = SchemaVersions(json["flexibleVersions"] as? String)
        self.fields = (json["fields"] as? [[String: Any]] ?? []).map(SchemaField.init(json:))
        var common: [String: [SchemaField]] = [:]
        for entry in json["commonStructs"] as? [[String: Any]] ?? [] {
            common[entry["name"] as? String ?? ""] = (entry["fields"] as? [[String: Any]] ?? []).map(
                SchemaField.init(json:)
            )
        }
        self.commonStructs = common
    }

    func structFields(_ field: SchemaField) -> [SchemaField] {
        field.fields ?? self.commonStructs[field.elementType] ?? []
    }
}

// MARK: An encoder written from the schema alone

private extension ByteBuffer {
    mutating func writeUnsignedVarint(_ value: Int) {
        var value = UInt32(value)
        while value >= 0x80 {
            self.writeInteger(UInt8(value & 0x7F | 0x80))
            value >>= 7
        }
        self.writeInteger(UInt8(value))
    }

    /// A length prefix: compact (n + 1 as an unsigned varint, 0 for null) or fixed-width.
    mutating func writeLength<I: FixedWidthInteger>(_ length: Int?, flexible: Bool, as: I.Type) {
        if flexible {
            self.writeUnsignedVarint(length.map { $0 + 1 } ?? 0)
        } else {
            self.writeInteger(I(length ?? -1))
        }
    }
}

/// Writes a message from its schema: every field of the version, with a value other than the
/// field's default, or null where the version allows it (`nulls`). Tagged fields are written in
/// the tagged-field section, with one unknown tag after them.
struct SchemaEncoder {
    let message: SchemaMessage
    let version: Int16
    let nulls: Bool
    private var counter = 0

    init(message: SchemaMessage, version: Int16, nulls: Bool) {
        self.message = message
        self.version = version
        self.nulls = nulls
    }

    var flexible: Bool { self.message.flexibleVersions.contains(self.version) }

    mutating func encodeMessage() -> ByteBuffer {
        var buffer = ByteBuffer()
        self.writeStruct(self.message.fields, to: &buffer, flexible: self.flexible, depth: 0)
        return buffer
    }

    mutating func writeStruct(_ fields: [SchemaField], to buffer: inout ByteBuffer, flexible: Bool, depth: Int) {
        var tagged: [(tag: Int, data: ByteBuffer)] = []
        for field in fields where field.versions.contains(self.version) {
            if flexible && field.isTagged(self.version) {
                // A tagged field at its default is not written; null is the default of nullable ones.
                if self.nulls && field.isNullable(self.version) && field.defaultIsNull { continue }
                var data = ByteBuffer()
                self.writeField(field, to: &data, flexible: true, depth: depth)
                tagged.append((field.tag!, data))
            } else {
                self.writeField(field, to: &buffer, flexible: flexible, depth: depth)
            }
        }
        if flexible {
            tagged.append((250 + depth, ByteBuffer(bytes: [0xEE, UInt8(depth)])))
            tagged.sort { $0.tag < $1.tag }
            buffer.writeUnsignedVarint(tagged.count)
            for (tag, data) in tagged {
                buffer.writeUnsignedVarint(tag)
                buffer.writeUnsignedVarint(data.readableBytes)
                buffer.writeImmutableBuffer(data)
            }
        }
    }

    private mutating func next() -> Int {
        self.counter += 1
        return self.counter
    }

    mutating func writeField(_ field: SchemaField, to buffer: inout ByteBuffer, flexible: Bool, depth: Int) {
        let null = self.nulls && field.isNullable(self.version)
        if field.isArray {
            if null {
                buffer.writeLength(nil, flexible: flexible, as: Int32.self)
                return
            }
            let count = depth == 0 ? 2 : 1
            buffer.writeLength(count, flexible: flexible, as: Int32.self)
            for _ in 0..<count {
                if field.isStruct {
                    self.writeStruct(
                        self.message.structFields(field),
                        to: &buffer,
                        flexible: flexible,
                        depth: depth + 1
                    )
                } else {
                    self.writeScalar(field.elementType, field: field, null: false, to: &buffer, flexible: flexible)
                }
            }
        } else if field.isStruct {
            // A nullable struct is preceded by a marker byte: -1 null, 1 present.
            if field.isNullable(self.version) {
                buffer.writeInteger(Int8(null ? -1 : 1))
                if null { return }
            }
            self.writeStruct(self.message.structFields(field), to: &buffer, flexible: flexible, depth: depth + 1)
        } else {
            self.writeScalar(field.type, field: field, null: null, to: &buffer, flexible: flexible)
        }
    }

    mutating func writeScalar(
        _ type: String,
        field: SchemaField,
        null: Bool,
        to buffer: inout ByteBuffer,
        flexible: Bool
    ) {
        let n = self.next()
        let base = field.isArray ? 0 : field.integerDefault
        switch type {
        case "int8": buffer.writeInteger(Int8(truncatingIfNeeded: base + 1 + Int64(n % 50)))
        case "int16": buffer.writeInteger(Int16(truncatingIfNeeded: base + 1 + Int64(n)))
        case "uint16": buffer.writeInteger(UInt16(truncatingIfNeeded: base + 1 + Int64(n)))
        case "int32": buffer.writeInteger(Int32(truncatingIfNeeded: base + 1000 + Int64(n)))
        case "uint32": buffer.writeInteger(UInt32(truncatingIfNeeded: base + 1000 + Int64(n)))
        case "int64": buffer.writeInteger(base + 1_000_000 + Int64(n))
        case "float64": buffer.writeInteger((1.5 + Double(n)).bitPattern)
        case "bool": buffer.writeInteger(UInt8(field.defaultValue == "true" ? 0 : 1))
        case "uuid":
            buffer.writeInteger(UInt64(0x0123_4567_89AB_CDEF) &+ UInt64(n))
            buffer.writeInteger(UInt64(n))
        case "string":
            if null {
                buffer.writeLength(nil, flexible: flexible, as: Int16.self)
            } else {
                let text = "\(field.name)-\(n)"
                buffer.writeLength(text.utf8.count, flexible: flexible, as: Int16.self)
                buffer.writeString(text)
            }
        case "bytes", "records":
            if null {
                buffer.writeLength(nil, flexible: flexible, as: Int32.self)
            } else {
                let bytes: [UInt8] = [UInt8(n & 0xFF), 1, 2, 3]
                buffer.writeLength(bytes.count, flexible: flexible, as: Int32.self)
                buffer.writeBytes(bytes)
            }
        default:
            Issue.record("\(self.message.name).\(field.name): unknown type \(type)")
        }
    }
}

/// The size of a message whose fields all have their defaults, from the schema.
func defaultEncodedSize(_ message: SchemaMessage, version: Int16) -> Int {
    let flexible = message.flexibleVersions.contains(version)
    func lengthSize(_ length: Int?, fixed: Int) -> Int {
        guard flexible else { return fixed }
        var value = UInt32(length.map { $0 + 1 } ?? 0)
        var size = 1
        while value >= 0x80 {
            value >>= 7
            size += 1
        }
        return size
    }
    func structSize(_ fields: [SchemaField]) -> Int {
        var size = 0
        for field in fields where field.versions.contains(version) {
            if flexible && field.isTagged(version) { continue }  // defaults are not written
            if field.isArray {
                size += lengthSize(field.defaultValue == "null" ? nil : 0, fixed: 4)
            } else if field.isStruct {
                // A nullable struct's marker byte, and the struct only when the default is not null.
                let nullable = field.nullableVersions.contains(version)
                size +=
                    nullable && field.defaultIsNull ? 1 : (nullable ? 1 : 0) + structSize(message.structFields(field))
            } else {
                switch field.type {
                case "int8", "bool": size += 1
                case "int16", "uint16": size += 2
                case "int32", "uint32": size += 4
                case "int64", "float64": size += 8
                case "uuid": size += 16
                case "string":
                    if field.defaultValue == "null" {
                        size += lengthSize(nil, fixed: 2)
                    } else {
                        size += lengthSize(field.defaultValue.utf8.count, fixed: 2) + field.defaultValue.utf8.count
                    }
                case "bytes", "records":
                    size += lengthSize(field.defaultIsNull ? nil : 0, fixed: 4)
                default:
                    Issue.record("\(message.name).\(field.name): unknown type \(field.type)")
                }
            }
        }
        if flexible { size += 1 }  // empty tagged-field section
        return size
    }
    return structSize(message.fields)
}

/// A default-valued instance of every served message type.
let defaultMessages: [any KafkaMessage] = [
    ProduceRequest(), ProduceResponse(), FetchRequest(), FetchResponse(), ListOffsetsRequest(), ListOffsetsResponse(),
    MetadataRequest(), MetadataResponse(), OffsetCommitRequest(), OffsetCommitResponse(), OffsetFetchRequest(),
    OffsetFetchResponse(), FindCoordinatorRequest(), FindCoordinatorResponse(), JoinGroupRequest(),
    JoinGroupResponse(), HeartbeatRequest(), HeartbeatResponse(), LeaveGroupRequest(), LeaveGroupResponse(),
    SyncGroupRequest(), SyncGroupResponse(), DescribeGroupsRequest(), DescribeGroupsResponse(), ListGroupsRequest(),
    ListGroupsResponse(), ApiVersionsRequest(), ApiVersionsResponse(), CreateTopicsRequest(), CreateTopicsResponse(),
    DeleteTopicsRequest(), DeleteTopicsResponse(), InitProducerIdRequest(), InitProducerIdResponse(),
    DescribeConfigsRequest(), DescribeConfigsResponse(), DeleteGroupsRequest(), DeleteGroupsResponse(),
    OffsetDeleteRequest(), OffsetDeleteResponse(), CreatePartitionsRequest(), CreatePartitionsResponse(),
    DeleteRecordsRequest(), DeleteRecordsResponse(), DescribeClusterRequest(), DescribeClusterResponse(),
    OffsetForLeaderEpochRequest(), OffsetForLeaderEpochResponse(),
    AlterConfigsRequest(), AlterConfigsResponse(), IncrementalAlterConfigsRequest(), IncrementalAlterConfigsResponse(),
    DescribeLogDirsRequest(), DescribeLogDirsResponse(), DescribeTopicPartitionsRequest(),
    DescribeTopicPartitionsResponse(), DescribeProducersRequest(), DescribeProducersResponse(),
    ListPartitionReassignmentsRequest(), ListPartitionReassignmentsResponse(), ElectLeadersRequest(),
    ElectLeadersResponse(), DescribeClientQuotasRequest(), DescribeClientQuotasResponse(),
    SaslHandshakeRequest(), SaslHandshakeResponse(), SaslAuthenticateRequest(), SaslAuthenticateResponse(),
    DescribeUserScramCredentialsRequest(), DescribeUserScramCredentialsResponse(), AlterUserScramCredentialsRequest(),
    AlterUserScramCredentialsResponse(), DescribeAclsRequest(), DescribeAclsResponse(), CreateAclsRequest(),
    CreateAclsResponse(), DeleteAclsRequest(), DeleteAclsResponse(), AddPartitionsToTxnRequest(),
    AddPartitionsToTxnResponse(), AddOffsetsToTxnRequest(), AddOffsetsToTxnResponse(), EndTxnRequest(),
    EndTxnResponse(), TxnOffsetCommitRequest(), TxnOffsetCommitResponse(), DescribeTransactionsRequest(),
    DescribeTransactionsResponse(), ListTransactionsRequest(), ListTransactionsResponse(),
]

@Suite(.enabled(if: KafkaSchemas.available, "Kafka's JSON schemas are not at ../shared/reference/kafka-messages"))
struct SchemaConformanceTests {
    @Test func coversEveryServedMessage() {
        #expect(Set(defaultMessages.map { typeName(type(of: $0)) }) == Set(servedMessageNames))
    }

    @Test(arguments: defaultMessages.map { typeName(type(of: $0)) })
    func matchesTheSchema(_ name: String) throws {
        let schema = try KafkaSchemas.load(name)
        let instance = try #require(defaultMessages.first { typeName(type(of: $0)) == name })
        func check<M: KafkaMessage>(_ defaultMessage: M) throws {
            #expect(schema.name == name)
            #expect(Int(M.versions.lowerBound) == schema.validVersions.low, "\(name): lowest version")
            #expect(Int(M.versions.upperBound) == schema.validVersions.high, "\(name): highest version")
            for version in M.versions {
                let context = "\(name) v\(version)"
                #expect(M.isFlexible(version) == schema.flexibleVersions.contains(version), "\(context): flexible")

                // The default message has exactly the fields of the version, at their widths.
                #expect(
                    defaultMessage.encoded(version: version).readableBytes
                        == defaultEncodedSize(schema, version: version),
                    "\(context): size of the default message"
                )

                // Bytes written from the schema, with every field of the version set (and again
                // with nullable fields null): the codec reads all of them and writes them back.
                for nulls in [false, true] {
                    var encoder = SchemaEncoder(message: schema, version: version, nulls: nulls)
                    let bytes = encoder.encodeMessage()
                    let variant = "\(context)\(nulls ? " (nulls)" : "")"
                    do {
                        let decoded = try M.decode(bytes, version: version)
                        #expect(hex(decoded.encoded(version: version)) == hex(bytes), "\(variant): re-encoding")
                        #expect(decoded != defaultMessage || bytes.readableBytes == 0, "\(variant): values read")
                        // Every tag the schema knows is read into its field: only the encoder's
                        // extra tags (250 and up) are left unknown.
                        let unknown = unknownTags(of: decoded)
                        #expect(unknown.allSatisfy { $0 >= 250 }, "\(variant): known tags read as unknown: \(unknown)")
                    } catch {
                        Issue.record("\(variant): schema-written bytes do not decode: \(error)")
                    }
                }
            }
        }
        try check(instance)
    }
}
