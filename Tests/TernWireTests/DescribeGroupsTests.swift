import NIOCore
import TernWire
import Testing

extension DescribeGroupsRequest: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(groups: ["group-a", "group-b"], includeAuthorizedOperations: version >= 3)
    }
}

extension DescribeGroupsResponse: SampledMessage {
    static func sample(version: Int16) -> Self {
        Self(
            throttleTimeMs: version >= 1 ? 40 : 0,
            groups: [
                Group(
                    errorCode: .none,
                    groupId: "group-a",
                    groupState: "Stable",
                    protocolType: "consumer",
                    protocolData: "range",
                    members: [
                        Member(
                            memberId: "member-1",
                            groupInstanceId: version >= 4 ? "instance-1" : nil,
                            clientId: "client-1",
                            clientHost: "/10.0.0.1",
                            memberMetadata: ByteBuffer(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
                            memberAssignment: ByteBuffer(bytes: [0, 1])
                        ),
                        Member(
                            memberId: "member-2",
                            groupInstanceId: nil,
                            clientId: "client-2",
                            clientHost: "/10.0.0.2"
                        ),
                    ],
                    authorizedOperations: version >= 3 ? 0b1_1000 : DescribeGroupsResponse.authorizedOperationsOmitted
                ),
                Group(
                    errorCode: .groupAuthorizationFailed,
                    groupId: "group-b",
                    groupState: "",
                    protocolType: "",
                    protocolData: "",
                    authorizedOperations: version >= 3 ? 0 : DescribeGroupsResponse.authorizedOperationsOmitted
                ),
            ]
        )
    }
}

@Suite struct DescribeGroupsTests {
    @Test func roundTripsAtEveryVersion() throws {
        try expectRoundTripAtEveryVersion(DescribeGroupsRequest.self)
        try expectRoundTripAtEveryVersion(DescribeGroupsResponse.self)
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenGroupApis.bodies
        try expectGolden(DescribeGroupsRequest(groups: ["g1", "g2"]), version: 0, golden["describe_groups_request_v0"])
        try expectGolden(
            DescribeGroupsRequest(groups: ["g1"], includeAuthorizedOperations: true),
            version: 4,
            golden["describe_groups_request_v4"]
        )
        try expectGolden(
            DescribeGroupsResponse(groups: [
                .init(
                    groupId: "g1",
                    groupState: "Stable",
                    protocolType: "consumer",
                    protocolData: "range",
                    members: [
                        .init(
                            memberId: "m-1",
                            clientId: "c",
                            clientHost: "/127.0.0.1",
                            memberMetadata: ConsumerProtocolSamples.subscriptionV0,
                            memberAssignment: ConsumerProtocolSamples.assignmentV0
                        )
                    ]
                )
            ]),
            version: 0,
            golden["describe_groups_response_v0"]
        )
        try expectGolden(
            DescribeGroupsResponse(
                throttleTimeMs: 8,
                groups: [
                    .init(
                        groupId: "g1",
                        groupState: "Stable",
                        protocolType: "consumer",
                        protocolData: "range",
                        members: [
                            .init(
                                memberId: "m-1",
                                groupInstanceId: "i-1",
                                clientId: "c",
                                clientHost: "/10.0.0.1",
                                memberMetadata: ByteBuffer(bytes: [0])
                            ),
                            .init(
                                memberId: "m-2",
                                clientId: "c2",
                                clientHost: "/10.0.0.2",
                                memberAssignment: ByteBuffer(bytes: [1])
                            ),
                        ],
                        // kafka-python's bit set {3, 8}: READ and DESCRIBE.
                        authorizedOperations: 1 << 3 | 1 << 8
                    ),
                    .init(groupId: "gone", groupState: "Dead", protocolType: "", protocolData: ""),
                ]
            ),
            version: 4,
            golden["describe_groups_response_v4"]
        )
    }

    /// Below v3 the authorized-operations field is absent and reads back as the schema default
    /// Int32.min; below v4 so is the group instance id.
    @Test func laterFieldsTakeDefaultsInEarlierVersions() throws {
        let full = DescribeGroupsResponse.sample(version: 4)
        let v2 = try DescribeGroupsResponse.decode(full.encoded(version: 2), version: 2)
        #expect(v2.groups.map(\.authorizedOperations) == [Int32.min, Int32.min])
        #expect(v2.groups[0].members[0].groupInstanceId == nil)
        let v3 = try DescribeGroupsResponse.decode(full.encoded(version: 3), version: 3)
        #expect(v3.groups.map(\.authorizedOperations) == [0b1_1000, 0])
        #expect(v3.groups[0].members[0].groupInstanceId == nil)
        #expect(v3.groups[0].members[0].memberAssignment == ByteBuffer(bytes: [0, 1]))
    }
}
