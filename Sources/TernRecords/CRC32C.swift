internal import CTernCRC32C
public import NIOCore

/// CRC-32C (Castagnoli), the checksum of Kafka v2 record batches.
///
/// Computed with the CPU's crc32 instruction where there is one (x86-64 SSE4.2, ARMv8 CRC), chosen
/// at run time, else with tables. Either use the one-shot `checksum` functions, or accumulate:
///
///     var crc = CRC32C()
///     crc.update(first)
///     crc.update(second)
///     crc.value  // == CRC32C.checksum(first ‖ second)
public struct CRC32C: Hashable, Sendable {
    /// The CRC-32C of all bytes given so far (0 before any).
    public private(set) var value: UInt32

    public init() {
        self.value = 0
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        self.value = tern_crc32c_update(self.value, bytes.baseAddress, bytes.count)
    }

    /// Adds the readable bytes of `buffer`.
    public mutating func update(_ buffer: ByteBuffer) {
        self.value = buffer.withUnsafeReadableBytes { tern_crc32c_update(self.value, $0.baseAddress, $0.count) }
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tern_crc32c_update(0, bytes.baseAddress, bytes.count)
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        if let crc = bytes.withContiguousStorageIfAvailable({ Self.checksum(UnsafeRawBufferPointer($0)) }) {
            return crc
        }
        return Array(bytes).withUnsafeBytes { Self.checksum($0) }
    }

    /// The checksum of `length` bytes of `buffer` starting at absolute index `index`, or nil when that
    /// range is not within the buffer's readable bytes.
    public static func checksum(_ buffer: ByteBuffer, at index: Int, length: Int) -> UInt32? {
        guard index >= buffer.readerIndex, length >= 0, index <= buffer.writerIndex - length else {
            return nil
        }
        return buffer.withUnsafeReadableBytes { bytes in
            tern_crc32c_update(0, bytes.baseAddress.map { $0 + (index - buffer.readerIndex) }, length)
        }
    }

    /// Whether this machine computes CRC-32C with a CPU instruction rather than tables.
    public static var isHardwareAccelerated: Bool { tern_crc32c_is_hardware_accelerated() != 0 }

    /// The table implementation, regardless of the CPU; for tests and benchmarks.
    static func softwareChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        tern_crc32c_update_software(crc, bytes.baseAddress, bytes.count)
    }
}
