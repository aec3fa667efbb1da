import NIOCore
import TernWire

// The records of `__transaction_state`, byte for byte as Kafka writes them: a version-prefixed
// `TransactionLogKey` (version 0: transactional_id) and a version-prefixed `TransactionLogValue`
// (version 0, or the flexible version 1 with tagged fields that Kafka writes from
// transaction.version 1), per Kafka's TransactionLogKey.json / TransactionLogValue.json and
// TransactionLog.scala. A null value is a tombstone: the transactional id expired.

/// The key of every `__transaction_state` record.
public struct TransactionLogKey: Hashable, Sendable {
    /// The only key version Kafka has.
    public static let version: Int16 = 0

    public var transactionalId: String

    public init(transactionalId: String) {
        self.transactionalId = transactionalId
    }

    public func encode(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 4 + self.transactionalId.utf8.count)
        buffer.writeInteger(Self.version)
        buffer.writeKafkaString(self.transactionalId)
        return buffer
    }

    /// Throws `.unknownKeyVersion` for a key version other than 0 (Kafka's loader skips such
    /// records as `UnknownKey`; the caller may do the same by catching that code).
    public static func decode(_ bytes: ByteBuffer) throws(InternalRecordError) -> Self {
        var bytes = bytes
        let version: Int16 = try readRecordField(&bytes, "key version") { buffer throws(WireError) in
            try buffer.readKafkaInteger()
        }
        guard version == Self.version else {
            throw InternalRecordError(.unknownKeyVersion, "TransactionLogKey version \(version)")
        }
        let transactionalId = try readRecordField(&bytes, "TransactionLogKey") { buffer throws(WireError) in
            try buffer.readKafkaString()
        }
        try expectRecordConsumed(bytes, "TransactionLogKey")
        return TransactionLogKey(transactionalId: transactionalId)
    }
}

/// The value of a `__transaction_state` record: one transactional id's metadata after a transition.
public struct TransactionLogValue: Hashable, Sendable {
    /// 0 (not flexible) or 1 (flexible, with the tagged fields below).
    public var version: Int16
    public var producerId: Int64
    /// Tag 0, version 1 only (-1 otherwise): the producer id before the last rotation.
    public var previousProducerId: Int64
    /// Tag 1, version 1 only (-1 otherwise): KIP-890's producer id to switch to on completion.
    public var nextProducerId: Int64
    public var producerEpoch: Int16
    public var timeoutMs: Int32
    public var state: TransactionState
    /// Written as a null array when the state is Empty, and ignored on read for Empty, as Kafka.
    public var partitions: Set<TransactionPartition>
    public var txnLastUpdateTimestampMs: Int64
    public var txnStartTimestampMs: Int64
    /// Tag 2, version 1 only (0 otherwise): the client's transaction version (KIP-890).
    public var clientTransactionVersion: Int16
    /// Tagged fields this code does not know, kept so a value round-trips.
    public var unknownTaggedFields: [TaggedField]

    public init(
        version: Int16 = 1,
        producerId: Int64,
        previousProducerId: Int64 = noProducerId,
        nextProducerId: Int64 = noProducerId,
        producerEpoch: Int16,
        timeoutMs: Int32,
        state: TransactionState,
        partitions: Set<TransactionPartition>,
        txnLastUpdateTimestampMs: Int64,
        txnStartTimestampMs: Int64,
        clientTransactionVersion: Int16 = 0,
        unknownTaggedFields: [TaggedField] = []
    ) {
        self.version = version
        self.producerId = producerId
        self.previousProducerId = previousProducerId
        self.nextProducerId = nextProducerId
        self.producerEpoch = producerEpoch
        self.timeoutMs = timeoutMs
        self.state = state
        self.partitions = partitions
        self.txnLastUpdateTimestampMs = txnLastUpdateTimestampMs
        self.txnStartTimestampMs = txnStartTimestampMs
        self.clientTransactionVersion = clientTransactionVersion
        self.unknownTaggedFields = unknownTaggedFields
    }

    /// The value Kafka writes for `metadata` at `version`.
    public init(_ metadata: TransactionMetadata, version: Int16) {
        self.init(
            version: version,
            producerId: metadata.producerId,
            previousProducerId: version >= 1 ? metadata.previousProducerId : noProducerId,
            producerEpoch: metadata.producerEpoch,
            timeoutMs: metadata.timeoutMs,
            state: metadata.state,
            partitions: metadata.state == .empty ? [] : metadata.partitions,
            txnLastUpdateTimestampMs: metadata.txnLastUpdateTimestampMs,
            txnStartTimestampMs: metadata.txnStartTimestampMs
        )
    }

    /// The metadata this value restores (Kafka's `readTxnRecordValue`; the last epoch is not stored).
    public func metadata(transactionalId: String) -> TransactionMetadata {
        TransactionMetadata(
            transactionalId: transactionalId,
            producerId: self.producerId,
            previousProducerId: self.previousProducerId,
            producerEpoch: self.producerEpoch,
            lastProducerEpoch: noProducerEpoch,
            timeoutMs: self.timeoutMs,
            state: self.state,
            partitions: self.state == .empty ? [] : self.partitions,
            txnStartTimestampMs: self.txnStartTimestampMs,
            txnLastUpdateTimestampMs: self.txnLastUpdateTimestampMs
        )
    }

    /// Partitions grouped by topic, topics and partitions sorted so the bytes are deterministic.
    private var partitionsByTopic: [(topic: String, partitions: [Int32])] {
        var byTopic: [String: [Int32]] = [:]
        for partition in self.partitions { byTopic[partition.topic, default: []].append(partition.partition) }
        return byTopic.keys.sorted().map { (topic: $0, partitions: byTopic[$0]!.sorted()) }
    }

    /// Version 0 cannot carry the tagged fields; they are dropped.
    public func encode(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        precondition((0...1).contains(self.version), "TransactionLogValue version \(self.version)")
        let flexible = self.version >= 1
        var buffer = allocator.buffer(capacity: 64 + 16 * self.partitions.count)
        buffer.writeInteger(self.version)
        buffer.writeInteger(self.producerId)
        buffer.writeInteger(self.producerEpoch)
        buffer.writeInteger(self.timeoutMs)
        buffer.writeInteger(self.state.rawValue)
        buffer.writeKafkaNullableArray(
            self.state == .empty ? nil : self.partitionsByTopic,
            flexible: flexible
        ) { buffer, entry in
            buffer.writeKafkaString(entry.topic, flexible: flexible)
            buffer.writeKafkaArray(entry.partitions, flexible: flexible) { $0.writeInteger($1) }
            if flexible { buffer.writeKafkaTaggedFields([]) }
        }
        buffer.writeInteger(self.txnLastUpdateTimestampMs)
        buffer.writeInteger(self.txnStartTimestampMs)
        if flexible {
            // Tagged fields are written only when they differ from their defaults.
            var known: [TaggedField] = []
            if self.previousProducerId != noProducerId {
                known.append(TaggedField(tag: 0) { $0.writeInteger(self.previousProducerId) })
            }
            if self.nextProducerId != noProducerId {
                known.append(TaggedField(tag: 1) { $0.writeInteger(self.nextProducerId) })
            }
            if self.clientTransactionVersion != 0 {
                known.append(TaggedField(tag: 2) { $0.writeInteger(self.clientTransactionVersion) })
            }
            buffer.writeKafkaTaggedFields(known, unknown: self.unknownTaggedFields)
        }
        return buffer
    }

    public static func decode(_ bytes: ByteBuffer) throws(InternalRecordError) -> Self {
        var bytes = bytes
        let version: Int16 = try readRecordField(&bytes, "value version") { buffer throws(WireError) in
            try buffer.readKafkaInteger()
        }
        guard (0...1).contains(version) else {
            throw InternalRecordError(.unknownValueVersion, "TransactionLogValue version \(version)")
        }
        let flexible = version >= 1
        let (decoded, status) = try readRecordField(&bytes, "TransactionLogValue v\(version)") {
            buffer throws(WireError) in
            let producerId: Int64 = try buffer.readKafkaInteger()
            let producerEpoch: Int16 = try buffer.readKafkaInteger()
            let timeoutMs: Int32 = try buffer.readKafkaInteger()
            let status: Int8 = try buffer.readKafkaInteger()
            let topics = try buffer.readKafkaNullableArray(flexible: flexible) { buffer throws(WireError) in
                let topic = try buffer.readKafkaString(flexible: flexible)
                let partitions = try buffer.readKafkaArray(flexible: flexible) { buffer throws(WireError) in
                    try buffer.readKafkaInteger(as: Int32.self)
                }
                if flexible { _ = try buffer.readKafkaTaggedFields() }
                return (topic, partitions)
            }
            let lastUpdate: Int64 = try buffer.readKafkaInteger()
            let start: Int64 = try buffer.readKafkaInteger()
            var value = TransactionLogValue(
                version: version,
                producerId: producerId,
                producerEpoch: producerEpoch,
                timeoutMs: timeoutMs,
                // A placeholder: the status is checked after this closure, which can only throw WireError.
                state: .empty,
                partitions: Set((topics ?? []).flatMap { topic, ids in ids.map { TransactionPartition(topic, $0) } }),
                txnLastUpdateTimestampMs: lastUpdate,
                txnStartTimestampMs: start
            )
            if flexible {
                for field in try buffer.readKafkaTaggedFields() {
                    var data = field.data
                    switch field.tag {
                    case 0: value.previousProducerId = try data.readKafkaInteger()
                    case 1: value.nextProducerId = try data.readKafkaInteger()
                    case 2: value.clientTransactionVersion = try data.readKafkaInteger()
                    default:
                        value.unknownTaggedFields.append(field)
                        continue
                    }
                    guard data.readableBytes == 0 else {
                        throw WireError(
                            .trailingBytes,
                            "tagged field \(field.tag) has \(data.readableBytes) extra bytes"
                        )
                    }
                }
            }
            return (value, status)
        }
        try expectRecordConsumed(bytes, "TransactionLogValue v\(version)")
        guard let state = TransactionState(rawValue: status) else {
            throw InternalRecordError(.malformed, "transaction status \(status)")
        }
        var value = decoded
        value.state = state
        return value
    }
}

/// One `__transaction_state` record; `value == nil` is a tombstone.
public struct TransactionLogRecord: Hashable, Sendable {
    public var key: TransactionLogKey
    public var value: TransactionLogValue?

    public init(key: TransactionLogKey, value: TransactionLogValue?) {
        self.key = key
        self.value = value
    }

    public var transactionalId: String { self.key.transactionalId }

    public func encodeKey(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        self.key.encode(allocator: allocator)
    }

    /// The value bytes, nil for a tombstone.
    public func encodeValue(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer? {
        self.value?.encode(allocator: allocator)
    }

    public static func decode(key: ByteBuffer, value: ByteBuffer?) throws(InternalRecordError) -> Self {
        TransactionLogRecord(
            key: try TransactionLogKey.decode(key),
            value: try value.map { bytes throws(InternalRecordError) in try TransactionLogValue.decode(bytes) }
        )
    }
}
