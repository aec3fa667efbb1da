import Foundation
import Testing

/// CreatePartitions, DeleteRecords and DescribeCluster from real clients' admin APIs
/// (python/admin.py): growing a topic and using the new partition, deleting records, describing
/// the cluster, and the refusals with Kafka's error codes.
@Suite struct AdminApiClientTests {
    @Test(arguments: ["kafka-python", "confluent"])
    func adminApis(client: String) async throws {
        try await withTernd { ternd in
            let result = try await runPython("admin.py", [client, ternd.bootstrap])
            #expect(result.output.contains("\"ok\": true"), "\(result.output)\n\(result.stderr)")
            for refusal in ["shrink", "unknown_topic", "past_high_watermark", "delete_unknown_topic"] {
                #expect(result.output.contains("\"\(refusal)\""), "\(refusal) not checked: \(result.output)")
            }
        }
    }
}

/// What CreatePartitions and DeleteRecords change is on disk before they answer: a SIGKILL right
/// after them loses neither the new partitions nor the new log start offset.
@Suite struct AdminApiDurabilityTests {
    var tern: String { Paths.buildProducts.appendingPathComponent("tern").path }

    @Test func newPartitionsAndLogStartOffsetsSurviveACrash() async throws {
        let ternd = try await TerndProcess.start()
        let b = ternd.bootstrap
        func tern(_ args: [String], input: Data? = nil) async throws -> CommandResult {
            let result = try await runCommand(self.tern, args + ["-b", b], input: input, timeout: .seconds(30))
            #expect(result.status == 0, "\(args): \(result.stderr)")
            return result
        }
        do {
            _ = try await tern(["topic", "create", "durable", "--partitions", "1"])
            _ = try await tern(["topic", "add-partitions", "durable", "--partitions", "2"])
            _ = try await runCommand(
                self.tern,
                ["-b", b, "-P", "-t", "durable", "-p", "1"],
                input: Data("a\nb\nc\nd\n".utf8),
                timeout: .seconds(30)
            )
            _ = try await tern(["topic", "delete-records", "durable", "-p", "1", "--offset", "3"])
            // Kafka's checkpoint text: version, count, then "topic partition offset" lines.
            let checkpoint = try String(
                contentsOf: ternd.dataDirectory.appendingPathComponent("log-start-offset-checkpoint"),
                encoding: .utf8
            )
            #expect(checkpoint.split(separator: "\n").contains("durable 1 3"), "\(checkpoint)")
            try await ternd.kill()
        } catch {
            try? await ternd.kill()
            throw error
        }

        let restarted = try await TerndProcess.start(dataDirectory: ternd.dataDirectory, port: ternd.port)
        do {
            let describe = try await tern(["topic", "describe", "durable", "--json"])
            #expect(describe.output.contains(#""partition":1,"leader":0"#), "\(describe.output)")
            #expect(describe.output.contains(#""earliestOffset":3,"latestOffset":4,"records":1"#), "\(describe.output)")
            let read = try await runCommand(
                self.tern,
                ["-b", b, "-C", "-t", "durable", "-p", "1", "-e", "-q"],
                timeout: .seconds(30)
            )
            #expect(read.output == "d\n")
            try await restarted.stop()
        } catch {
            try? await restarted.kill()
            throw error
        }
    }
}
