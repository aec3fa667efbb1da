import NIOCore
import TernRecords

/// A producer-state snapshot file, `<offset>.snapshot` (the offset as 20 zero-padded digits, like
/// segment names): the `ProducerStateManager` of the log `[0, offset)`, in Kafka's snapshot layout
/// (version 1 of `ProducerSnapshot`), big-endian:
///
///     offset size field
///          0    2 version          i16  1
///          2    4 crc              u32  CRC-32C of every byte after this field
///          6    4 entryCount       i32
///         10   46 per producer, in producer id order:
///                   producerId            i64
///                   epoch                 i16
///                   lastSequence          i32  of the producer's last batch
///                   lastOffset            i64  of that batch
///                   offsetDelta           i32  lastOffset − firstOffset of that batch
///                   timestamp             i64  its max timestamp (or the last marker's time)
///                   coordinatorEpoch      i32  -1 before any marker
///                   currentTxnFirstOffset i64  -1 when no transaction is ongoing
///
/// As in Kafka, only each producer's last batch is kept (its first sequence is `lastSequence −
/// offsetDelta`): after a restart a retry of an older one of its last five batches is refused as
/// out of order instead of answered as a duplicate, unless the replayed log tail holds it. A
/// producer with no batch left (a marker only) is written with lastSequence -1, lastOffset -1.
///
/// Written with `writeFileAtomically` (temporary file, fsync, rename, directory fsync) when a
/// segment rolls (at the new segment's base offset) and when the log is closed (at the log end
/// offset); the two newest are kept. A snapshot that fails its CRC or parse is ignored and the
/// state rebuilt from the start of the log.
enum ProducerStateSnapshot {
    static let version: Int16 = 1
    static let fileSuffix = ".snapshot"
    private static let entryByteCount = 46
    private static let headerByteCount = 10

    static func fileName(offset: Int64) -> String {
        precondition(offset >= 0, "offsets are non-negative")
        let digits = String(offset)
        return String(repeating: "0", count: 20 - digits.count) + digits + Self.fileSuffix
    }

    /// The offset a snapshot file name carries; nil for any other name.
    static func offset(fromFileName name: String) -> Int64? {
        guard name.hasSuffix(Self.fileSuffix) else { return nil }
        let digits = name.dropLast(Self.fileSuffix.count)
        guard digits.utf8.count == 20, digits.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int64(digits)
    }

    static func serialize(_ state: ProducerStateManager) -> ByteBuffer {
        var body = ByteBuffer()
        let entries = state.entries.sorted { $0.key < $1.key }
        body.reserveCapacity(4 + entries.count * Self.entryByteCount)
        body.writeInteger(Int32(entries.count))
        for (producerId, entry) in entries {
            let last = entry.batches.last
            body.writeInteger(producerId)
            body.writeInteger(entry.epoch)
            body.writeInteger(last?.lastSequence ?? -1)
            body.writeInteger(last?.lastOffset ?? -1)
            body.writeInteger(last.map { Int32(clamping: $0.lastOffset - $0.firstOffset) } ?? 0)
            body.writeInteger(entry.lastTimestampMs)
            body.writeInteger(entry.coordinatorEpoch)
            body.writeInteger(entry.currentTxnFirstOffset ?? -1)
        }
        var file = ByteBuffer()
        file.writeInteger(Self.version)
        file.writeInteger(CRC32C.checksum(body, at: body.readerIndex, length: body.readableBytes)!)
        file.writeImmutableBuffer(body)
        return file
    }

    /// Parses a snapshot file; throws `.corruptFile` for a wrong version, CRC or length.
    static func parse(_ bytes: ByteBuffer) throws(StorageError) -> ProducerStateManager {
        var bytes = bytes
        guard let version = bytes.readInteger(as: Int16.self), let crc = bytes.readInteger(as: UInt32.self) else {
            throw StorageError(.corruptFile, "producer snapshot shorter than its header")
        }
        guard version == Self.version else { throw StorageError(.corruptFile, "producer snapshot version \(version)") }
        guard CRC32C.checksum(bytes, at: bytes.readerIndex, length: bytes.readableBytes) == crc else {
            throw StorageError(.corruptFile, "producer snapshot CRC mismatch")
        }
        guard let count = bytes.readInteger(as: Int32.self), count >= 0,
            bytes.readableBytes == Int(count) * Self.entryByteCount
        else { throw StorageError(.corruptFile, "producer snapshot length does not match its entry count") }
        var entries: [Int64: ProducerStateManager.Entry] = [:]
        for _ in 0..<count {
            let producerId = bytes.readInteger(as: Int64.self)!
            let epoch = bytes.readInteger(as: Int16.self)!
            let lastSequence = bytes.readInteger(as: Int32.self)!
            let lastOffset = bytes.readInteger(as: Int64.self)!
            let offsetDelta = bytes.readInteger(as: Int32.self)!
            let timestampMs = bytes.readInteger(as: Int64.self)!
            let coordinatorEpoch = bytes.readInteger(as: Int32.self)!
            let txnFirstOffset = bytes.readInteger(as: Int64.self)!
            guard producerId >= 0, offsetDelta >= 0, entries[producerId] == nil else {
                throw StorageError(.corruptFile, "producer snapshot entry for \(producerId) is invalid")
            }
            var batches: [ProducerStateManager.BatchMetadata] = []
            if lastOffset >= 0 && lastSequence >= 0 {
                let firstSequence = Int64(lastSequence) - Int64(offsetDelta)
                batches.append(
                    .init(
                        // Sequences wrap at Int32.max, as `ProducerStateManager.lastSequence` does.
                        firstSequence: firstSequence >= 0
                            ? Int32(firstSequence) : Int32(firstSequence + Int64(Int32.max) + 1),
                        lastSequence: lastSequence,
                        firstOffset: lastOffset - Int64(offsetDelta),
                        lastOffset: lastOffset
                    )
                )
            }
            entries[producerId] = .init(
                epoch: epoch,
                batches: batches,
                lastTimestampMs: timestampMs,
                coordinatorEpoch: coordinatorEpoch,
                currentTxnFirstOffset: txnFirstOffset >= 0 ? txnFirstOffset : nil
            )
        }
        return ProducerStateManager(entries: entries)
    }
}
