import NIOCore

/// A decoded request of any API this codec implements: what a broker dispatches on.
public enum KafkaRequest: Hashable, Sendable {
    case apiVersions(ApiVersionsRequest)
    case createTopics(CreateTopicsRequest)
    case deleteTopics(DeleteTopicsRequest)
    case describeConfigs(DescribeConfigsRequest)
    case describeGroups(DescribeGroupsRequest)
    case fetch(FetchRequest)
    case findCoordinator(FindCoordinatorRequest)
    case heartbeat(HeartbeatRequest)
    case initProducerId(InitProducerIdRequest)
    case joinGroup(JoinGroupRequest)
    case leaveGroup(LeaveGroupRequest)
    case listGroups(ListGroupsRequest)
    case listOffsets(ListOffsetsRequest)
    case metadata(MetadataRequest)
    case offsetCommit(OffsetCommitRequest)
    case offsetFetch(OffsetFetchRequest)
    case produce(ProduceRequest)
    case syncGroup(SyncGroupRequest)
    case deleteGroups(DeleteGroupsRequest)
    case offsetDelete(OffsetDeleteRequest)

    /// The APIs this codec can decode.
    public static let supportedApiKeys: [ApiKey] = [
        .apiVersions, .createTopics, .deleteTopics, .describeConfigs, .describeGroups, .fetch, .findCoordinator,
        .heartbeat, .initProducerId, .joinGroup, .leaveGroup, .listGroups, .listOffsets, .metadata, .offsetCommit,
        .offsetFetch, .produce, .syncGroup, .deleteGroups, .offsetDelete,
    ]

    /// The versions of `apiKey` this codec decodes, or nil if it does not know the API.
    public static func versions(of apiKey: ApiKey) -> ClosedRange<Int16>? {
        switch apiKey {
        case .apiVersions: ApiVersionsRequest.versions
        case .createTopics: CreateTopicsRequest.versions
        case .deleteTopics: DeleteTopicsRequest.versions
        case .describeConfigs: DescribeConfigsRequest.versions
        case .describeGroups: DescribeGroupsRequest.versions
        case .fetch: FetchRequest.versions
        case .findCoordinator: FindCoordinatorRequest.versions
        case .heartbeat: HeartbeatRequest.versions
        case .initProducerId: InitProducerIdRequest.versions
        case .joinGroup: JoinGroupRequest.versions
        case .leaveGroup: LeaveGroupRequest.versions
        case .listGroups: ListGroupsRequest.versions
        case .listOffsets: ListOffsetsRequest.versions
        case .metadata: MetadataRequest.versions
        case .offsetCommit: OffsetCommitRequest.versions
        case .offsetFetch: OffsetFetchRequest.versions
        case .produce: ProduceRequest.versions
        case .syncGroup: SyncGroupRequest.versions
        case .deleteGroups: DeleteGroupsRequest.versions
        case .offsetDelete: OffsetDeleteRequest.versions
        default: nil
        }
    }

    /// Decodes a request frame (without its size prefix): the header in the version its API calls
    /// for, then the whole body. Unknown APIs, versions outside the codec's range, malformed and
    /// trailing bytes all throw.
    public static func decode(frame: ByteBuffer) throws(WireError) -> (header: RequestHeader, request: KafkaRequest) {
        let prefix = try RequestHeader.peekPrefix(frame)
        guard let versions = Self.versions(of: prefix.apiKey) else {
            throw WireError(.unknownApiKey, "API key \(prefix.apiKey.rawValue) is not supported")
        }
        guard versions.contains(prefix.apiVersion) else {
            throw WireError(.unsupportedVersion, "\(prefix.apiKey) v\(prefix.apiVersion) is outside \(versions)")
        }
        var body = frame
        let header = try RequestHeader(from: &body)
        let request: KafkaRequest =
            switch header.apiKey {
            case .apiVersions: .apiVersions(try ApiVersionsRequest.decode(body, version: header.apiVersion))
            case .createTopics: .createTopics(try CreateTopicsRequest.decode(body, version: header.apiVersion))
            case .deleteTopics: .deleteTopics(try DeleteTopicsRequest.decode(body, version: header.apiVersion))
            case .describeConfigs: .describeConfigs(try DescribeConfigsRequest.decode(body, version: header.apiVersion))
            case .describeGroups: .describeGroups(try DescribeGroupsRequest.decode(body, version: header.apiVersion))
            case .fetch: .fetch(try FetchRequest.decode(body, version: header.apiVersion))
            case .findCoordinator: .findCoordinator(try FindCoordinatorRequest.decode(body, version: header.apiVersion))
            case .heartbeat: .heartbeat(try HeartbeatRequest.decode(body, version: header.apiVersion))
            case .initProducerId: .initProducerId(try InitProducerIdRequest.decode(body, version: header.apiVersion))
            case .joinGroup: .joinGroup(try JoinGroupRequest.decode(body, version: header.apiVersion))
            case .leaveGroup: .leaveGroup(try LeaveGroupRequest.decode(body, version: header.apiVersion))
            case .listGroups: .listGroups(try ListGroupsRequest.decode(body, version: header.apiVersion))
            case .listOffsets: .listOffsets(try ListOffsetsRequest.decode(body, version: header.apiVersion))
            case .metadata: .metadata(try MetadataRequest.decode(body, version: header.apiVersion))
            case .offsetCommit: .offsetCommit(try OffsetCommitRequest.decode(body, version: header.apiVersion))
            case .offsetFetch: .offsetFetch(try OffsetFetchRequest.decode(body, version: header.apiVersion))
            case .produce: .produce(try ProduceRequest.decode(body, version: header.apiVersion))
            case .syncGroup: .syncGroup(try SyncGroupRequest.decode(body, version: header.apiVersion))
            case .deleteGroups: .deleteGroups(try DeleteGroupsRequest.decode(body, version: header.apiVersion))
            case .offsetDelete: .offsetDelete(try OffsetDeleteRequest.decode(body, version: header.apiVersion))
            default: preconditionFailure("versions(of:) and decode disagree on \(header.apiKey)")
            }
        return (header, request)
    }
}
