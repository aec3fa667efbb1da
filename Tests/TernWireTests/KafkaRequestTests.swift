import NIOCore
import TernWire
import Testing

@Suite struct KafkaRequestTests {
    private func frameBody<M: KafkaRequestMessage>(_ message: M, version: Int16) -> ByteBuffer {
        var frame = ByteBuffer()
        message.writeFrame(to: &frame, version: version, correlationId: 17, clientId: "c")
        frame.moveReaderIndex(forwardBy: 4)
        return frame
    }

    @Test func dispatchesEveryApiAtEveryVersion() throws {
        func check<M: KafkaRequestMessage & SampledMessage>(_ type: M.Type, _ wrap: (M) -> KafkaRequest) throws {
            #expect(KafkaRequest.versions(of: M.apiKey) == M.versions)
            for version in M.versions {
                let sample = M.sample(version: version)
                let (header, request) = try KafkaRequest.decode(frame: frameBody(sample, version: version))
                #expect(header.apiKey == M.apiKey && header.apiVersion == version && header.correlationId == 17)
                #expect(request == wrap(sample))
            }
        }
        try check(ApiVersionsRequest.self) { .apiVersions($0) }
        try check(MetadataRequest.self) { .metadata($0) }
        try check(ProduceRequest.self) { .produce($0) }
        try check(FetchRequest.self) { .fetch($0) }
        try check(ListOffsetsRequest.self) { .listOffsets($0) }
        try check(CreateTopicsRequest.self) { .createTopics($0) }
        try check(DeleteTopicsRequest.self) { .deleteTopics($0) }
        try check(InitProducerIdRequest.self) { .initProducerId($0) }
        try check(DescribeConfigsRequest.self) { .describeConfigs($0) }
        try check(FindCoordinatorRequest.self) { .findCoordinator($0) }
        try check(JoinGroupRequest.self) { .joinGroup($0) }
        try check(SyncGroupRequest.self) { .syncGroup($0) }
        try check(HeartbeatRequest.self) { .heartbeat($0) }
        try check(LeaveGroupRequest.self) { .leaveGroup($0) }
        try check(OffsetCommitRequest.self) { .offsetCommit($0) }
        try check(OffsetFetchRequest.self) { .offsetFetch($0) }
        try check(DescribeGroupsRequest.self) { .describeGroups($0) }
        try check(ListGroupsRequest.self) { .listGroups($0) }
        try check(DeleteGroupsRequest.self) { .deleteGroups($0) }
        try check(OffsetDeleteRequest.self) { .offsetDelete($0) }
        #expect(KafkaRequest.supportedApiKeys.count == 20)
    }

    @Test func unknownApiAndUnsupportedVersionsAreErrors() {
        var unknown = ByteBuffer()
        RequestHeader(apiKey: ApiKey(rawValue: 1000), apiVersion: 0, correlationId: 1).write(to: &unknown)
        #expect(throws: WireError(.unknownApiKey, "")) { try KafkaRequest.decode(frame: unknown) }

        // Produce v2 is advertised by brokers for old librdkafka but never accepted (KAFKA-18659).
        var produceV2 = ByteBuffer()
        RequestHeader(apiKey: .produce, apiVersion: 2, correlationId: 1, clientId: nil).write(to: &produceV2)
        #expect(throws: WireError(.unsupportedVersion, "")) { try KafkaRequest.decode(frame: produceV2) }

        #expect(throws: WireError(.truncated, "")) { try KafkaRequest.decode(frame: ByteBuffer(bytes: [0, 3])) }
    }

    @Test func trailingBytesAfterTheBodyAreRefused() {
        var frame = frameBody(HeartbeatRequest.sample(version: 1), version: 1)
        frame.writeInteger(UInt8(1))
        #expect(throws: WireError(.trailingBytes, "")) { try KafkaRequest.decode(frame: frame) }
    }
}
