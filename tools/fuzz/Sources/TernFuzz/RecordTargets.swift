import NIOCore
import TernCompression
import TernRecords

/// What a fuzzed batch may decompress to: small, so a zip bomb costs little and runs stay fast.
let fuzzDecompressionLimit = 1 << 20

/// `batch`: a produce request's or a segment's records section — any number of v2 batches —
/// split, each one validated as the broker validates a producer's batch, its records read, and
/// the whole section down-converted for an old consumer. Bit 0 of the first byte rewrites each
/// batch's CRC so the checks behind the CRC see fuzzed bytes too.
func fuzzBatch(_ input: ByteBuffer) {
    var input = input
    let control = input.readControlByte()
    guard let (batches, _) = try? RecordBatch.split(input) else { return }
    for batch in batches {
        let batch = control & 1 == 0 ? batch : withCorrectCRC(batch)
        if control & 1 == 1 {
            check(batch.isValidCRC, "a rewritten CRC does not match")
        }
        let valid = (try? batch.validate()) != nil
        _ = try? batch.validateProducerBatch()
        let recordsValid = (try? batch.validateRecords(decompressionLimit: fuzzDecompressionLimit)) != nil
        var count = 0
        if var reader = try? batch.makeRecordReader(decompressionLimit: fuzzDecompressionLimit) {
            do {
                while let record = try reader.next() {
                    count += 1
                    _ = record.headers.count
                }
            } catch {}
        }
        if valid && recordsValid {
            check(count == Int(batch.recordCount), "validated batch has \(count) records, claims \(batch.recordCount)")
        }
    }
    // Whatever down-conversion writes, the legacy parser must read back.
    let magic: Int8 = control & 2 == 0 ? 0 : 1
    if let legacy = try? LegacyMessageSet.downConvert(input, toMagic: magic, decompressionLimit: fuzzDecompressionLimit)
    {
        do {
            _ = try LegacyMessageSet.parse(legacy, decompressionLimit: Int.max)
        } catch {
            check(false, "down-converted v\(magic) message set does not parse: \(error)")
        }
    }
}

/// The batch with its CRC field recomputed over its (fuzzed) bytes.
private func withCorrectCRC(_ batch: RecordBatch) -> RecordBatch {
    var bytes = batch.buffer
    // The CRC field: after baseOffset (8), batchLength (4), partitionLeaderEpoch (4) and magic (1).
    bytes.setInteger(batch.computeCRC(), at: bytes.readerIndex + 17)
    return try! RecordBatch(bytes)
}

/// `legacy`: a magic 0/1 message set (possibly with compressed wrapper messages) parsed as an old
/// producer's would be, then converted to a v2 batch whose records must be the same.
func fuzzLegacy(_ input: ByteBuffer) {
    var input = input
    let control = input.readControlByte()
    _ = LegacyMessageSet.magic(of: input)
    guard let records = try? LegacyMessageSet.parse(input, decompressionLimit: fuzzDecompressionLimit) else { return }
    guard !records.isEmpty else { return }
    let codec = CompressionCodec.allCases[Int(control) % CompressionCodec.allCases.count]
    let converted: ByteBuffer
    do {
        converted = try LegacyMessageSet.convertToBatch(records, codec: codec, nowMs: 1_700_000_000_000)
    } catch {
        check(false, "\(records.count) parsed legacy records do not convert: \(error)")
        return
    }
    do {
        let batch = try RecordBatch(converted)
        try batch.validate()
        try batch.validateProducerBatch()
        let read = Array(try batch.records(decompressionLimit: Int.max))
        check(read.count == records.count, "converted batch has \(read.count) of \(records.count) records")
        for (original, copy) in zip(records, read) {
            check(original.key == copy.key && original.value == copy.value, "converted record differs")
        }
    } catch {
        check(false, "converted batch is invalid: \(error)")
    }
}

/// `decompress`: the first byte picks the codec (gzip, snappy — xerial or raw —, lz4 frame, zstd),
/// the rest is the stream. Whatever decompresses must respect the limit and survive a round trip
/// through the same codec.
func fuzzDecompress(_ input: ByteBuffer) {
    var input = input
    let control = input.readControlByte()
    let codecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]
    let codec = codecs[Int(control) % codecs.count]
    // Small limits from the high bits exercise the limit checks themselves.
    let limit = control & 0x80 == 0 ? fuzzDecompressionLimit : Int(control & 0x7F) * 8
    guard let output = try? Compression.decompress(input, codec: codec, limit: limit) else { return }
    check(output.readableBytes <= limit, "\(codec) produced \(output.readableBytes) bytes over the limit \(limit)")
    do {
        let compressed = try Compression.compress(output, codec: codec)
        let again = try Compression.decompress(compressed, codec: codec, limit: max(limit, 1))
        check(again == output, "\(codec) round trip differs")
    } catch {
        check(false, "\(codec): \(output.readableBytes) decompressed bytes do not round-trip: \(error)")
    }
}
