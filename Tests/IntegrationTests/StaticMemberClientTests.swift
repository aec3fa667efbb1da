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
}
