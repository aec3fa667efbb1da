import TernWire
import Testing

@testable import TernClient

/// The client negotiates within `ClientApiVersions`, not the codecs' full ranges.
@Suite struct ClientApiVersionsTests {
    private static func entry<Request: KafkaRequestMessage>(_ request: Request.Type) -> (ApiKey, ClosedRange<Int16>) {
        (Request.apiKey, Request.versions)
    }

    /// Every request the client sends, with its codec's versions.
    static let requests = [
        entry(ProduceRequest.self), entry(FetchRequest.self), entry(ListOffsetsRequest.self),
        entry(MetadataRequest.self), entry(OffsetCommitRequest.self), entry(OffsetFetchRequest.self),
        entry(FindCoordinatorRequest.self), entry(JoinGroupRequest.self), entry(HeartbeatRequest.self),
        entry(LeaveGroupRequest.self), entry(SyncGroupRequest.self), entry(DescribeGroupsRequest.self),
        entry(ListGroupsRequest.self), entry(ApiVersionsRequest.self), entry(CreateTopicsRequest.self),
        entry(DeleteTopicsRequest.self), entry(InitProducerIdRequest.self), entry(DescribeConfigsRequest.self),
        entry(DeleteGroupsRequest.self), entry(OffsetDeleteRequest.self), entry(DeleteRecordsRequest.self),
        entry(CreatePartitionsRequest.self), entry(DescribeClusterRequest.self), entry(DescribeLogDirsRequest.self),
        entry(IncrementalAlterConfigsRequest.self), entry(SaslHandshakeRequest.self),
        entry(SaslAuthenticateRequest.self), entry(DescribeAclsRequest.self), entry(CreateAclsRequest.self),
        entry(DeleteAclsRequest.self), entry(DescribeUserScramCredentialsRequest.self),
        entry(AlterUserScramCredentialsRequest.self), entry(AddPartitionsToTxnRequest.self),
        entry(AddOffsetsToTxnRequest.self), entry(EndTxnRequest.self), entry(TxnOffsetCommitRequest.self),
    ]

    @Test func everyRequestHasARangeItsCodecCovers() {
        #expect(Set(ClientApiVersions.supported.keys) == Set(Self.requests.map(\.0)))
        for (apiKey, codec) in Self.requests {
            guard let range = ClientApiVersions.supported[apiKey] else { continue }
            #expect(codec.lowerBound <= range.lowerBound && range.upperBound <= codec.upperBound, "\(apiKey)")
        }
    }

    @Test func negotiationStopsBelowVersionsTheClientWasNotWrittenFor() {
        // Fetch 13+ names topics by id, Metadata 10+ reports topic ids, Produce < 3 has no v2 batches.
        #expect(ClientApiVersions.range(of: FetchRequest.self) == 4...11)
        #expect(ClientApiVersions.range(of: MetadataRequest.self) == 1...4)
        #expect(ClientApiVersions.range(of: ProduceRequest.self) == 3...7)
        #expect(FetchRequest.versions.upperBound > 11)
    }
}
