// Zig-zag varints as used inside v2 records: LEB128 groups of 7 bits, least significant first, high
// bit = continuation, over the zig-zag mapping 0, -1, 1, -2, … → 0, 1, 2, 3, … (protobuf sint32 /
// sint64). These are NOT the unsigned varints of the protocol's flexible versions.

enum ZigZag {
    @inline(__always)
    static func encode(_ value: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    @inline(__always)
    static func encode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inline(__always)
    static func decode32(_ raw: UInt32) -> Int32 {
        Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inline(__always)
    static func decode64(_ raw: UInt64) -> Int64 {
        Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Bytes taken by the LEB128 form of an already zig-zag-encoded value (1…10).
    @inline(__always)
    static func byteCount(_ encoded: UInt64) -> Int {
        (64 - (encoded | 1).leadingZeroBitCount + 6) / 7
    }

    /// Writes the LEB128 form of an already zig-zag-encoded value at `offset`; returns the new offset.
    /// The caller guarantees `byteCount(encoded)` bytes of room.
    @inline(__always)
    static func write(_ encoded: UInt64, to bytes: UnsafeMutableRawPointer, at offset: Int) -> Int {
        var remaining = encoded
        var index = offset
        while remaining >= 0x80 {
            bytes.storeBytes(of: UInt8(truncatingIfNeeded: remaining) | 0x80, toByteOffset: index, as: UInt8.self)
            remaining >>= 7
            index += 1
        }
        bytes.storeBytes(of: UInt8(truncatingIfNeeded: remaining), toByteOffset: index, as: UInt8.self)
        return index + 1
    }
}

/// Bounds-checked reads of record fields from raw bytes. Every read stays below `end`; a read that
/// would cross it, or a varint longer than its type allows, throws `.invalidRecord`.
struct RecordFieldCursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    var end: Int

    init(_ bytes: UnsafeRawBufferPointer, position: Int) {
        self.bytes = bytes
        self.position = position
        self.end = bytes.count
    }

    var remainingByteCount: Int { self.end - self.position }

    @inline(__always)
    mutating func readInt8() throws(RecordBatchError) -> Int8 {
        guard self.position < self.end else { throw Self.truncated(self.position) }
        defer { self.position += 1 }
        return Int8(bitPattern: self.bytes[self.position])
    }

    @inline(__always)
    mutating func readVarint() throws(RecordBatchError) -> Int32 {
        // One byte covers -64…63 and two bytes -8192…8191: every length and delta of typical records.
        if self.position < self.end {
            let first = self.bytes[self.position]
            if first < 0x80 {
                self.position += 1
                return ZigZag.decode32(UInt32(first))
            }
            if self.position + 1 < self.end {
                let second = self.bytes[self.position + 1]
                if second < 0x80 {
                    self.position += 2
                    return ZigZag.decode32(UInt32(first & 0x7F) | UInt32(second) << 7)
                }
            }
        }
        return try self.readVarintSlow()
    }

    private mutating func readVarintSlow() throws(RecordBatchError) -> Int32 {
        var raw: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard self.position < self.end else { throw Self.truncated(self.position) }
            let byte = self.bytes[self.position]
            self.position += 1
            // The fifth byte holds bits 28–31 only.
            if shift == 28 && byte > 0x0F {
                throw RecordDecodingError.varintOverflow(bits: 32, at: self.position - 1)
            }
            raw |= UInt32(byte & 0x7F) << shift
            if byte < 0x80 { return ZigZag.decode32(raw) }
            shift += 7
        }
    }

    @inline(__always)
    mutating func readVarlong() throws(RecordBatchError) -> Int64 {
        if self.position < self.end {
            let first = self.bytes[self.position]
            if first < 0x80 {
                self.position += 1
                return ZigZag.decode64(UInt64(first))
            }
            if self.position + 1 < self.end {
                let second = self.bytes[self.position + 1]
                if second < 0x80 {
                    self.position += 2
                    return ZigZag.decode64(UInt64(first & 0x7F) | UInt64(second) << 7)
                }
            }
        }
        return try self.readVarlongSlow()
    }

    private mutating func readVarlongSlow() throws(RecordBatchError) -> Int64 {
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard self.position < self.end else { throw Self.truncated(self.position) }
            let byte = self.bytes[self.position]
            self.position += 1
            // The tenth byte holds bit 63 only.
            if shift == 63 && byte > 0x01 {
                throw RecordDecodingError.varintOverflow(bits: 64, at: self.position - 1)
            }
            raw |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return ZigZag.decode64(raw) }
            shift += 7
        }
    }

    /// Reads a length that may be -1 (null) when `nullable`, and skips the bytes it announces.
    /// Returns the position of those bytes and the length (-1 for null).
    @inline(__always)
    mutating func readSizedField(nullable: Bool, _ what: StaticString) throws(RecordBatchError) -> (
        start: Int, length: Int
    ) {
        let length = Int(try self.readVarint())
        guard length >= (nullable ? -1 : 0), length <= self.remainingByteCount else {
            throw RecordDecodingError.fieldLength(what, length, remaining: self.remainingByteCount)
        }
        let start = self.position
        if length > 0 { self.position += length }
        return (start, length)
    }

    private static func truncated(_ position: Int) -> RecordBatchError {
        RecordDecodingError.truncated(at: position)
    }
}

/// Builders of the errors record decoding throws. Out of line, so the message formatting stays off
/// the decoding fast path.
enum RecordDecodingError {
    @inline(never)
    static func truncated(at position: Int) -> RecordBatchError {
        RecordBatchError(.invalidRecord, "record field runs past the end of its record at byte \(position)")
    }

    @inline(never)
    static func varintOverflow(bits: Int, at position: Int) -> RecordBatchError {
        RecordBatchError(.invalidRecord, "varint overflows \(bits) bits at record byte \(position)")
    }

    @inline(never)
    static func fieldLength(_ what: StaticString, _ length: Int, remaining: Int) -> RecordBatchError {
        RecordBatchError(
            .invalidRecord,
            "\(what) length \(length) is out of range, \(remaining) bytes left in the record"
        )
    }

    @inline(never)
    static func recordLength(_ length: Int, at start: Int, remaining: Int) -> RecordBatchError {
        RecordBatchError(.invalidRecord, "record at byte \(start) has length \(length), \(remaining) bytes left")
    }

    @inline(never)
    static func headerCount(_ count: Int, at start: Int) -> RecordBatchError {
        RecordBatchError(.invalidRecord, "record at byte \(start) has header count \(count)")
    }

    @inline(never)
    static func bytesAfterHeaders(_ count: Int, at start: Int) -> RecordBatchError {
        RecordBatchError(.invalidRecord, "record at byte \(start) has \(count) bytes after its last header")
    }

    @inline(never)
    static func offsetDelta(_ offsetDelta: Int32, after previous: Int32, lastOffsetDelta: Int32) -> RecordBatchError {
        RecordBatchError(
            .invalidRecord,
            "offset delta \(offsetDelta) after \(previous) is out of order or above lastOffsetDelta \(lastOffsetDelta)"
        )
    }
}
