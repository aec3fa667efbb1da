import Foundation
import Testing

/// Transactions on a real `ternd` with real clients (python/transactions.py): confluent-kafka,
/// aiokafka and kafka-python transactional producers against read_committed and read_uncommitted
/// consumers, zombie fencing, the broker aborting a timed-out transaction, a consume-transform-
/// produce processor SIGKILLed again and again leaving each input exactly once in its output.
@Suite struct TransactionClientTests {
    /// Transaction timeouts are checked every 500 ms here (Kafka: every 10 s).
    static let environment = ["TERN_TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS": "500"]

    static func summary(_ result: CommandResult) -> [String: Any] {
        let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    @Test(arguments: ["confluent", "aiokafka", "kafka-python"])
    func committedAndAbortedTransactions(client: String) async throws {
        try await withTernd(environment: Self.environment) { ternd in
            let result = try await runPython("transactions.py", ["commit-abort", ternd.bootstrap, client])
            let summary = Self.summary(result)
            #expect(summary["ok"] as? Bool == true, "\(result.output)\n\(result.stderr)\n\(ternd.log.suffix(4000))")
            #expect(summary["committed"] as? Int == 9)
        }
    }

    @Test func aSecondProducerWithTheSameIdFencesTheFirst() async throws {
        try await withTernd(environment: Self.environment) { ternd in
            let result = try await runPython("transactions.py", ["fencing", ternd.bootstrap])
            let summary = Self.summary(result)
            #expect(summary["ok"] as? Bool == true, "\(result.output)\n\(result.stderr)\n\(ternd.log.suffix(4000))")
        }
    }

    @Test func theBrokerAbortsATimedOutTransaction() async throws {
        try await withTernd(environment: Self.environment) { ternd in
            let result = try await runPython("transactions.py", ["timeout", ternd.bootstrap])
            let summary = Self.summary(result)
            #expect(summary["ok"] as? Bool == true, "\(result.output)\n\(result.stderr)\n\(ternd.log.suffix(4000))")
        }
    }

    /// The processor is SIGKILLed at random points (mid-transaction, between transactions, while
    /// committing) and restarted until it has processed everything; the output then holds each
    /// input exactly once and the group's offsets cover the input.
    @Test func consumeTransformProduceSurvivesKillsExactlyOnce() async throws {
        try await withTernd(environment: Self.environment) { ternd in
            let topic = "ctp-\(UInt32.random(in: 0...UInt32.max))"
            let count = 600
            let setup = try await runPython("transactions.py", ["ctp-setup", ternd.bootstrap, topic, "\(count)"])
            #expect(Self.summary(setup)["ok"] as? Bool == true, "\(setup.output)\n\(setup.stderr)")
            var kills = 0
            var finished = false
            let deadline = ContinuousClock.now + .seconds(240)
            while !finished, ContinuousClock.now < deadline {
                let worker = Process()
                worker.executableURL = URL(fileURLWithPath: Paths.python)
                worker.arguments = [
                    Paths.pythonScripts.appendingPathComponent("transactions.py").path, "ctp-worker",
                    ternd.bootstrap, topic,
                ]
                let output = Pipe()
                worker.standardOutput = output
                worker.standardError = FileHandle.nullDevice
                try worker.run()
                // Six kills at random moments, then one run to completion (it stops when idle).
                if kills < 6 {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 1500...4000)))
                    if worker.isRunning {
                        kill(worker.processIdentifier, SIGKILL)
                        kills += 1
                    }
                }
                while worker.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
                if worker.isRunning { kill(worker.processIdentifier, SIGKILL) }
                let printed = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
                if worker.terminationReason == .exit {
                    #expect(worker.terminationStatus == 0, "worker failed: \(printed)")
                    finished = printed.contains("\"worker\": \"idle\"")
                }
            }
            #expect(finished, "the processor did not finish within the time limit")
            #expect(kills >= 3, "only \(kills) kills landed")
            let check = try await runPython("transactions.py", ["ctp-check", ternd.bootstrap, topic, "\(count)"])
            let summary = Self.summary(check)
            #expect(summary["ok"] as? Bool == true, "\(check.output)\n\(check.stderr)\n\(ternd.log.suffix(4000))")
            print("TransactionClientTests: consume-transform-produce of \(count) records, \(kills) kills")
        }
    }
}
