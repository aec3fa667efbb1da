import Testing

@testable import TernRecords

@Suite struct RecordFieldsTests {
    /// Values at the 1-, 2-, 3- and 5-byte boundaries of the zig-zag encoding.
    static let int32Values: [Int32] = [
        0, -1, 1, -64, 63, -65, 64, -8192, 8191, -8193, 8192, -1_048_576, 1_048_575, Int32.min, Int32.max,
    ]
    static let int64Values: [Int64] = [0, -1, 63, -65, 8191, -8193, 1 << 40, Int64.min, Int64.max]

    @Test func varintsRoundTrip() throws {
        for value in Self.int32Values {
            let bytes = Self.encode(ZigZag.encode(value))
            let (decoded, byteCount) = try Self.read(bytes) { cursor throws(RecordBatchError) in
                Int64(try cursor.readVarint())
            }
            #expect(decoded == Int64(value))
            #expect(byteCount == bytes.count, "\(value)")
        }
        for value in Self.int64Values {
            let bytes = Self.encode(ZigZag.encode(value))
            #expect(bytes.count == ZigZag.byteCount(ZigZag.encode(value)))
            let (decoded, byteCount) = try Self.read(bytes) { cursor throws(RecordBatchError) in
                try cursor.readVarlong()
            }
            #expect(decoded == value)
            #expect(byteCount == bytes.count, "\(value)")
        }
        #expect(Self.encode(ZigZag.encode(Int32(-64))) == [0x7F])
        #expect(Self.encode(ZigZag.encode(Int32(64))) == [0x80, 0x01])
        #expect(Self.encode(ZigZag.encode(Int32.min)) == [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
    }

    @Test func overlongAndTruncatedVarintsAreRejected() {
        let rejected32: [[UInt8]] = [
            [0x80, 0x80, 0x80, 0x80, 0x10],  // bit 32
            [0x80, 0x80, 0x80, 0x80, 0x80, 0x00],  // sixth byte
            [0x80],  // ends inside the varint
            [0xFF, 0xFF],
            [],
        ]
        for bytes in rejected32 {
            #expect(throws: RecordBatchError(.invalidRecord, ""), "\(bytes)") {
                try Self.read(bytes) { cursor throws(RecordBatchError) in Int64(try cursor.readVarint()) }
            }
        }
        let rejected64: [[UInt8]] = [
            [UInt8](repeating: 0x80, count: 9) + [0x02],  // bit 64
            [UInt8](repeating: 0x80, count: 10) + [0x00],
            [0x80, 0x80],
        ]
        for bytes in rejected64 {
            #expect(throws: RecordBatchError(.invalidRecord, ""), "\(bytes)") {
                try Self.read(bytes) { cursor throws(RecordBatchError) in try cursor.readVarlong() }
            }
        }
    }

    @Test func readsStopAtTheCursorEnd() throws {
        let bytes: [UInt8] = [0x02, 0x04, 0x06]
        try bytes.withUnsafeBytes { (raw) throws in
            var cursor = RecordFieldCursor(raw, position: 0)
            cursor.end = 1
            #expect(try cursor.readVarint() == 1)
            #expect(throws: RecordBatchError(.invalidRecord, "")) { try cursor.readVarint() }
            #expect(throws: RecordBatchError(.invalidRecord, "")) { try cursor.readInt8() }
        }
    }

    /// Runs `body` on a cursor over `bytes`; returns its result and the bytes it consumed.
    @discardableResult
    private static func read(
        _ bytes: [UInt8],
        _ body: (inout RecordFieldCursor) throws(RecordBatchError) -> Int64
    ) throws -> (value: Int64, byteCount: Int) {
        try bytes.withUnsafeBytes { raw in
            var cursor = RecordFieldCursor(raw, position: 0)
            let value = try body(&cursor)
            return (value, cursor.position)
        }
    }

    private static func encode(_ encoded: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 10)
        let count = bytes.withUnsafeMutableBytes { ZigZag.write(encoded, to: $0.baseAddress!, at: 0) }
        return Array(bytes[..<count])
    }
}
