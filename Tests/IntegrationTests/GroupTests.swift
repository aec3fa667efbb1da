import Foundation
import NIOCore
import TernWire
import Testing

/// Consumer groups with real clients against a real `ternd`.
@Suite(.serialized) struct GroupTests {
    /// Short initial delay so tests do not wait Kafka's 3 s for every first join.
    static let environment = ["TERN_GROUP_INITIAL_REBALANCE_DELAY_MS": "300"]

    @Test func threeConsumersShareSixPartitionsAndTakeOverAfterAKill() async throws {
        try await withTernd(environment: Self.environment) { ternd in
            let result = try await runPython(
                "groups.py",
                ["balance", ternd.bootstrap, "balanced"],
                timeout: .seconds(240)
            )
            #expect(result.output.contains("\"records\": 600"))
        }
    }

    @Test(arguments: ["range", "roundrobin"])
    func kafkaPythonAssignorsSplitExactlyAndResumeFromCommits(assignor: String) async throws {
        try await withTernd(environment: Self.environment) { ternd in
            let result = try await runPython(
                "groups.py",
                ["assignor-\(assignor)", ternd.bootstrap, "split-\(assignor)"]
            )
            #expect(result.output.contains("\"records\": 100"))
        }
    }

    /// An acknowledged commit survives a clean restart and a SIGKILL of the broker.
    @Test func committedOffsetsSurviveRestartAndKill() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        let first = try await TerndProcess.start(dataDirectory: dataDirectory, environment: Self.environment)
        let committed = try await runPython("groups.py", ["commit", first.bootstrap, "durable"]).output
        #expect(committed.contains("\"0\": 10") || committed.contains("OffsetAndMetadata") || committed.contains("10"))
        try await first.stop()

        let second = try await TerndProcess.start(dataDirectory: dataDirectory, environment: Self.environment)
        #expect(try await runPython("groups.py", ["committed", second.bootstrap, "durable"]).output == committed)
        try await second.kill()

        let third = try await TerndProcess.start(dataDirectory: dataDirectory, environment: Self.environment)
        #expect(try await runPython("groups.py", ["committed", third.bootstrap, "durable"]).output == committed)
        try await third.stop()
    }

    @Test func badCommitsGetTheirErrorCodes() async throws {
        try await withTernd(environment: Self.environment) { ternd in
            try await withRawConnection(port: ternd.port) { connection in
                _ = try await connection.send(
                    CreateTopicsRequest(
                        topics: [
                            .init(name: "known", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [])
                        ]
                    ),
                    version: 3
                )
                func commit(group: String, generation: Int32, member: String, topic: String) async throws
                    -> KafkaErrorCode?
                {
                    let response = try await connection.send(
                        OffsetCommitRequest(
                            groupId: group,
                            generationIdOrMemberEpoch: generation,
                            memberId: member,
                            topics: [
                                .init(
                                    name: topic,
                                    partitions: [.init(partitionIndex: 0, committedOffset: 5, committedMetadata: nil)]
                                )
                            ]
                        ),
                        version: 3
                    )
                    return response.topics.first?.partitions.first?.errorCode
                }
                #expect(
                    try await commit(group: "g", generation: -1, member: "", topic: "unknown")
                        == .unknownTopicOrPartition
                )
                #expect(try await commit(group: "", generation: -1, member: "", topic: "known") == .invalidGroupId)
                #expect(try await commit(group: "g", generation: -1, member: "", topic: "known") == KafkaErrorCode.none)

                // A live group: one member joined through the real protocol.
                let joined = try await connection.send(
                    JoinGroupRequest(
                        groupId: "live",
                        sessionTimeoutMs: 10_000,
                        rebalanceTimeoutMs: 10_000,
                        memberId: "",
                        protocolType: "consumer",
                        protocols: [.init(name: "range", metadata: ByteBuffer(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))]
                    ),
                    version: 2
                )
                #expect(joined.errorCode == KafkaErrorCode.none)
                #expect(
                    try await commit(group: "live", generation: joined.generationId, member: "stranger", topic: "known")
                        == .unknownMemberId
                )
                #expect(
                    try await commit(
                        group: "live",
                        generation: joined.generationId + 7,
                        member: joined.memberId,
                        topic: "known"
                    ) == .illegalGeneration
                )
                let heartbeat = try await connection.send(
                    HeartbeatRequest(groupId: "live", generationId: joined.generationId, memberId: "stranger"),
                    version: 1
                )
                #expect(heartbeat.errorCode == .unknownMemberId)

                let fetched = try await connection.send(
                    OffsetFetchRequest(groupId: "g", topics: nil),
                    version: 3
                )
                #expect(fetched.topics.first?.partitions.first?.committedOffset == 5)
                let offsetDeleted = try await connection.send(
                    OffsetDeleteRequest(
                        groupId: "g",
                        topics: [.init(name: "known", partitions: [.init(partitionIndex: 0)])]
                    ),
                    version: 0
                )
                #expect(offsetDeleted.errorCode == KafkaErrorCode.none)
                let refetched = try await connection.send(OffsetFetchRequest(groupId: "g", topics: nil), version: 3)
                #expect(refetched.topics.isEmpty)
                let deleted = try await connection.send(
                    DeleteGroupsRequest(groupsNames: ["g", "nope", "live"]),
                    version: 1
                )
                #expect(deleted.results.map(\.errorCode) == [.none, .groupIdNotFound, .nonEmptyGroup])
            }
        }
    }
}
