import NIOCore

/// An unknown tagged field (KIP-482), kept as raw bytes so a message round-trips unchanged.
public struct TaggedField: Hashable, Sendable {
    public var tag: UInt32
    public var data: ByteBuffer

    public init(tag: UInt32, data: ByteBuffer) {
        self.tag = tag
        self.data = data
    }
}

// Kafka's primitive types on ByteBuffer. Names carry the `Kafka` prefix so they cannot clash
// with NIO's own API. Readers throw `WireError` instead of returning nil, and check every length
// against the bytes left before allocating anything, so hostile input cannot make them allocate.
// The `flexible:` variants pick the compact (KIP-482) encoding when a message version is flexible.
extension ByteBuffer {
    // MARK: Fixed-width integers

    // Always inlined: generated readers call it for every fixed-width field, and left to the
    // optimizer's size heuristics it stays an out-of-line call in the larger generated structs.
    @inlinable @inline(__always)
    public mutating func readKafkaInteger<T: FixedWidthInteger>(as: T.Type = T.self) throws(WireError) -> T {
        guard let value = self.readInteger(as: T.self) else {
            throw WireError(.truncated, "truncated \(T.self)")
        }
        return value
    }

    @inlinable
    public mutating func readKafkaBool() throws(WireError) -> Bool {
        try self.readKafkaInteger(as: Int8.self) != 0
    }

    @inlinable
    public mutating func writeKafkaBool(_ value: Bool) {
        self.writeInteger(value ? Int8(1) : Int8(0))
    }

    // MARK: Varints

    /// Reads an unsigned LEB128 varint of at most 5 bytes (compact lengths, tags).
    @inlinable
    public mutating func readKafkaUnsignedVarint() throws(WireError) -> UInt32 {
        try self.readKafkaLEB128(as: UInt32.self)
    }

    @inlinable
    public mutating func writeKafkaUnsignedVarint(_ value: UInt32) {
        self.writeKafkaLEB128(value)
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes.
    @inlinable
    public mutating func readKafkaUnsignedVarlong() throws(WireError) -> UInt64 {
        try self.readKafkaLEB128(as: UInt64.self)
    }

    @inlinable
    public mutating func writeKafkaUnsignedVarlong(_ value: UInt64) {
        self.writeKafkaLEB128(value)
    }

    /// LEB128 of `T`: 7 bits a byte, low bits first. The last byte a `T` can use may only carry the
    /// bits left over (4 for 32 bits, 1 for 64); anything more is an overlong encoding.
    @inlinable
    mutating func readKafkaLEB128<T: UnsignedInteger & FixedWidthInteger>(as: T.Type) throws(WireError) -> T {
        let lastShift = (T.bitWidth / 7) * 7
        let lastByteMax = UInt8((1 << (T.bitWidth % 7)) - 1)
        var result: T = 0
        var shift = 0
        while true {
            guard let byte = self.readInteger(as: UInt8.self) else {
                throw WireError.truncated(T.bitWidth == 32 ? "varint" : "varlong")
            }
            if shift == lastShift && byte > lastByteMax {
                throw WireError(.invalidVarint, "unsigned varint longer than \(T.bitWidth) bits")
            }
            result |= T(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    @inlinable
    mutating func writeKafkaLEB128<T: UnsignedInteger & FixedWidthInteger>(_ value: T) {
        var remaining = value
        while remaining >= 0x80 {
            self.writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        self.writeInteger(UInt8(remaining))
    }

    /// Reads a zig-zag encoded signed varint (record fields).
    @inlinable
    public mutating func readKafkaVarint() throws(WireError) -> Int32 {
        let raw = try self.readKafkaUnsignedVarint()
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inlinable
    public mutating func writeKafkaVarint(_ value: Int32) {
        self.writeKafkaUnsignedVarint(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    /// Reads a zig-zag encoded signed varlong (record timestamps).
    @inlinable
    public mutating func readKafkaVarlong() throws(WireError) -> Int64 {
        let raw = try self.readKafkaUnsignedVarlong()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    @inlinable
    public mutating func writeKafkaVarlong(_ value: Int64) {
        self.writeKafkaUnsignedVarlong(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    // MARK: Lengths

    /// Reads a length: int16/int32 in classic versions, unsigned varint of length+1 in flexible ones.
    /// Returns nil for null (-1, or compact 0). `wide` selects int32 (bytes, arrays) over int16 (strings).
    @inlinable
    mutating func readKafkaLength(flexible: Bool, wide: Bool) throws(WireError) -> Int? {
        let length: Int
        if flexible {
            let raw = try self.readKafkaUnsignedVarint()
            if raw == 0 { return nil }
            length = Int(raw) - 1
        } else if wide {
            length = Int(try self.readKafkaInteger(as: Int32.self))
        } else {
            length = Int(try self.readKafkaInteger(as: Int16.self))
        }
        if length == -1 && !flexible { return nil }
        guard length >= 0 else { throw WireError(.invalidLength, "negative length \(length)") }
        guard length <= self.readableBytes else {
            throw WireError(.invalidLength, "length \(length) exceeds the \(self.readableBytes) bytes left")
        }
        return length
    }

    @inlinable
    mutating func writeKafkaLength(_ length: Int?, flexible: Bool, wide: Bool) {
        if flexible {
            self.writeKafkaUnsignedVarint(length.map { UInt32($0 + 1) } ?? 0)
        } else if wide {
            self.writeInteger(Int32(length ?? -1))
        } else {
            self.writeInteger(Int16(length ?? -1))
        }
    }

    // MARK: Strings

    @inlinable
    public mutating func readKafkaString(flexible: Bool = false) throws(WireError) -> String {
        guard let string = try self.readKafkaNullableString(flexible: flexible) else {
            throw WireError(.invalidLength, "null where a non-nullable string was expected")
        }
        return string
    }

    @inlinable
    public mutating func readKafkaNullableString(flexible: Bool = false) throws(WireError) -> String? {
        guard let length = try self.readKafkaLength(flexible: flexible, wide: false) else { return nil }
        return self.readString(length: length)!
    }

    @inlinable
    public mutating func writeKafkaString(_ string: String, flexible: Bool = false) {
        self.writeKafkaNullableString(string, flexible: flexible)
    }

    @inlinable
    public mutating func writeKafkaNullableString(_ string: String?, flexible: Bool = false) {
        guard let string else {
            self.writeKafkaLength(nil, flexible: flexible, wide: false)
            return
        }
        let length = string.utf8.count
        precondition(flexible || length <= Int16.max, "string of \(length) bytes does not fit an int16 length")
        self.writeKafkaLength(length, flexible: flexible, wide: false)
        self.writeString(string)
    }

    // MARK: Bytes

    @inlinable
    public mutating func readKafkaBytes(flexible: Bool = false) throws(WireError) -> ByteBuffer {
        guard let bytes = try self.readKafkaNullableBytes(flexible: flexible) else {
            throw WireError(.invalidLength, "null where non-nullable bytes were expected")
        }
        return bytes
    }

    /// Reads length-prefixed bytes as a slice of this buffer (no copy).
    @inlinable
    public mutating func readKafkaNullableBytes(flexible: Bool = false) throws(WireError) -> ByteBuffer? {
        guard let length = try self.readKafkaLength(flexible: flexible, wide: true) else { return nil }
        return self.readSlice(length: length)!
    }

    @inlinable
    public mutating func writeKafkaBytes(_ bytes: ByteBuffer, flexible: Bool = false) {
        self.writeKafkaNullableBytes(bytes, flexible: flexible)
    }

    @inlinable
    public mutating func writeKafkaNullableBytes(_ bytes: ByteBuffer?, flexible: Bool = false) {
        guard let bytes else {
            self.writeKafkaLength(nil, flexible: flexible, wide: true)
            return
        }
        self.writeKafkaLength(bytes.readableBytes, flexible: flexible, wide: true)
        self.writeImmutableBuffer(bytes)
    }

    // MARK: Arrays

    @inlinable
    public mutating func readKafkaArray<Element>(
        flexible: Bool = false,
        _ readElement: (inout ByteBuffer) throws(WireError) -> Element
    ) throws(WireError) -> [Element] {
        guard let array = try self.readKafkaNullableArray(flexible: flexible, readElement) else {
            throw WireError(.invalidLength, "null where a non-nullable array was expected")
        }
        return array
    }

    /// Every element takes at least one byte, so a count above the bytes left is refused before
    /// anything is allocated.
    @inlinable
    public mutating func readKafkaNullableArray<Element>(
        flexible: Bool = false,
        _ readElement: (inout ByteBuffer) throws(WireError) -> Element
    ) throws(WireError) -> [Element]? {
        guard let count = try self.readKafkaLength(flexible: flexible, wide: true) else { return nil }
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            elements.append(try readElement(&self))
        }
        return elements
    }

    @inlinable
    public mutating func writeKafkaArray<Element>(
        _ elements: [Element],
        flexible: Bool = false,
        _ writeElement: (inout ByteBuffer, Element) -> Void
    ) {
        self.writeKafkaNullableArray(elements, flexible: flexible, writeElement)
    }

    @inlinable
    public mutating func writeKafkaNullableArray<Element>(
        _ elements: [Element]?,
        flexible: Bool = false,
        _ writeElement: (inout ByteBuffer, Element) -> Void
    ) {
        guard let elements else {
            self.writeKafkaLength(nil, flexible: flexible, wide: true)
            return
        }
        self.writeKafkaLength(elements.count, flexible: flexible, wide: true)
        // Elements are borrowed from the array's storage, not copied out one by one (each copy
        // would retain and release the element's arrays and strings).
        elements.withUnsafeBufferPointer { elements in
            for index in elements.indices {
                writeElement(&self, elements[index])
            }
        }
    }

    // MARK: Tagged fields

    /// Reads a tagged-field section: a count, then (tag, size, bytes) with strictly increasing tags.
    @inlinable
    public mutating func readKafkaTaggedFields() throws(WireError) -> [TaggedField] {
        let count = try self.readKafkaTaggedFieldCount()
        guard count > 0 else { return [] }
        var fields: [TaggedField] = []
        fields.reserveCapacity(count)
        var previousTag: UInt32? = nil
        for _ in 0..<count {
            let (tag, data) = try self.readKafkaTaggedField(after: &previousTag)
            fields.append(TaggedField(tag: tag, data: data))
        }
        return fields
    }

    @inlinable
    public mutating func writeKafkaTaggedFields(_ fields: [TaggedField]) {
        self.writeKafkaUnsignedVarint(UInt32(fields.count))
        for field in fields {
            self.writeKafkaUnsignedVarint(field.tag)
            self.writeKafkaUnsignedVarint(UInt32(field.data.readableBytes))
            self.writeImmutableBuffer(field.data)
        }
    }

    // MARK: UUID

    /// Reads a 16-byte UUID (topic ids) as two big-endian halves.
    @inlinable
    public mutating func readKafkaUUID() throws(WireError) -> KafkaUUID {
        KafkaUUID(
            mostSignificantBits: try self.readKafkaInteger(as: UInt64.self),
            leastSignificantBits: try self.readKafkaInteger(as: UInt64.self)
        )
    }

    @inlinable
    public mutating func writeKafkaUUID(_ uuid: KafkaUUID) {
        self.writeInteger(uuid.mostSignificantBits)
        self.writeInteger(uuid.leastSignificantBits)
    }

    // MARK: Frames

    /// Writes a frame: an int32 size followed by the bytes `writeBody` appends.
    @inlinable
    public mutating func writeKafkaFrame(_ writeBody: (inout ByteBuffer) -> Void) {
        let sizeIndex = self.writerIndex
        self.writeInteger(Int32(0))
        writeBody(&self)
        self.setInteger(Int32(self.writerIndex - sizeIndex - 4), at: sizeIndex)
    }
}

/// A Kafka UUID (topic ids, KIP-516). All zeros means "no id".
public struct KafkaUUID: Hashable, Sendable {
    public var mostSignificantBits: UInt64
    public var leastSignificantBits: UInt64

    public init(mostSignificantBits: UInt64, leastSignificantBits: UInt64) {
        self.mostSignificantBits = mostSignificantBits
        self.leastSignificantBits = leastSignificantBits
    }

    public static let zero = KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 0)
}

// MARK: What generated codecs use besides the above

extension ByteBuffer {
    @inlinable
    public mutating func readKafkaFloat64() throws(WireError) -> Double {
        Double(bitPattern: try self.readKafkaInteger(as: UInt64.self))
    }

    @inlinable
    public mutating func writeKafkaFloat64(_ value: Double) {
        self.writeInteger(value.bitPattern)
    }

    /// A nullable struct: an int8 marker (-1 null, 1 present), then the struct.
    @inlinable
    public mutating func readKafkaNullableStruct<Element>(
        _ readElement: (inout ByteBuffer) throws(WireError) -> Element
    ) throws(WireError) -> Element? {
        let marker = try self.readKafkaInteger(as: Int8.self)
        return marker < 0 ? nil : try readElement(&self)
    }

    @inlinable
    public mutating func writeKafkaNullableStruct<Element>(
        _ element: Element?,
        _ writeElement: (inout ByteBuffer, Element) -> Void
    ) {
        guard let element else {
            self.writeInteger(Int8(-1))
            return
        }
        self.writeInteger(Int8(1))
        writeElement(&self, element)
    }

    /// The number of fields in a tagged-field section; each takes at least two bytes.
    @inlinable
    public mutating func readKafkaTaggedFieldCount() throws(WireError) -> Int {
        let count = try self.readKafkaUnsignedVarint()
        guard count <= self.readableBytes else {
            throw WireError(.invalidLength, "\(count) tagged fields exceed the \(self.readableBytes) bytes left")
        }
        return Int(count)
    }

    /// One tagged field: its tag (greater than `previousTag`, which it updates) and its bytes as a
    /// slice of this buffer.
    @inlinable
    public mutating func readKafkaTaggedField(after previousTag: inout UInt32?) throws(WireError) -> (
        UInt32, ByteBuffer
    ) {
        let tag = try self.readKafkaUnsignedVarint()
        if let previous = previousTag, tag <= previous {
            throw WireError(.invalidLength, "tagged field \(tag) out of order after \(previous)")
        }
        previousTag = tag
        let size = Int(try self.readKafkaUnsignedVarint())
        guard size <= self.readableBytes else {
            throw WireError(.invalidLength, "tagged field of \(size) bytes exceeds the bytes left")
        }
        return (tag, self.readSlice(length: size)!)
    }

    /// Writes a tagged-field section from known fields (in tag order) and unknown ones kept from a
    /// read, merged in tag order.
    @inlinable
    public mutating func writeKafkaTaggedFields(_ known: [TaggedField], unknown: [TaggedField]) {
        if unknown.isEmpty {
            self.writeKafkaTaggedFields(known)
        } else if known.isEmpty {
            self.writeKafkaTaggedFields(unknown)
        } else {
            self.writeKafkaTaggedFields((known + unknown).sorted { $0.tag < $1.tag })
        }
    }
}

extension TaggedField {
    /// A field whose bytes `encode` writes.
    @inlinable
    public init(tag: UInt32, encoding encode: (inout ByteBuffer) -> Void) {
        var data = ByteBuffer()
        encode(&data)
        self.init(tag: tag, data: data)
    }
}
