import NIOCore
import Testing

@testable import TernRecords

@Suite struct CRC32CTests {
    /// RFC 3720 appendix B.4 and the usual check value.
    static let vectors: [(bytes: [UInt8], crc: UInt32)] = [
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        (Array(0...31), 0x46DD_794E),
        (Array((0...31).reversed()), 0x113F_DB5C),
        (Array("123456789".utf8), 0xE306_9283),
        ([], 0),
    ]

    @Test func knownVectors() {
        for vector in Self.vectors {
            #expect(CRC32C.checksum(vector.bytes) == vector.crc)
            vector.bytes.withUnsafeBytes { bytes in
                #expect(CRC32C.checksum(bytes) == vector.crc)
                #expect(CRC32C.softwareChecksum(bytes) == vector.crc)
            }
        }
    }

    @Test func incrementalUpdatesEqualOneShot() {
        var generator = SeededGenerator(seed: 1)
        let bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = CRC32C.checksum(bytes)
        for _ in 0..<50 {
            let split = Int.random(in: 0...bytes.count, using: &generator)
            var crc = CRC32C()
            bytes[..<split].withUnsafeBytes { crc.update($0) }
            crc.update(ByteBuffer(bytes: bytes[split...]))
            #expect(crc.value == whole)
        }
    }

    @Test func byteBufferRegion() {
        var buffer = ByteBuffer(bytes: [0xAA, 0xBB] + Array("123456789".utf8) + [0xCC])
        buffer.moveReaderIndex(forwardBy: 1)
        #expect(CRC32C.checksum(buffer, at: 2, length: 9) == 0xE306_9283)
        #expect(CRC32C.checksum(buffer, at: 1, length: 0) == 0)
        #expect(CRC32C.checksum(buffer, at: 0, length: 1) == nil, "before the reader index")
        #expect(CRC32C.checksum(buffer, at: 4, length: 9) == nil, "past the writer index")
        #expect(CRC32C.checksum(buffer, at: 2, length: -1) == nil)
    }

    /// Lengths up to 10000 cover the short interleaved rounds (768 bytes) and every tail length.
    @Test(.enabled(if: CRC32C.isHardwareAccelerated, "needs the CPU's crc32 instruction"))
    func hardwareMatchesSoftwareOnRandomLengthsAndAlignments() {
        var generator = SeededGenerator(seed: 2)
        let bytes = (0..<10_064).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { all in
            for _ in 0..<2000 {
                let alignment = Int.random(in: 0..<64, using: &generator)
                let length = Int.random(in: 0...10_000, using: &generator)
                let slice = UnsafeRawBufferPointer(rebasing: all[alignment..<alignment + length])
                #expect(CRC32C.checksum(slice) == CRC32C.softwareChecksum(slice), "length \(length) at +\(alignment)")
            }
        }
    }

    /// Inputs of 3 × 8 KiB and more take the long interleaved rounds.
    @Test(.enabled(if: CRC32C.isHardwareAccelerated, "needs the CPU's crc32 instruction"))
    func hardwareMatchesSoftwareOnLargeInputs() {
        var generator = SeededGenerator(seed: 3)
        let bytes = (0..<200_064).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { all in
            for length in [24_575, 24_576, 24_577, 49_152 + 767, 100_000, 200_000] {
                let alignment = Int.random(in: 0..<64, using: &generator)
                let slice = UnsafeRawBufferPointer(rebasing: all[alignment..<alignment + length])
                #expect(CRC32C.checksum(slice) == CRC32C.softwareChecksum(slice), "length \(length) at +\(alignment)")
                // Continuing from a non-zero CRC joins the blocks onto it correctly.
                let prefix = UnsafeRawBufferPointer(rebasing: all[..<7])
                var crc = CRC32C()
                crc.update(prefix)
                crc.update(slice)
                #expect(crc.value == CRC32C.softwareChecksum(slice, continuing: CRC32C.softwareChecksum(prefix)))
            }
        }
    }
}
