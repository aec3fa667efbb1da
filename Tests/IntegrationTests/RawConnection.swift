import NIOCore
import NIOPosix
import TernCompression
import TernRecords
import TernWire
import Testing

/// A bare Kafka connection for tests: writes frames (well-formed or not) and reads response frames.
final class RawConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var nextCorrelationId: Int32 = 1

    fileprivate init(
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.inbound = inbound
        self.outbound = outbound
    }

    func send<Request: KafkaRequestMessage>(_ request: Request, version: Int16) async throws -> Request.Response {
        let correlationId = self.nextCorrelationId
        self.nextCorrelationId += 1
        var frame = ByteBuffer()
        request.writeFrame(to: &frame, version: version, correlationId: correlationId, clientId: "raw-test")
        try await self.outbound.write(frame)
        guard var response = try await self.inbound.next() else { throw TestFailure("connection closed") }
        let header = try ResponseHeader(
            from: &response,
            headerVersion: Request.apiKey.responseHeaderVersion(for: version)
        )
        guard header.correlationId == correlationId else {
            throw TestFailure("correlation id \(header.correlationId), expected \(correlationId)")
        }
        return try Request.Response.decode(response, version: version)
    }

    func writeRaw(_ bytes: ByteBuffer) async throws {
        try await self.outbound.write(bytes)
    }

    /// Waits for the broker to close the connection; true if nothing was sent back before.
    func closedWithoutResponse() async -> Bool {
        do {
            return try await self.inbound.next() == nil
        } catch {
            return true
        }
    }
}

/// Opens a connection to the broker on `port`, runs `body` with it, and closes it.
func withRawConnection<T>(port: Int, _ body: (RawConnection) async throws -> T) async throws -> T {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await body(RawConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound))
    }
}

/// A record batch of `values` (no keys), as a producer would send it.
func recordBatch(
    values: [String],
    codec: CompressionCodec = .none,
    producerId: Int64 = -1,
    baseSequence: Int32 = -1
) throws -> ByteBuffer {
    var builder = RecordBatchBuilder(
        codec: codec,
        producerId: producerId,
        producerEpoch: producerId >= 0 ? 0 : -1,
        baseSequence: baseSequence
    )
    for value in values {
        builder.append(key: nil, value: ByteBuffer(string: value), timestampMs: 1_700_000_000_000)
    }
    return try builder.build()
}

/// One partition's Produce answer.
func produce(
    _ connection: RawConnection,
    topic: String,
    partition: Int32 = 0,
    records: ByteBuffer?,
    acks: Int16 = 1,
    version: Int16 = 7
) async throws -> ProduceResponse.PartitionProduceResponse {
    let response = try await connection.send(
        ProduceRequest(
            acks: acks,
            timeoutMs: 5000,
            topicData: [.init(name: topic, partitionData: [.init(index: partition, records: records)])]
        ),
        version: version
    )
    return try #require(response.responses.first?.partitionResponses.first)
}

/// One partition's Fetch answer: its error code and the values of the records from the offset.
struct FetchedPartition: Equatable {
    var errorCode: KafkaErrorCode
    var values: [String]
    init(_ errorCode: KafkaErrorCode, _ values: [String]) {
        self.errorCode = errorCode
        self.values = values
    }
}

/// Fetches one partition from `offset` without waiting.
func fetch(
    _ connection: RawConnection,
    topic: String,
    partition: Int32 = 0,
    offset: Int64
) async throws -> FetchedPartition {
    let response = try await connection.send(
        FetchRequest(
            maxWaitMs: 0,
            minBytes: 0,
            topics: [
                .init(
                    topic: topic,
                    partitions: [.init(partition: partition, fetchOffset: offset, partitionMaxBytes: 1 << 20)]
                )
            ]
        ),
        version: 11
    )
    let answer = try #require(response.responses.first?.partitions.first)
    var values: [String] = []
    if let records = answer.records {
        for batch in try RecordBatch.split(records).batches {
            for record in try batch.records(decompressionLimit: 1 << 20) where record.offset >= offset {
                values.append(record.value.map { String(buffer: $0) } ?? "<null>")
            }
        }
    }
    return FetchedPartition(answer.errorCode, values)
}
