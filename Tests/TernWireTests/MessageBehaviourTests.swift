import NIOCore
import TernWire
import Testing

/// Behaviour of particular fields and helpers that the generic round-trip, golden and schema tests
/// do not single out.
@Suite struct MessageBehaviourTests {
    /// The exact frame of kafka-compat.md §1.4: what a broker sends back to an ApiVersions request
    /// of a version it does not support (v0 body, header v0).
    @Test func unsupportedApiVersionsReplyFrame() {
        var frame = ByteBuffer()
        ApiVersionsResponse(
            errorCode: .unsupportedVersion,
            apiKeys: [.init(apiKey: .apiVersions, minVersion: 0, maxVersion: 2)]
        ).writeFrame(to: &frame, version: 0, correlationId: 1)
        #expect(hex(frame) == "00000010" + "00000001" + "0023" + "00000001" + "001200000002")
    }

    /// Null and empty topic lists differ where the version allows null (v1+: all topics versus
    /// none); v0 has no null, and all topics is an empty list there.
    @Test func metadataNullAndEmptyTopics() throws {
        for version in MetadataRequest.versions where version >= 1 {
            let all = try MetadataRequest.decode(MetadataRequest.allTopics.encoded(version: version), version: version)
            let none = try MetadataRequest.decode(
                MetadataRequest(topics: []).encoded(version: version),
                version: version
            )
            #expect(all.topics == nil, "v\(version)")
            #expect(none.topics == [], "v\(version)")
        }
        #expect(hex(MetadataRequest.allTopics.encoded(version: 0)) == "00000000")
        #expect(try MetadataRequest.decode(buffer(hex: "00000000"), version: 0).topics == [])
        #expect(hex(MetadataRequest.allTopics.encoded(version: 1)) == "ffffffff")
        // Compact null, three flags, no tags.
        #expect(hex(MetadataRequest.allTopics.encoded(version: 9)) == "0001000000")
    }

    /// Null, empty and non-empty records are three different values on the wire.
    @Test func produceRecordsKeepNullEmptyAndBytes() throws {
        for records in [nil, ByteBuffer(), ByteBuffer(bytes: [1, 2, 3])] as [ByteBuffer?] {
            let request = ProduceRequest(
                acks: -1,
                timeoutMs: 1000,
                topicData: [.init(name: "t", partitionData: [.init(index: 0, records: records)])]
            )
            for version in ProduceRequest.versions {
                let decoded = try ProduceRequest.decode(request.encoded(version: version), version: version)
                #expect(decoded.topicData.first?.partitionData.first?.records == records, "v\(version)")
            }
        }
        #expect(ProduceRequest(acks: 0).expectsResponse == false)
        #expect(ProduceRequest(acks: 1).expectsResponse)
        #expect(ProduceRequest(acks: -1).expectsResponse)
    }

    /// An error-only Fetch partition has unknown offsets and empty (not null) records.
    @Test func fetchErrorPartition() throws {
        let partition = FetchResponse.PartitionData.error(.notLeaderOrFollower, partitionIndex: 3)
        #expect(partition.highWatermark == -1 && partition.lastStableOffset == -1 && partition.logStartOffset == -1)
        let response = FetchResponse(responses: [.init(topic: "t", partitions: [partition])])
        for version in FetchResponse.versions {
            let decoded = try FetchResponse.decode(response.encoded(version: version), version: version)
            let records = decoded.responses.first?.partitions.first?.records
            #expect(records == ByteBuffer(), "v\(version)")
        }
        var codes: [KafkaErrorCode] = []
        var resources: [String?] = []
        response.forEachErrorCode { code, resource in
            codes.append(code)
            resources.append(resource)
        }
        #expect(codes == [.none, .notLeaderOrFollower])
        // The top-level code is about no resource; the partition's is about its topic.
        #expect(resources == [nil, "t"])
    }

    /// Each error code comes with the group it is about.
    @Test func errorCodesNameTheirGroup() {
        let response = DescribeGroupsResponse(groups: [
            .init(errorCode: .none, groupId: "billing"), .init(errorCode: .groupIdNotFound, groupId: "mailer"),
        ])
        var seen: [String] = []
        response.forEachErrorCode { code, resource in seen.append("\(resource ?? "-") \(code.rawValue)") }
        #expect(seen == ["billing 0", "mailer 69"])
    }

    /// Tagged fields are written in tag order, known and unknown merged; a reader refuses tags out
    /// of order or repeated, and a tagged field longer than the bytes left.
    @Test func taggedFieldOrder() throws {
        let request = FetchRequest(
            clusterId: "c",  // tag 0
            replicaState: .init(replicaId: 1, replicaEpoch: 2),  // tag 1
            unknownTaggedFields: [TaggedField(tag: 7, data: ByteBuffer(bytes: [0xAA]))]
        )
        let encoded = request.encoded(version: 15)
        // 3 fields: tag 0 (2 bytes: compact "c"), tag 1 (13 bytes: int32 replica id, int64 epoch, no
        // tags), tag 7 (1 byte).
        let section: String = "03" + "00020263" + "010d" + "00000001" + "0000000000000002" + "00" + "0701aa"
        #expect(hex(encoded).hasSuffix(section))
        #expect(try FetchRequest.decode(encoded, version: 15) == request)

        // The same top-level section with its tags in the wrong order, and with a repeated tag.
        let prefix = String(hex(encoded).dropLast(section.count))
        let outOfOrder: String = "02" + "0701aa" + "00020263"
        let repeated: String = "02" + "00020263" + "00020263"
        let tooLong: String = "01" + "0709aa"
        for bad in [outOfOrder, repeated, tooLong] {
            #expect(throws: WireError(.invalidLength, ""), "\(bad)") {
                try FetchRequest.decode(buffer(hex: prefix + bad), version: 15)
            }
        }
    }

    /// Config values carry their names; unknown raw values still print.
    @Test func namedValues() {
        #expect(IsolationLevel.readCommitted.description == "READ_COMMITTED")
        #expect(ConfigSource.notReported.rawValue == -1)
        #expect(ConfigResourceType.topic.description == "TOPIC")
        #expect(ConfigResourceType(rawValue: 99).description == "ConfigResourceType(99)")
    }
}
