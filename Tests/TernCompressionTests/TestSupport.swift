import NIOCore
import TernCompression

/// The codecs that actually compress.
let compressingCodecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]

let mebibyte = 1024 * 1024

func buffer(_ bytes: some Sequence<UInt8>) -> ByteBuffer {
    ByteBuffer(bytes: Array(bytes))
}

/// Copies out with memcpy: iterating a ByteBufferView byte by byte is slow in debug builds.
func bytes(_ buffer: ByteBuffer) -> [UInt8] {
    buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes)!
}

func error(_ code: CompressionError.Code) -> CompressionError {
    CompressionError(code: code, message: "")
}

/// SplitMix64: deterministic, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(state: seed)
    var result: [UInt8] = []
    result.reserveCapacity(count + 8)
    while result.count < count {
        withUnsafeBytes(of: generator.next()) { result.append(contentsOf: $0) }
    }
    return Array(result.prefix(count))
}

/// Text-like records with repeats at several distances, roughly what a batch of JSON values looks like.
func compressibleBytes(_ count: Int) -> [UInt8] {
    var generator = SplitMix64(state: 7)
    var text: [UInt8] = []
    text.reserveCapacity(count + 128)
    var i = 0
    while text.count < count {
        let user = generator.next() % 50
        let amount = generator.next() % 10_000
        text += Array("{\"id\":\(i),\"user\":\"user-\(user)\",\"amount\":\(amount),\"currency\":\"EUR\"}\n".utf8)
        i += 1
    }
    return Array(text.prefix(count))
}

func decodeBase64(_ text: String) -> [UInt8] {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (index, char) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
        table[Int(char)] = UInt8(index)
    }
    var result: [UInt8] = []
    var accumulator: UInt32 = 0
    var bits = 0
    for char in text.utf8 {
        let value = table[Int(char)]
        guard value != 0xFF else {
            precondition(char == UInt8(ascii: "=") || char == 10 || char == 32, "bad base64 character \(char)")
            continue
        }
        accumulator = accumulator << 6 | UInt32(value)
        bits += 6
        if bits >= 8 {
            bits -= 8
            result.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
        }
    }
    return result
}
