import NIOCore
import TernRecords
import TernStorage

// The child process of the storage crash test (Tests/TernStorageTests/CrashTests.swift).
//
// Usage: tern-storage-crash-writer <data-directory> <seed>
//
// Opens (recovering if needed) the log in <data-directory>, then appends one-record batches with
// `.fsync` durability from four concurrent tasks until it is killed. After each append returns it
// writes `<offset> <fnv1a64 of the value, hex>` as one line with one write(2) to stdout (unbuffered,
// and atomic on a pipe below PIPE_BUF), so every line the parent reads is an acknowledged,
// supposedly durable record.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// FNV-1a, 64 bits: enough to tell payloads apart, and trivial to recompute in the test.
func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return hash
}

/// SplitMix64, seeded from the command line so runs differ but can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var value = self.state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// One unbuffered write of a short line.
func writeLine(_ text: String, toDescriptor descriptor: Int32) {
    var line = text + "\n"
    line.withUTF8 { bytes in _ = write(descriptor, bytes.baseAddress, bytes.count) }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let seed = UInt64(arguments[2]) else {
    writeLine("usage: tern-storage-crash-writer <data-directory> <seed>", toDescriptor: 2)
    exit(2)
}
let manager = try await LogManager.open(dataDirectory: arguments[1], defaultConfig: LogConfig())
if manager.topic("crash") == nil {
    // Small segments so that runs also cross rolls.
    try manager.createTopic("crash", partitionCount: 1, configOverrides: ["segment.bytes": "65536"])
}
let log = manager.partition(topic: "crash", index: 0)!
let writerCount = 4

await withTaskGroup(of: Void.self) { group in
    for writer in 0..<writerCount {
        group.addTask {
            var random = SplitMix64(state: seed &* 31 &+ UInt64(writer))
            var sequence = 0
            while true {
                let size = Int.random(in: 1...3000, using: &random)
                var value = ByteBuffer(string: "w\(writer)-\(sequence)-")
                value.writeBytes((0..<size).map { _ in UInt8.random(in: 0...255, using: &random) })
                var builder = RecordBatchBuilder()
                builder.append(key: nil, value: value, timestampMs: Int64(sequence))
                do {
                    let result = try await log.append(try builder.build(), durability: .fsync)
                    let hash = String(fnv1a64(value.readableBytesView), radix: 16)
                    writeLine("\(result.baseOffset) \(hash)", toDescriptor: 1)
                } catch {
                    writeLine("append failed: \(error)", toDescriptor: 2)
                    exit(1)
                }
                sequence += 1
            }
        }
    }
}
