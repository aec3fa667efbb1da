public import NIOCore

/// The record of a transaction marker (KIP-98): a control batch (control and transactional bits,
/// the producer's id and epoch, base sequence -1) holds exactly one, written by the broker to
/// every partition of a transaction when it ends.
///
///     key   = version: i16 (0), type: i16 (0 ABORT, 1 COMMIT)
///     value = version: i16 (0), coordinatorEpoch: i32
public struct ControlRecord: Hashable, Sendable {
    public enum Kind: Int16, Hashable, Sendable {
        case abort = 0
        case commit = 1
    }

    public var kind: Kind
    /// The transaction coordinator's epoch, so partitions can refuse a deposed coordinator's markers.
    public var coordinatorEpoch: Int32

    public init(_ kind: Kind, coordinatorEpoch: Int32) {
        self.kind = kind
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// Parses a control record's key and value; nil unless the key is a version-0 marker key (a
    /// value too short for the epoch leaves it -1, as Kafka tolerates).
    public init?(key: ByteBuffer?, value: ByteBuffer?) {
        guard let key, key.readableBytes >= 4, key.getInteger(at: key.readerIndex, as: Int16.self) == 0,
            let rawKind = key.getInteger(at: key.readerIndex + 2, as: Int16.self), let kind = Kind(rawValue: rawKind)
        else { return nil }
        self.kind = kind
        if let value, value.readableBytes >= 6 {
            self.coordinatorEpoch = value.getInteger(at: value.readerIndex + 2, as: Int32.self) ?? -1
        } else {
            self.coordinatorEpoch = -1
        }
    }

    /// The marker of a control batch; nil for any other batch or an unreadable one.
    public init?(of batch: RecordBatch) {
        guard batch.attributes.isControl, let records = try? batch.records(decompressionLimit: 1 << 20) else {
            return nil
        }
        var iterator = records.makeIterator()
        guard let record = iterator.next() else { return nil }
        self.init(key: record.key, value: record.value)
    }

    public var key: ByteBuffer {
        var key = ByteBuffer()
        key.writeInteger(Int16(0))
        key.writeInteger(self.kind.rawValue)
        return key
    }

    public var value: ByteBuffer {
        var value = ByteBuffer()
        value.writeInteger(Int16(0))
        value.writeInteger(self.coordinatorEpoch)
        return value
    }

    /// The control batch carrying this marker for the producer.
    public func batch(producerId: Int64, producerEpoch: Int16, timestampMs: Int64) throws(RecordBatchError)
        -> ByteBuffer
    {
        var builder = RecordBatchBuilder(
            isTransactional: true,
            isControl: true,
            producerId: producerId,
            producerEpoch: producerEpoch,
            baseSequence: -1,
            initialCapacityBytes: 128
        )
        builder.append(key: self.key, value: self.value, timestampMs: timestampMs)
        return try builder.build()
    }
}
