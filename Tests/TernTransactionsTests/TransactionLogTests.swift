import NIOCore
import TernTransactions
import TernWire
import Testing

@Suite struct TransactionLogTests {
    @Test func stateNumbersAndNamesAreKafkas() {
        let expected: [(TransactionState, Int8, String)] = [
            (.empty, 0, "Empty"), (.ongoing, 1, "Ongoing"), (.prepareCommit, 2, "PrepareCommit"),
            (.prepareAbort, 3, "PrepareAbort"), (.completeCommit, 4, "CompleteCommit"),
            (.completeAbort, 5, "CompleteAbort"), (.dead, 6, "Dead"), (.prepareEpochFence, 7, "PrepareEpochFence"),
        ]
        #expect(TransactionState.allCases.count == expected.count)
        for (state, raw, name) in expected {
            #expect(state.rawValue == raw)
            #expect(state.name == name)
            #expect(TransactionState(name: name) == state)
        }
        #expect(TransactionState(name: "ongoing") == nil)
    }

    @Test func keyMatchesKafkasLayout() throws {
        let key = TransactionLogKey(transactionalId: "tx")
        #expect(Array(buffer: key.encode()) == [0, 0, 0, 2, 0x74, 0x78])
        #expect(try TransactionLogKey.decode(key.encode()) == key)
    }

    /// Version 0 built by hand from TransactionLogValue.json: producer_id i64, producer_epoch i16,
    /// timeout i32, status i8, partitions [topic string, partition_ids [i32]] (nullable),
    /// last_update i64, start i64.
    @Test func version0ValueMatchesKafkasLayout() throws {
        var bytes = ByteBuffer()
        bytes.writeInteger(Int16(0))
        bytes.writeInteger(Int64(1000))
        bytes.writeInteger(Int16(3))
        bytes.writeInteger(Int32(60_000))
        bytes.writeInteger(Int8(1))  // Ongoing
        bytes.writeInteger(Int32(2))  // two topics
        bytes.writeInteger(Int16(1))
        bytes.writeString("a")
        bytes.writeInteger(Int32(2))
        bytes.writeInteger(Int32(0))
        bytes.writeInteger(Int32(2))
        bytes.writeInteger(Int16(1))
        bytes.writeString("b")
        bytes.writeInteger(Int32(1))
        bytes.writeInteger(Int32(5))
        bytes.writeInteger(Int64(77))
        bytes.writeInteger(Int64(70))
        let value = TransactionLogValue(
            version: 0,
            producerId: 1000,
            producerEpoch: 3,
            timeoutMs: 60_000,
            state: .ongoing,
            partitions: [TransactionPartition("a", 0), TransactionPartition("a", 2), TransactionPartition("b", 5)],
            txnLastUpdateTimestampMs: 77,
            txnStartTimestampMs: 70
        )
        #expect(value.encode() == bytes)
        #expect(try TransactionLogValue.decode(bytes) == value)
    }

    /// Version 1 by hand: compact strings and arrays (length + 1), a tagged-field section after each
    /// partition entry and at the end, tags 0 (previous producer id), 1 (next), 2 (client version).
    @Test func version1ValueMatchesKafkasLayout() throws {
        var bytes = ByteBuffer()
        bytes.writeInteger(Int16(1))
        bytes.writeInteger(Int64(1000))
        bytes.writeInteger(Int16(0))
        bytes.writeInteger(Int32(60_000))
        bytes.writeInteger(Int8(2))  // PrepareCommit
        bytes.writeInteger(UInt8(2))  // one topic
        bytes.writeInteger(UInt8(2))
        bytes.writeString("a")
        bytes.writeInteger(UInt8(2))  // one partition
        bytes.writeInteger(Int32(4))
        bytes.writeInteger(UInt8(0))  // the entry's tagged fields
        bytes.writeInteger(Int64(77))
        bytes.writeInteger(Int64(70))
        bytes.writeInteger(UInt8(3))  // three tagged fields
        bytes.writeInteger(UInt8(0))
        bytes.writeInteger(UInt8(8))
        bytes.writeInteger(Int64(999))
        bytes.writeInteger(UInt8(1))
        bytes.writeInteger(UInt8(8))
        bytes.writeInteger(Int64(1001))
        bytes.writeInteger(UInt8(2))
        bytes.writeInteger(UInt8(2))
        bytes.writeInteger(Int16(2))
        let value = TransactionLogValue(
            version: 1,
            producerId: 1000,
            previousProducerId: 999,
            nextProducerId: 1001,
            producerEpoch: 0,
            timeoutMs: 60_000,
            state: .prepareCommit,
            partitions: [TransactionPartition("a", 4)],
            txnLastUpdateTimestampMs: 77,
            txnStartTimestampMs: 70,
            clientTransactionVersion: 2
        )
        #expect(value.encode() == bytes)
        #expect(try TransactionLogValue.decode(bytes) == value)
    }

    /// Empty is written with a null partition array (-1 in v0, 0 in v1) and defaults left untagged.
    @Test(arguments: [(Int16(0), [UInt8](repeating: 0xFF, count: 4)), (Int16(1), [0])])
    func emptyStateHasNullPartitions(version: Int16, nullArray: [UInt8]) throws {
        let value = TransactionLogValue(
            version: version,
            producerId: 5,
            producerEpoch: 1,
            timeoutMs: 1000,
            state: .empty,
            partitions: [],
            txnLastUpdateTimestampMs: 9,
            txnStartTimestampMs: -1
        )
        let encoded = Array(buffer: value.encode())
        // version, id, epoch, timeout, status: 2 + 8 + 2 + 4 + 1 bytes.
        #expect(Array(encoded[17..<(17 + nullArray.count)]) == nullArray)
        #expect(encoded.count == 17 + nullArray.count + 16 + (version == 1 ? 1 : 0))
        #expect(try TransactionLogValue.decode(value.encode()) == value)
    }

    @Test(arguments: TransactionState.allCases, [Int16(0), 1])
    func valuesRoundTrip(state: TransactionState, version: Int16) throws {
        let partitions: Set<TransactionPartition> =
            state == .empty ? [] : [TransactionPartition("t", 0), TransactionPartition("u", 3)]
        let value = TransactionLogValue(
            version: version,
            producerId: 42,
            previousProducerId: version == 1 ? 41 : -1,
            producerEpoch: 7,
            timeoutMs: 30_000,
            state: state,
            partitions: partitions,
            txnLastUpdateTimestampMs: 123,
            txnStartTimestampMs: 100
        )
        let record = TransactionLogRecord(key: TransactionLogKey(transactionalId: "tx"), value: value)
        #expect(try TransactionLogRecord.decode(key: record.encodeKey(), value: record.encodeValue()) == record)
    }

    @Test func unknownTaggedFieldsAreKept() throws {
        var value = TransactionLogValue(
            producerId: 1,
            producerEpoch: 0,
            timeoutMs: 1,
            state: .ongoing,
            partitions: [TransactionPartition("t", 0)],
            txnLastUpdateTimestampMs: 0,
            txnStartTimestampMs: 0
        )
        value.unknownTaggedFields = [TaggedField(tag: 9, data: ByteBuffer(bytes: [1, 2]))]
        #expect(try TransactionLogValue.decode(value.encode()) == value)
    }

    @Test func tombstoneDecodesToNoValue() throws {
        let record = try TransactionLogRecord.decode(key: TransactionLogKey(transactionalId: "x").encode(), value: nil)
        #expect(record.value == nil)
        #expect(record.transactionalId == "x")
    }

    static let garbage: [(String, [UInt8], InternalRecordError.Code)] = [
        ("empty", [], .malformed),
        ("unknown version", [0, 2] + [UInt8](repeating: 0, count: 40), .unknownValueVersion),
        ("negative version", [0xFF, 0xFF], .unknownValueVersion),
        ("truncated", [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], .malformed),
        (
            "unknown status",
            [0, 0] + [UInt8](repeating: 0, count: 14) + [9] + [0xFF, 0xFF, 0xFF, 0xFF]
                + [UInt8](repeating: 0, count: 16), .malformed
        ),
        (
            "huge array",
            [0, 0] + [UInt8](repeating: 0, count: 14) + [1] + [0x7F, 0xFF, 0xFF, 0xFF]
                + [UInt8](repeating: 0, count: 16), .malformed
        ),
        (
            "trailing",
            [0, 0] + [UInt8](repeating: 0, count: 14) + [0] + [0xFF, 0xFF, 0xFF, 0xFF]
                + [UInt8](repeating: 0, count: 17), .trailingBytes
        ),
    ]

    @Test(arguments: garbage)
    func garbageValuesAreRefused(name: String, bytes: [UInt8], code: InternalRecordError.Code) {
        #expect(throws: InternalRecordError(code, name)) {
            try TransactionLogValue.decode(ByteBuffer(bytes: bytes))
        }
    }

    @Test(arguments: [
        ([UInt8](), InternalRecordError.Code.malformed), ([0, 1, 0, 0], .unknownKeyVersion),
        ([0, 0, 0, 5, 0x61], .malformed), ([0, 0, 0, 1, 0x61, 0], .trailingBytes),
    ])
    func garbageKeysAreRefused(bytes: [UInt8], code: InternalRecordError.Code) {
        #expect(throws: InternalRecordError(code, "")) {
            try TransactionLogKey.decode(ByteBuffer(bytes: bytes))
        }
    }
}
