import Foundation
import NIOCore
import TernRecords
import TernStorage
import Testing

/// The crash test of the storage issue: a child process appends with `.fsync` and prints every
/// acknowledged offset; it is killed with SIGKILL at a random moment; the log is reopened (so it
/// recovers, there being no clean-shutdown marker) and every acknowledged offset must read back
/// with exactly the bytes that were acknowledged.
@Suite(.serialized) struct CrashTests {
    static var writerPath: String {
        // The test bundle lives in the build products directory, next to the executables.
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        if directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("tern-storage-crash-writer").path
    }

    @Test func acknowledgedAppendsSurviveSIGKILL() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-crash-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(FileManager.default.isExecutableFile(atPath: Self.writerPath), "build tern-storage-crash-writer")
        var acknowledged: [Int64: UInt64] = [:]
        let runCount = 10
        let deadline = ContinuousClock.now + .seconds(25)
        var random = SystemRandomNumberGenerator()
        for run in 0..<runCount where ContinuousClock.now < deadline {
            let killAfterMs = Int.random(in: 50...500, using: &random)
            let lines = try await Self.runWriter(directory: directory.path, seed: UInt64(run), killAfterMs: killAfterMs)
            for line in lines {
                let fields = line.split(separator: " ")
                guard fields.count == 2, let offset = Int64(fields[0]), let hash = UInt64(fields[1], radix: 16) else {
                    continue  // The line the kill cut short.
                }
                // An offset acknowledged twice would mean recovery handed it out again.
                #expect(acknowledged[offset] == nil, "offset \(offset) acknowledged twice")
                acknowledged[offset] = hash
            }
            try await Self.verify(directory: directory.path, acknowledged: acknowledged, run: run)
        }
        #expect(acknowledged.count > 0)
    }

    /// Starts the writer, kills it with SIGKILL after `killAfterMs`, returns the lines it printed.
    static func runWriter(directory: String, seed: UInt64, killAfterMs: Int) async throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: self.writerPath)
        process.arguments = [directory, String(seed)]
        let output = Pipe()
        process.standardOutput = output
        let collected = OutputCollector()
        output.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData) }
        try process.run()
        try await Task.sleep(for: .milliseconds(killAfterMs))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
        collected.append(output.fileHandleForReading.readDataToEndOfFile())
        #expect(
            process.terminationReason == .uncaughtSignal,
            "the writer exited by itself: \(process.terminationStatus)"
        )
        return collected.lines
    }

    static func verify(directory: String, acknowledged: [Int64: UInt64], run: Int) async throws {
        let manager = try await LogManager.open(dataDirectory: directory, defaultConfig: LogConfig())
        guard let log = manager.partition(topic: "crash", index: 0) else {
            #expect(acknowledged.isEmpty, "run \(run): topic lost")
            try await manager.close()
            return
        }
        for (offset, hash) in acknowledged.sorted(by: { $0.key < $1.key }) {
            let read = try log.read(from: offset, maxBytes: 1)
            let batch = try RecordBatch.split(read.records).batches.first
            try batch?.validate()
            let record = try batch?.records(decompressionLimit: 1 << 20).first { $0.offset == offset }
            #expect(record.map { fnv1a64($0.value!.readableBytesView) } == hash, "run \(run): offset \(offset)")
        }
        // Close without the marker's help next time: the writer's next run starts from this state.
        try await manager.close()
    }
}

/// Collects the child's stdout from the pipe's handler thread.
private final class OutputCollector: @unchecked Sendable {
    // @unchecked: `data` is only touched with `lock` held.
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) {
        self.lock.lock()
        self.data.append(chunk)
        self.lock.unlock()
    }

    var lines: [String] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return String(decoding: self.data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

private func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return hash
}
