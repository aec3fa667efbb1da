import Foundation
import Logging
import NIOCore
import TernStorage
import TernTestKit
import TernWire
import Testing

/// Issue 14, disk faults: a real broker on the in-memory file system with injected ENOSPC, EIO on
/// write, fsync and read, and a read-only remount. For each: the answer (KAFKA_STORAGE_ERROR for
/// that partition), that other partitions keep working, what is logged, and that no acknowledged
/// record is lost or reported written when it was not (checked again after a power loss).
@Suite struct DiskFaultTests {
    static let faults: [InMemoryFileSystem.WriteFault] = [
        .fail(errno: ENOSPC), .torn(keepingBytes: 30, errno: ENOSPC), .fail(errno: EIO),
        .torn(keepingBytes: 30, errno: EIO),
    ]

    /// A failed write leaves the log as it was: that produce fails, the next one works.
    @Test(arguments: Self.faults)
    func aFailedWriteFailsThatProduceOnly(fault: InMemoryFileSystem.WriteFault) async throws {
        let fileSystem = InMemoryFileSystem()
        try await withTestBroker(storage: .memory(fileSystem)) { broker in
            try await broker.createTopic("a")
            try await broker.createTopic("b")
            try await withRawConnection(port: broker.port) { (connection) async throws in
                #expect(
                    try await write(connection, "a", "a0")
                        .errorCode == .none
                )
                fileSystem.injectWriteFault(fault)
                let failed = try await write(connection, "a", "lost")
                #expect(failed.errorCode == .kafkaStorageError)
                #expect(
                    try await write(connection, "b", "b0")
                        .errorCode == .none
                )
                let next = try await write(connection, "a", "a1")
                #expect(next.errorCode == .none)
                #expect(next.baseOffset == 1)
                #expect(try await fetch(connection, topic: "a", offset: 0) == FetchedPartition(.none, ["a0", "a1"]))
            }
            #expect(broker.failedPartitions.isEmpty)
            await broker.simulatePowerLoss()
        }
        try await withTestBroker(storage: .memory(fileSystem)) { broker in
            try await withRawConnection(port: broker.port) { (connection) async throws in
                #expect(try await fetch(connection, topic: "a", offset: 0) == FetchedPartition(.none, ["a0", "a1"]))
                #expect(try await fetch(connection, topic: "b", offset: 0) == FetchedPartition(.none, ["b0"]))
            }
        }
    }

    /// A failed fsync is never retried as if it could succeed (the kernel may have dropped the
    /// pages it could not write): the partition refuses appends and reads until a restart, the
    /// others keep working, the failure is logged and readiness reports it.
    @Test func aFailedFsyncStopsThatPartitionUntilARestart() async throws {
        let fileSystem = InMemoryFileSystem()
        let lines = CapturedLines()
        let logger = Logger(label: "tern.test-broker", factory: { _ in CapturingLogHandler(lines: lines) })
        try await withTestBroker(storage: .memory(fileSystem), logger: logger) { broker in
            try await broker.createTopic("a")
            try await broker.createTopic("b")
            try await withRawConnection(port: broker.port) { (connection) async throws in
                #expect(
                    try await write(connection, "a", "a0")
                        .errorCode == .none
                )
                fileSystem.injectFsyncFault(errno: EIO)
                let failed = try await write(connection, "a", "unsure")
                #expect(failed.errorCode == .kafkaStorageError)
                // Sticky: the next fsync would succeed, and must not be trusted.
                let refused = try await write(connection, "a", "later")
                #expect(refused.errorCode == .kafkaStorageError)
                #expect(try await fetch(connection, topic: "a", offset: 0).errorCode == .kafkaStorageError)
                #expect(
                    try await write(connection, "b", "b0")
                        .errorCode == .none
                )
                #expect(try await fetch(connection, topic: "b", offset: 0) == FetchedPartition(.none, ["b0"]))
            }
            #expect(broker.failedPartitions == ["a-0"])
            let logged = lines.all.filter { $0.contains("flush failed") }
            #expect(
                logged.count == 1 && logged[0].hasPrefix("error") && logged[0].contains("partition=a-0"),
                "\(lines.all)"
            )
            await broker.simulatePowerLoss()
        }
        try await withTestBroker(storage: .memory(fileSystem)) { broker in
            #expect(broker.failedPartitions.isEmpty)
            try await withRawConnection(port: broker.port) { (connection) async throws in
                // Recovered from disk: the acknowledged record is there, the refused ones are not.
                #expect(try await fetch(connection, topic: "a", offset: 0) == FetchedPartition(.none, ["a0"]))
                #expect(
                    try await write(connection, "a", "a1")
                        .baseOffset == 1
                )
                #expect(try await fetch(connection, topic: "b", offset: 0) == FetchedPartition(.none, ["b0"]))
            }
        }
    }

    /// A failed read fails that fetch; the partition is not failed (nothing was lost).
    @Test func aFailedReadFailsThatFetchOnly() async throws {
        let fileSystem = InMemoryFileSystem()
        try await withTestBroker(storage: .memory(fileSystem)) { broker in
            try await broker.createTopic("a")
            try await withRawConnection(port: broker.port) { (connection) async throws in
                #expect(
                    try await write(connection, "a", "a0")
                        .errorCode == .none
                )
                fileSystem.injectReadFault(errno: EIO)
                #expect(try await fetch(connection, topic: "a", offset: 0) == FetchedPartition(.kafkaStorageError, []))
                #expect(try await fetch(connection, topic: "a", offset: 0) == FetchedPartition(.none, ["a0"]))
                #expect(
                    try await write(connection, "a", "a1")
                        .errorCode == .none
                )
            }
            #expect(broker.failedPartitions.isEmpty)
        }
    }

    /// A read-only remount: every produce and topic creation fails with KAFKA_STORAGE_ERROR,
    /// fetches keep working, and writing resumes once the volume is writable again.
    @Test func aReadOnlyRemountRefusesWritesAndKeepsServingReads() async throws {
        let fileSystem = InMemoryFileSystem()
        try await withTestBroker(storage: .memory(fileSystem)) { broker in
            try await broker.createTopic("a")
            try await withRawConnection(port: broker.port) { (connection) async throws in
                #expect(
                    try await write(connection, "a", "a0")
                        .errorCode == .none
                )
                fileSystem.setReadOnly(true)
                #expect(
                    try await write(connection, "a", "x")
                        .errorCode == .kafkaStorageError
                )
                #expect(
                    try await write(connection, "a", "y", acks: 1)
                        .errorCode == .kafkaStorageError
                )
                let created = try await connection.send(
                    CreateTopicsRequest(
                        topics: [.init(name: "new", numPartitions: 1, replicationFactor: 1)],
                        timeoutMs: 5000
                    ),
                    version: 5
                )
                #expect(created.topics.first?.errorCode == .kafkaStorageError, "\(created)")
                #expect(try await fetch(connection, topic: "a", offset: 0) == FetchedPartition(.none, ["a0"]))
                fileSystem.setReadOnly(false)
                #expect(
                    try await write(connection, "a", "a1")
                        .baseOffset == 1
                )
            }
            await broker.simulatePowerLoss()
        }
        try await withTestBroker(storage: .memory(fileSystem)) { broker in
            try await withRawConnection(port: broker.port) { (connection) async throws in
                #expect(try await fetch(connection, topic: "a", offset: 0) == FetchedPartition(.none, ["a0", "a1"]))
            }
        }
    }

    /// Produces one record with `value` to partition 0 of `topic` (acks=all unless told).
    private func write(
        _ connection: RawConnection,
        _ topic: String,
        _ value: String,
        acks: Int16 = -1
    ) async throws -> ProduceResponse.PartitionProduceResponse {
        try await produce(connection, topic: topic, records: try recordBatch(values: [value]), acks: acks)
    }
}
