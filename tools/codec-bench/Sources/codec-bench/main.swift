import Foundation
import NIOCore
import TernWire

// Times the data path's codec work: decoding Produce requests and Fetch requests, encoding Fetch
// responses (which copies the records into the frame) and Produce responses. Prints one line per
// operation: name, best ns per operation over several rounds, bytes per operation.

let partitions = 8

/// Produce v7: one topic, `partitions` partitions with `recordBytes` of (opaque) records each.
func produceRequestBody(recordBytes: Int) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(Int16(-1))  // transactional id: null
    buffer.writeInteger(Int16(-1))  // acks
    buffer.writeInteger(Int32(30_000))
    buffer.writeInteger(Int32(1))
    buffer.writeKafkaString("events")
    buffer.writeInteger(Int32(partitions))
    for index in 0..<partitions {
        buffer.writeInteger(Int32(index))
        buffer.writeInteger(Int32(recordBytes))
        buffer.writeRepeatingByte(0x5A, count: recordBytes)
    }
    return buffer
}

/// Fetch v11 request for the same partitions.
func fetchRequestBody() -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(Int32(-1))
    buffer.writeInteger(Int32(500))
    buffer.writeInteger(Int32(1))
    buffer.writeInteger(Int32(52_428_800))
    buffer.writeInteger(Int8(0))
    buffer.writeInteger(Int32(0))
    buffer.writeInteger(Int32(-1))
    buffer.writeInteger(Int32(1))
    buffer.writeKafkaString("events")
    buffer.writeInteger(Int32(partitions))
    for index in 0..<partitions {
        buffer.writeInteger(Int32(index))
        buffer.writeInteger(Int32(-1))
        buffer.writeInteger(Int64(1_000_000))
        buffer.writeInteger(Int64(-1))
        buffer.writeInteger(Int32(1 << 20))
    }
    buffer.writeInteger(Int32(0))
    buffer.writeKafkaString("")
    return buffer
}

/// Fetch v11 response with `recordBytes` of records per partition.
func fetchResponseBody(recordBytes: Int) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(Int32(0))
    buffer.writeInteger(Int16(0))
    buffer.writeInteger(Int32(0))
    buffer.writeInteger(Int32(1))
    buffer.writeKafkaString("events")
    buffer.writeInteger(Int32(partitions))
    for index in 0..<partitions {
        buffer.writeInteger(Int32(index))
        buffer.writeInteger(Int16(0))
        buffer.writeInteger(Int64(2_000_000))
        buffer.writeInteger(Int64(2_000_000))
        buffer.writeInteger(Int64(0))
        buffer.writeInteger(Int32(-1))  // aborted transactions: null
        buffer.writeInteger(Int32(-1))  // preferred read replica
        buffer.writeInteger(Int32(recordBytes))
        buffer.writeRepeatingByte(0xA5, count: recordBytes)
    }
    return buffer
}

/// Produce v7 response for the same partitions.
func produceResponseBody() -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(Int32(1))
    buffer.writeKafkaString("events")
    buffer.writeInteger(Int32(partitions))
    for index in 0..<partitions {
        buffer.writeInteger(Int32(index))
        buffer.writeInteger(Int16(0))
        buffer.writeInteger(Int64(12_345))
        buffer.writeInteger(Int64(-1))
        buffer.writeInteger(Int64(0))
    }
    buffer.writeInteger(Int32(0))
    return buffer
}

@inline(never)
func consume<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

/// CODEC_BENCH_ONLY=NAME runs one operation (for a profiler).
let only = ProcessInfo.processInfo.environment["CODEC_BENCH_ONLY"]

func measure(_ name: String, bytes: Int, iterations: Int, _ body: () throws -> Void) rethrows {
    if let only, only != name { return }
    var best = Double.infinity
    for _ in 0..<9 {
        let start = ContinuousClock.now
        for _ in 0..<iterations { try body() }
        let elapsed = ContinuousClock.now - start
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        best = min(best, nanoseconds / Double(iterations))
    }
    print("\(name) \(Int(best.rounded())) \(bytes)")
}

let produceBody = produceRequestBody(recordBytes: 16 * 1024)
let fetchBody = fetchRequestBody()
let fetchResponseBytes = fetchResponseBody(recordBytes: 128 * 1024)
let produceResponseBytes = produceResponseBody()
let fetchResponse = try FetchResponse.decode(fetchResponseBytes, version: 11)
let produceResponse = try ProduceResponse.decode(produceResponseBytes, version: 7)

try measure("decode-produce-request-v7", bytes: produceBody.readableBytes, iterations: 20_000) {
    consume(try ProduceRequest.decode(produceBody, version: 7))
}
try measure("decode-fetch-request-v11", bytes: fetchBody.readableBytes, iterations: 20_000) {
    consume(try FetchRequest.decode(fetchBody, version: 11))
}
measure("encode-fetch-response-v11", bytes: fetchResponseBytes.readableBytes, iterations: 500) {
    var frame = ByteBuffer()
    fetchResponse.writeFrame(to: &frame, version: 11, correlationId: 7)
    consume(frame)
}
measure("encode-produce-response-v7", bytes: produceResponseBytes.readableBytes, iterations: 20_000) {
    var frame = ByteBuffer()
    produceResponse.writeFrame(to: &frame, version: 7, correlationId: 7)
    consume(frame)
}
try measure("decode-fetch-response-v11", bytes: fetchResponseBytes.readableBytes, iterations: 20_000) {
    consume(try FetchResponse.decode(fetchResponseBytes, version: 11))
}
