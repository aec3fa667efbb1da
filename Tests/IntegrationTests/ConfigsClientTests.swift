import Foundation
import Testing

/// AlterConfigs, IncrementalAlterConfigs and DescribeConfigs from real clients (python/configs.py,
/// go/sarama_configs) and `tern topic alter-config`: changes that take effect on live partitions,
/// synonyms and sources, the refusals with Kafka's error codes, and changes that survive a restart.
@Suite struct ConfigsClientTests {
    var tern: String { Paths.buildProducts.appendingPathComponent("tern").path }

    private func lastJSONLine(_ result: CommandResult) -> [String: Any] {
        let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    @Test(arguments: ["kafka-python", "confluent"])
    func alterAndDescribeSurviveRestart(client: String) async throws {
        let ternd = try await TerndProcess.start()
        let topic: String
        do {
            let result = try await runPython("configs.py", [client, ternd.bootstrap, "alter"])
            let summary = self.lastJSONLine(result)
            #expect(summary["ok"] as? Bool == true, "\(result.output)\n\(result.stderr)\n\(ternd.log.suffix(3000))")
            for refusal in ["unknown_topic", "invalid_value", "unknown_key", "append_to_non_list", "message_too_large"]
            {
                #expect(summary[refusal] != nil, "\(refusal) not checked: \(result.output)")
            }
            topic = try #require(summary["topic"] as? String)
            try await ternd.stop()
        } catch {
            try? await ternd.kill()
            throw error
        }
        let restarted = try await TerndProcess.start(dataDirectory: ternd.dataDirectory, port: ternd.port)
        do {
            let result = try await runPython("configs.py", [client, restarted.bootstrap, "after-restart", topic])
            #expect(self.lastJSONLine(result)["ok"] as? Bool == true, "\(result.output)\n\(result.stderr)")
            try await restarted.stop()
        } catch {
            try? await restarted.kill()
            throw error
        }
    }

    @Test func saramaClusterAdmin() async throws {
        try await withTernd { ternd in
            let binary = try await GoPrograms.binary("sarama_configs")
            let result = try await runCommand(binary, [ternd.bootstrap], timeout: .seconds(75))
            let summary = self.lastJSONLine(result)
            #expect(summary["ok"] as? Bool == true, "\(result.output)\n\(result.stderr)\n\(ternd.log.suffix(3000))")
            for refusal in ["unknown_topic", "invalid_value", "unknown_key", "static_broker_key", "message_too_large"] {
                #expect(summary[refusal] != nil, "\(refusal) not checked: \(result.output)")
            }
        }
    }

    /// `tern topic alter-config` sets and deletes overrides, `describe` shows each config's source,
    /// bad changes fail with the broker's message, and a lowered retention.ms deletes the old
    /// segments at the next retention pass.
    @Test func ternAlterConfigAndLiveRetention() async throws {
        try await withTernd(environment: ["TERN_LOG_RETENTION_CHECK_INTERVAL_MS": "300"]) { ternd in
            let b = ternd.bootstrap
            func tern(_ args: [String], input: Data? = nil, status: Int32 = 0) async throws -> CommandResult {
                let result = try await runCommand(self.tern, args + ["-b", b], input: input, timeout: .seconds(30))
                #expect(result.status == status, "\(args): \(result.output)\(result.stderr)")
                return result
            }
            _ = try await tern(["topic", "create", "live", "--partitions", "1"])
            _ = try await tern(["-P", "-t", "live"], input: Data("a\nb\n".utf8))
            // A live segment.ms: the next append after 100 ms rolls the segment.
            let roll = try await tern(["topic", "alter-config", "live", "--set", "segment.ms=100"])
            #expect(roll.output.contains("1 config change(s) applied"), "\(roll.output)")
            try await Task.sleep(for: .milliseconds(300))
            _ = try await tern(["-P", "-t", "live"], input: Data("c\n".utf8))
            let set = try await tern([
                "topic", "alter-config", "live", "--set", "retention.ms=1", "--set", "flush.ms=500",
            ])
            #expect(set.output.contains("2 config change(s) applied"), "\(set.output)")
            let described = try await tern(["topic", "describe", "live"])
            #expect(described.output.contains("retention.ms=1 (TOPIC_CONFIG)"), "\(described.output)")
            #expect(described.output.contains("segment.ms=100 (TOPIC_CONFIG)"), "\(described.output)")
            let all = try await tern(["topic", "describe", "live", "--all-configs", "--json"])
            #expect(all.output.contains(#""max.message.bytes":"DEFAULT_CONFIG""#), "\(all.output)")

            // The retention pass (every 300 ms) now deletes the first segment (a, b), not the active one.
            var earliest = 0
            let deadline = ContinuousClock.now + .seconds(10)
            while earliest == 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                let json = try await tern(["topic", "describe", "live", "--json"])
                let topics = try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]]
                let partitions = topics?.first?["partitions"] as? [[String: Any]]
                earliest = partitions?.first?["earliestOffset"] as? Int ?? 0
            }
            #expect(earliest == 2, "the first segment not deleted after retention.ms=1:\n\(ternd.log.suffix(2000))")

            let deleted = try await tern(["topic", "alter-config", "live", "--delete", "retention.ms"])
            #expect(deleted.output.contains("1 config change(s) applied"))
            let after = try await tern(["topic", "describe", "live"])
            #expect(!after.output.contains("retention.ms="), "\(after.output)")

            let unknown = try await tern(["topic", "alter-config", "live", "--set", "no.such.key=1"], status: 1)
            #expect(
                unknown.stderr.contains("INVALID_CONFIG") || unknown.stderr.contains("invalidConfig"),
                "\(unknown.stderr)"
            )
            #expect(unknown.stderr.contains("no.such.key"), "\(unknown.stderr)")
            let list = try await tern(["topic", "alter-config", "live", "--append", "retention.ms=5"], status: 1)
            #expect(list.stderr.contains("not allowed for config key: retention.ms"), "\(list.stderr)")
            let missing = try await tern(["topic", "alter-config", "nope", "--set", "retention.ms=5"], status: 1)
            #expect(missing.stderr.contains("nope"), "\(missing.stderr)")
            let validateOnly = try await tern([
                "topic", "alter-config", "live", "--set", "retention.ms=77", "--validate-only",
            ])
            #expect(validateOnly.output.contains("nothing changed"))
            let unchanged = try await tern(["topic", "describe", "live"])
            #expect(!unchanged.output.contains("retention.ms=77"), "\(unchanged.output)")
        }
    }
}
