import NIOCore
import TernWire
import Testing

@Suite struct PrimitivesTests {
    @Test(arguments: [
        (UInt32(0), "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"), (16_383, "ff7f"),
        (16_384, "808001"), (UInt32.max, "ffffffff0f"),
    ])
    func unsignedVarint(value: UInt32, expected: String) throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaUnsignedVarint(value)
        #expect(hex(buffer) == expected)
        #expect(try buffer.readKafkaUnsignedVarint() == value)
        #expect(buffer.readableBytes == 0)
    }

    /// Zig-zag: 0 → 0, -1 → 1, 1 → 2, -2 → 3 … (protobuf's sint32/sint64).
    @Test(arguments: [
        (Int32(0), "00"), (-1, "01"), (1, "02"), (-2, "03"), (63, "7e"), (-64, "7f"), (64, "8001"),
        (Int32.max, "feffffff0f"), (Int32.min, "ffffffff0f"),
    ])
    func zigzagVarint(value: Int32, expected: String) throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaVarint(value)
        #expect(hex(buffer) == expected)
        #expect(try buffer.readKafkaVarint() == value)
    }

    @Test(arguments: [Int64(0), -1, 1, 1_700_000_000_000, -1_700_000_000_000, .max, .min])
    func zigzagVarlong(value: Int64) throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaVarlong(value)
        #expect(buffer.readableBytes <= 10)
        #expect(try buffer.readKafkaVarlong() == value)
        #expect(buffer.readableBytes == 0)
    }

    @Test func varlongEncodingOfMinIsTenBytes() {
        var buffer = ByteBuffer()
        buffer.writeKafkaVarlong(.min)
        #expect(hex(buffer) == "ffffffffffffffffff01")
    }

    @Test func overlongVarintsAreRejected() {
        var sixBytes = buffer(hex: "ffffffffff01")
        #expect(throws: WireError(.invalidVarint, "")) { try sixBytes.readKafkaUnsignedVarint() }
        var elevenBytes = buffer(hex: "ffffffffffffffffffff01")
        #expect(throws: WireError(.invalidVarint, "")) { try elevenBytes.readKafkaUnsignedVarlong() }
        var unterminated = buffer(hex: "8080")
        #expect(throws: WireError(.truncated, "")) { try unterminated.readKafkaUnsignedVarint() }
    }

    @Test func stringsClassicAndCompact() throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaString("héllo")
        buffer.writeKafkaNullableString(nil)
        buffer.writeKafkaString("héllo", flexible: true)
        buffer.writeKafkaNullableString(nil, flexible: true)
        buffer.writeKafkaString("", flexible: true)
        #expect(hex(buffer) == "000668c3a96c6c6f" + "ffff" + "0768c3a96c6c6f" + "00" + "01")
        #expect(try buffer.readKafkaString() == "héllo")
        #expect(try buffer.readKafkaNullableString() == nil)
        #expect(try buffer.readKafkaString(flexible: true) == "héllo")
        #expect(try buffer.readKafkaNullableString(flexible: true) == nil)
        #expect(try buffer.readKafkaString(flexible: true) == "")
    }

    @Test func nullWhereNotNullableIsAnError() {
        var classic = buffer(hex: "ffff")
        #expect(throws: WireError(.invalidLength, "")) { try classic.readKafkaString() }
        var compact = buffer(hex: "00")
        #expect(throws: WireError(.invalidLength, "")) { try compact.readKafkaBytes(flexible: true) }
        var array = buffer(hex: "ffffffff")
        #expect(throws: WireError(.invalidLength, "")) {
            try array.readKafkaArray { buffer throws(WireError) in try buffer.readKafkaInteger(as: Int8.self) }
        }
    }

    @Test func lengthsBeyondTheBufferAreRefusedBeforeAllocating() {
        var string = buffer(hex: "7fff41")
        #expect(throws: WireError(.invalidLength, "")) { try string.readKafkaString() }
        var bytes = buffer(hex: "7fffffff00")
        #expect(throws: WireError(.invalidLength, "")) { try bytes.readKafkaBytes() }
        var array = buffer(hex: "7fffffff00")
        #expect(throws: WireError(.invalidLength, "")) {
            try array.readKafkaArray { buffer throws(WireError) in try buffer.readKafkaInteger(as: Int8.self) }
        }
        var negative = buffer(hex: "fffe41")
        #expect(throws: WireError(.invalidLength, "")) { try negative.readKafkaNullableString() }
    }

    @Test func bytesAreSlicesAndNullable() throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaBytes(ByteBuffer(bytes: [1, 2, 3]))
        buffer.writeKafkaNullableBytes(nil)
        buffer.writeKafkaBytes(ByteBuffer(bytes: [4]), flexible: true)
        #expect(hex(buffer) == "00000003010203" + "ffffffff" + "0204")
        #expect(try buffer.readKafkaBytes() == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try buffer.readKafkaNullableBytes() == nil)
        #expect(try buffer.readKafkaBytes(flexible: true) == ByteBuffer(bytes: [4]))
    }

    @Test func arraysClassicCompactAndNull() throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaArray([Int16(1), 2]) { $0.writeInteger($1) }
        buffer.writeKafkaArray([Int16(3)], flexible: true) { $0.writeInteger($1) }
        buffer.writeKafkaNullableArray(nil as [Int16]?, flexible: true) { $0.writeInteger($1) }
        buffer.writeKafkaNullableArray(nil as [Int16]?) { $0.writeInteger($1) }
        #expect(hex(buffer) == "0000000200010002" + "020003" + "00" + "ffffffff")
        let read: (inout ByteBuffer) throws(WireError) -> Int16 = { buffer throws(WireError) in
            try buffer.readKafkaInteger()
        }
        #expect(try buffer.readKafkaArray(read) == [1, 2])
        #expect(try buffer.readKafkaArray(flexible: true, read) == [3])
        #expect(try buffer.readKafkaNullableArray(flexible: true, read) == nil)
        #expect(try buffer.readKafkaNullableArray(read) == nil)
    }

    @Test func taggedFields() throws {
        var buffer = ByteBuffer()
        let fields = [
            TaggedField(tag: 0, data: ByteBuffer(bytes: [0xAA])),
            TaggedField(tag: 200, data: ByteBuffer(bytes: [])),
        ]
        buffer.writeKafkaTaggedFields(fields)
        #expect(hex(buffer) == "02" + "0001aa" + "c80100")
        #expect(try buffer.readKafkaTaggedFields() == fields)
    }

    @Test func taggedFieldsOutOfOrderOrTooLongAreRejected() {
        var outOfOrder = buffer(hex: "02" + "0100" + "0000")
        #expect(throws: WireError(.invalidLength, "")) { try outOfOrder.readKafkaTaggedFields() }
        var tooLong = buffer(hex: "01" + "0005aa")
        #expect(throws: WireError(.invalidLength, "")) { try tooLong.readKafkaTaggedFields() }
        var tooMany = buffer(hex: "7f00")
        #expect(throws: WireError(.invalidLength, "")) { try tooMany.readKafkaTaggedFields() }
    }

    @Test func uuid() throws {
        var buffer = ByteBuffer()
        let uuid = KafkaUUID(mostSignificantBits: 0x0123_4567_89AB_CDEF, leastSignificantBits: 42)
        buffer.writeKafkaUUID(uuid)
        #expect(buffer.readableBytes == 16)
        #expect(try buffer.readKafkaUUID() == uuid)
    }

    @Test func errorCodesAreDataWithKafkaNames() {
        #expect(KafkaErrorCode(rawValue: 3) == .unknownTopicOrPartition)
        #expect(KafkaErrorCode.unknownTopicOrPartition.name == "UNKNOWN_TOPIC_OR_PARTITION")
        #expect(KafkaErrorCode(rawValue: 9999).name == "UNKNOWN_ERROR_9999")
        #expect(KafkaErrorCode.notCoordinator.isRetriable)
        #expect(!KafkaErrorCode.topicAlreadyExists.isRetriable)
    }
}
