import Foundation
import TernClient
import TernTestKit
import Testing
import XCTest

/// TernTestKit's in-process broker, checked with clients that are not Tern's: kcat reads what the
/// helpers produce, the helpers read what kcat produces, kafka-python members make the group the
/// helper waits for. Also ternd's `--port 0` line, from a Python test.
@Suite struct TestKitTests {
    let kcat = "/usr/bin/kcat"
    /// No ~/.config/kcat.conf of the machine's user may leak in.
    let kcatEnvironment = ["HOME": "/nonexistent-tern-test-home", "KCAT_CONFIG": ""]
    /// librdkafka gives up on ApiVersions after 10 s; the in-process broker shares the test process,
    /// which a loaded CI machine has stalled for longer than that.
    let patient = ["-X", "api.version.request.timeout.ms=60000"]

    @Test func brokersStartOnTheirOwnPortsAndKcatReadsWhatTheHelpersProduce() async throws {
        try await withTestBroker { first in
            try await withTestBroker { second in
                #expect(first.port != second.port)
                #expect(first.port > 0 && second.port > 0)
                try await first.createTopic("orders", partitions: 2)
                let written = try await first.produce(topic: "orders", partition: 1, key: "42", value: "hello")
                #expect(written.partition == 1 && written.offset == 0)
                try await first.produce(topic: "orders", partition: 1, key: "43", value: "world")
                let kcat = try await runCommand(
                    self.kcat,
                    ["-b", first.bootstrapServer] + self.patient + [
                        "-C", "-t", "orders", "-p", "1", "-e", "-q", "-f", "%o %k=%s\n",
                    ],
                    environment: self.kcatEnvironment,
                    timeout: .seconds(30)
                )
                #expect(kcat.status == 0, "\(kcat.stderr)")
                #expect(kcat.output == "0 42=hello\n1 43=world\n")
                // The other broker is a different one: it has no such topic.
                let other = try await second.admin().metadata(topics: nil)
                #expect(!other.topics.map(\.name).contains("orders"))
                // Both advertise the port they got, so clients that follow metadata find them.
                #expect(other.brokers.map(\.port) == [Int32(second.port)])
            }
        }
    }

    @Test func recordsReturnsWhatKcatProduced() async throws {
        try await withTestBroker { broker in
            let kcat = try await runCommand(
                self.kcat,
                ["-b", broker.bootstrapServer] + self.patient + ["-P", "-t", "lines", "-K", ":"],
                input: Data("a:one\nb:two\nc:three\n".utf8),
                environment: self.kcatEnvironment,
                timeout: .seconds(30)
            )
            #expect(kcat.status == 0, "\(kcat.stderr)")
            let records = try await broker.records(topic: "lines")
            #expect(records.map(\.offset) == [0, 1, 2])
            #expect(records.map { "\($0.keyString ?? "-")=\($0.valueString ?? "-")" } == ["a=one", "b=two", "c=three"])
            let tail = try await broker.records(topic: "lines", from: .offset(2))
            #expect(tail.map(\.valueString) == ["three"])
        }
    }

    @Test func waitForGroupSeesKafkaPythonMembersSettle() async throws {
        try await withTestBroker { broker in
            try await broker.createTopic("work", partitions: 4)
            let directory = try Paths.temporaryDirectory()
            let members = (0..<2).map { index in
                let stateFile = directory.appendingPathComponent("member-\(index).json").path
                let task = Task {
                    try await runPython(
                        "group_member.py",
                        ["kafka-python", broker.bootstrapServer, "workers", "work", "range", stateFile, "60"],
                        timeout: .seconds(90)
                    )
                }
                return (stateFile, task)
            }
            var group = try await broker.waitForGroup("workers", members: 2, timeout: .seconds(45))
            // kafka-python's leader assigns from its cached metadata: a generation can hand out no
            // partitions of the just-created topic, and the members rejoin once metadata shows them.
            let deadline = ContinuousClock.now + .seconds(45)
            while group.members.flatMap(\.assignment).count < 4, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                group = try await broker.waitForGroup("workers", members: 2, timeout: .seconds(45))
            }
            #expect(group.state == "Stable")
            #expect(group.members.flatMap(\.assignment).count == 4)
            // A count the group does not reach times out, naming what it saw (the two members,
            // Stable or, when kafka-python rejoins meanwhile, rebalancing).
            await #expect {
                try await broker.waitForGroup("workers", members: 3, timeout: .milliseconds(300))
            } throws: { error in
                "\(error)".contains("not Stable with 3 members") && "\(error)".contains(" with 2 members)")
            }
            for (stateFile, task) in members {
                _ = FileManager.default.createFile(atPath: stateFile + ".stop", contents: nil)
                _ = try await task.value
            }
        }
    }

    @Test func helperErrorsCarryKafkaCodesAndTheBrokerKeepsServing() async throws {
        try await withTestBroker(properties: ["auto.create.topics.enable": "false"]) { broker in
            try await broker.createTopic("exists")
            await #expect {
                try await broker.createTopic("exists")
            } throws: { error in
                (error as? TernClientError)?.kafkaErrorCode == .topicAlreadyExists
            }
            // An unknown topic with auto-creation off: the broker's metadata says so and the
            // producer gives up.
            var configuration = ProducerConfiguration(bootstrapServers: broker.bootstrapServers)
            configuration.deliveryTimeout = .seconds(1)
            let producer = try Producer(configuration: configuration)
            await #expect {
                try await producer.send(ProducerRecord(topic: "missing", value: "x"))
            } throws: { error in
                (error as? TernClientError)?.kind == .unknownTopicOrPartition
            }
            try await producer.close()
            #expect(try await broker.produce(topic: "exists", value: "still serving").offset == 0)
        }
    }

    @Test func aDirectoryKeepsRecordsAcrossBrokersAndATemporaryOneIsRemoved() async throws {
        let directory = try Paths.temporaryDirectory().path
        try await withTestBroker(storage: .directory(directory)) { broker in
            try await broker.produce(topic: "kept", value: "durable")
        }
        try await withTestBroker(storage: .directory(directory)) { broker in
            let values = try await broker.records(topic: "kept").map(\.valueString)
            #expect(values == ["durable"])
        }
        let temporary = try await TestBroker.start(storage: .temporaryDirectory)
        let path = try #require(temporary.dataDirectory)
        #expect(FileManager.default.fileExists(atPath: path))
        try await temporary.stop()
        #expect(!FileManager.default.fileExists(atPath: path))
        try await temporary.stop()  // a second stop does nothing
    }

    /// Another language's tests start `ternd --data-dir DIR --port 0` and read the port from stdout.
    @Test func terndOnPortZeroPrintsTheChosenPort() async throws {
        let result = try await runPython("ephemeral_ternd.py", [Paths.ternd], timeout: .seconds(120))
        #expect(result.output.contains("\"exit\": [0, 0]"), "\(result.output)\(result.stderr)")
    }
}

/// The same kit from XCTest (docs/testing.md shows both).
final class TestKitXCTests: XCTestCase {
    func testProduceAndReadBack() async throws {
        let broker = try await TestBroker.start()
        do {
            try await broker.produce(topic: "xctest", key: "k", value: "v")
            let records = try await broker.records(topic: "xctest")
            XCTAssertEqual(records.map(\.valueString), ["v"])
        } catch {
            try? await broker.stop()
            throw error
        }
        try await broker.stop()
    }
}
