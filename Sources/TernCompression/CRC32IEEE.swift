internal import CZlib
public import NIOCore

/// CRC-32 with the IEEE 802.3 polynomial (zlib's `crc32`, Java's `java.util.zip.CRC32`), the checksum
/// of Kafka's legacy messages (magic 0 and 1). Record batches (magic 2) use CRC-32C instead.
///
/// Lives here because this module already links zlib. Either use the one-shot `checksum` functions,
/// or accumulate:
///
///     var crc = CRC32IEEE()
///     crc.update(first)
///     crc.update(second)
///     crc.value  // == CRC32IEEE.checksum(first ‖ second)
public struct CRC32IEEE: Hashable, Sendable {
    /// The CRC-32 of all bytes given so far (0 before any).
    public private(set) var value: UInt32

    public init() {
        self.value = 0
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        self.value = Self.update(self.value, bytes)
    }

    /// Adds the readable bytes of `buffer`.
    public mutating func update(_ buffer: ByteBuffer) {
        self.value = buffer.withUnsafeReadableBytes { Self.update(self.value, $0) }
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        self.update(0, bytes)
    }

    /// The checksum of the readable bytes of `buffer`.
    public static func checksum(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { self.update(0, $0) }
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let crc = bytes.withContiguousStorageIfAvailable({ self.checksum(UnsafeRawBufferPointer($0)) }) {
            return crc
        }
        return Array(bytes).withUnsafeBytes { self.checksum($0) }
    }

    /// The checksum of `length` bytes of `buffer` starting at absolute index `index`, or nil when that
    /// range is not within the buffer's readable bytes.
    public static func checksum(_ buffer: ByteBuffer, at index: Int, length: Int) -> UInt32? {
        guard index >= buffer.readerIndex, length >= 0, index <= buffer.writerIndex - length else { return nil }
        return buffer.withUnsafeReadableBytes { bytes in
            self.update(0, UnsafeRawBufferPointer(rebasing: bytes[(index - buffer.readerIndex)...].prefix(length)))
        }
    }

    private static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard var address = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return crc }
        // zlib's crc32 takes a uInt (32-bit) length; feed it in chunks so any count works.
        var remaining = bytes.count
        var value = uLong(crc)
        while remaining > 0 {
            let chunk = min(remaining, 1 << 30)
            value = crc32(value, address, uInt(chunk))
            address += chunk
            remaining -= chunk
        }
        return UInt32(truncatingIfNeeded: value)
    }
}
