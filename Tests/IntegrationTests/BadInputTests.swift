import Foundation
import NIOCore
import TernCompression
import TernRecords
import TernWire
import Testing

/// Each kind of bad input gets its Kafka error code or a clean close of its own connection, while
/// a second client on the same broker keeps producing and consuming between every case.
@Suite struct BadInputTests {
    private static let maxMessageBytes = 64 * 1024

    /// The bystander: one produce and one fetch of what it produced, on its own connection.
    private final class Bystander {
        let connection: RawConnection
        var nextOffset: Int64 = 0
        init(_ connection: RawConnection) { self.connection = connection }
    }

    private func roundTrip(_ bystander: Bystander) async throws {
        let value = "steady-\(bystander.nextOffset)"
        let produced = try await produce(
            bystander.connection,
            topic: "steady",
            records: try recordBatch(values: [value])
        )
        #expect(produced.errorCode == .none)
        #expect(produced.baseOffset == bystander.nextOffset)
        let fetched = try await bystander.connection.send(
            FetchRequest(
                maxWaitMs: 100,
                minBytes: 1,
                topics: [
                    .init(
                        topic: "steady",
                        partitions: [.init(partition: 0, fetchOffset: bystander.nextOffset, partitionMaxBytes: 1 << 20)]
                    )
                ]
            ),
            version: 11
        )
        let records = try #require(fetched.responses.first?.partitions.first?.records)
        let batches = try RecordBatch.split(records).batches
        let record = try #require(try batches.first?.records(decompressionLimit: 1 << 20).first { _ in true })
        #expect(record.offset == bystander.nextOffset)
        #expect(record.value == ByteBuffer(string: value))
        bystander.nextOffset += 1
    }

    private func expectClosed(port: Int, sending bytes: ByteBuffer, _ comment: Comment) async throws {
        try await withRawConnection(port: port) { connection in
            try await connection.writeRaw(bytes)
            #expect(await connection.closedWithoutResponse(), comment)
        }
    }

    @Test func badInputIsRefusedAndOthersKeepWorking() async throws {
        try await withTernd(environment: ["TERN_MESSAGE_MAX_BYTES": "\(Self.maxMessageBytes)"]) { ternd in
            try await withRawConnection(port: ternd.port) { admin in
                let created = try await admin.send(
                    CreateTopicsRequest(
                        topics: [
                            .init(name: "steady", numPartitions: 1, replicationFactor: 1, assignments: [], configs: []),
                            .init(name: "target", numPartitions: 2, replicationFactor: 1, assignments: [], configs: []),
                        ]
                    ),
                    version: 3
                )
                #expect(created.topics.map(\.errorCode) == [.none, .none])
            }
            try await withRawConnection(port: ternd.port) { connection in
                let bystander = Bystander(connection)
                try await roundTrip(bystander)

                // Framing: garbage, a 2 GiB size prefix, a negative size, a frame cut inside its body.
                var garbage = ByteBuffer()
                garbage.writeBytes((0..<256).map { _ in UInt8.random(in: 0...255) })
                garbage.setInteger(Int32(200), at: 0)
                try await expectClosed(port: ternd.port, sending: garbage, "garbage")
                try await roundTrip(bystander)

                var huge = ByteBuffer()
                huge.writeInteger(Int32.max)
                huge.writeBytes([0, 0, 0, 0])
                try await expectClosed(port: ternd.port, sending: huge, "2 GiB size prefix")
                try await roundTrip(bystander)

                var truncated = ByteBuffer()
                ProduceRequest(
                    acks: 1,
                    timeoutMs: 1000,
                    topicData: [
                        .init(name: "target", partitionData: [.init(index: 0, records: try recordBatch(values: ["x"]))])
                    ]
                ).writeFrame(to: &truncated, version: 7, correlationId: 1, clientId: "bad")
                let cut = truncated.readableBytes - 30
                truncated.moveWriterIndex(to: truncated.readerIndex + cut)
                truncated.setInteger(Int32(cut - 4), at: truncated.readerIndex)
                try await expectClosed(port: ternd.port, sending: truncated, "frame body cut short")
                try await roundTrip(bystander)

                // Versions above the schemas', APIs Tern does not serve, an unknown key, and served
                // versions whose body is cut short: each closes the connection.
                for (key, version) in [
                    (ApiKey.produce, Int16(12)), (.fetch, 18), (.metadata, 13), (.createPartitions, 0),
                    (ApiKey(rawValue: 999), 0), (.produce, 2), (.fetch, 12),
                ] {
                    var frame = ByteBuffer()
                    frame.writeKafkaFrame {
                        RequestHeader(apiKey: key, apiVersion: version, correlationId: 5, clientId: "bad")
                            .write(to: &$0, headerVersion: 1)
                        $0.writeBytes([0, 0, 0, 0])
                    }
                    try await expectClosed(port: ternd.port, sending: frame, "\(key) v\(version)")
                    try await roundTrip(bystander)
                }

                // Record-level errors come back as error codes, on a connection that stays usable.
                try await withRawConnection(port: ternd.port) { offender in
                    var corrupt = try recordBatch(values: ["a", "b"])
                    let last = corrupt.writerIndex - 1
                    corrupt.setInteger(corrupt.getInteger(at: last, as: UInt8.self)! ^ 0xFF, at: last)
                    #expect(try await produce(offender, topic: "target", records: corrupt).errorCode == .corruptMessage)
                    try await roundTrip(bystander)

                    var legacy = try recordBatch(values: ["a"])
                    legacy.setInteger(Int8(1), at: legacy.readerIndex + 16)
                    // Kafka answers a magic 0/1 set in Produce v3+ with INVALID_RECORD (ProduceRequest.validateRecords).
                    #expect(try await produce(offender, topic: "target", records: legacy).errorCode == .invalidRecord)

                    let oversized = try recordBatch(values: [String(repeating: "o", count: Self.maxMessageBytes + 1)])
                    #expect(
                        try await produce(offender, topic: "target", records: oversized).errorCode == .messageTooLarge
                    )
                    try await roundTrip(bystander)

                    let good = try recordBatch(values: ["fine"])
                    #expect(
                        try await produce(offender, topic: "nope", records: good).errorCode == .unknownTopicOrPartition
                    )
                    #expect(
                        try await produce(offender, topic: "target", partition: -1, records: good).errorCode
                            == .unknownTopicOrPartition
                    )
                    #expect(
                        try await produce(offender, topic: "target", partition: 2, records: good).errorCode
                            == .unknownTopicOrPartition
                    )
                    #expect(
                        try await produce(offender, topic: "target", records: good, acks: 7).errorCode
                            == .invalidRequiredAcks
                    )
                    #expect(try await produce(offender, topic: "target", records: nil).errorCode == .invalidRecord)
                    let zstd = try recordBatch(values: ["z"], codec: .zstd)
                    #expect(
                        try await produce(offender, topic: "target", records: zstd, version: 6).errorCode
                            == .unsupportedCompressionType
                    )
                    #expect(try await produce(offender, topic: "target", records: good).errorCode == .none)

                    let fetched = try await offender.send(
                        FetchRequest(
                            maxWaitMs: 0,
                            minBytes: 0,
                            topics: [
                                .init(
                                    topic: "target",
                                    partitions: [
                                        .init(partition: 0, fetchOffset: 1000, partitionMaxBytes: 1024),
                                        .init(partition: -1, fetchOffset: 0, partitionMaxBytes: 1024),
                                    ]
                                ),
                                .init(
                                    topic: "nope",
                                    partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1024)]
                                ),
                            ]
                        ),
                        version: 11
                    )
                    let codes = fetched.responses.flatMap { $0.partitions.map(\.errorCode) }
                    #expect(codes == [.offsetOutOfRange, .unknownTopicOrPartition, .unknownTopicOrPartition])
                    try await roundTrip(bystander)
                }

                // Idempotence: a retried batch gets its original offset; a gap is refused.
                try await withRawConnection(port: ternd.port) { producer in
                    let initialized = try await producer.send(
                        InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: -1),
                        version: 0
                    )
                    #expect(initialized.errorCode == .none)
                    let id = initialized.producerId
                    let first = try recordBatch(values: ["p0", "p1"], producerId: id, baseSequence: 0)
                    let written = try await produce(producer, topic: "target", partition: 1, records: first)
                    let retried = try await produce(producer, topic: "target", partition: 1, records: first)
                    #expect(written.errorCode == .none && retried.errorCode == .none)
                    #expect(retried.baseOffset == written.baseOffset)
                    let gap = try recordBatch(values: ["p5"], producerId: id, baseSequence: 5)
                    #expect(
                        try await produce(producer, topic: "target", partition: 1, records: gap).errorCode
                            == .outOfOrderSequenceNumber
                    )
                    let next = try recordBatch(values: ["p2"], producerId: id, baseSequence: 2)
                    let appended = try await produce(producer, topic: "target", partition: 1, records: next)
                    #expect(appended.errorCode == .none && appended.baseOffset == written.baseOffset + 2)
                }
                try await roundTrip(bystander)
                #expect(bystander.nextOffset == 15)
            }
        }
    }
}
