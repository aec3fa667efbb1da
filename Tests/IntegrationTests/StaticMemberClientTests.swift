import Foundation
import Testing

/// Static group membership (KIP-345) and the KIP-394 member id round trip with librdkafka against a
/// real `ternd` (python/static_members.py).
@Suite(.serialized) struct StaticMemberClientTests {
    static let environment = ["TERN_GROUP_INITIAL_REBALANCE_DELAY_MS": "300"]

    /// Two static members share 4 partitions; one is closed (no LeaveGroup) and restarted with the
    /// same `group.instance.id` within the session timeout: it gets its partitions back under a new
    /// member id and the other member sees no rebalance.
    @Test func aRestartedStaticMemberGetsItsPartitionsBackWithoutARebalance() async throws {
        try await withTernd(environment: Self.environment) { ternd in
            let result = try await runPython(
                "static_members.py",
                [ternd.bootstrap, "static-restart"],
                timeout: .seconds(180)
            )
            #expect(result.output.contains("\"ok\": true"), "\(result.output)\n\(result.stderr)")
            #expect(result.output.contains("\"restarted\": [0, 1]"), "\(result.output)")
            #expect(result.output.contains("\"b_rebalances_before\": 1, \"b_rebalances_after\": 1"), "\(result.output)")
        }
    }

    /// The broker restarts under the two static members: the group comes back from its metadata
    /// record (members, assignments, instance ids), both carry on in their generation without a
    /// rebalance, and the member restart then works as above.
    @Test func staticMembersSurviveABrokerRestart() async throws {
        let dataDirectory = try Paths.temporaryDirectory()
        let syncDirectory = try Paths.temporaryDirectory()
        let port = try await freePort()
        var ternd = try await TerndProcess.start(
            dataDirectory: dataDirectory,
            port: port,
            environment: Self.environment
        )
        let bootstrap = ternd.bootstrap
        async let script = runPython(
            "static_members.py",
            [bootstrap, "static-broker-restart", syncDirectory.path],
            timeout: .seconds(180)
        )
        let ready = syncDirectory.appendingPathComponent("ready").path
        let deadline = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: ready) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(FileManager.default.fileExists(atPath: ready), "the script never got a stable group")
        try await ternd.stop()
        ternd = try await TerndProcess.start(dataDirectory: dataDirectory, port: port, environment: Self.environment)
        #expect(FileManager.default.createFile(atPath: syncDirectory.appendingPathComponent("go").path, contents: nil))
        let result = try await script
        #expect(result.output.contains("\"ok\": true"), "\(result.output)\n\(result.stderr)")
        #expect(result.output.contains("\"broker_restarted\": true"), "\(result.output)")
        try await ternd.stop()
    }
}
