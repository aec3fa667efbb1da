import Foundation
import NIOCore
import NIOPosix
import Testing

/// Paths of the package, its build products and the test venv.
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The directory holding the test bundle, which also holds the package's executables.
    static let buildProducts: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("ternd").path) { return url }
            url = url.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }()

    /// `TERN_TERND` overrides it (tools/soak.sh runs a release `ternd` under the debug tests).
    static let ternd =
        ProcessInfo.processInfo.environment["TERN_TERND"] ?? buildProducts.appendingPathComponent("ternd").path
    static let transactionProcessor = buildProducts.appendingPathComponent("tern-transaction-processor").path
    static let python = packageRoot.appendingPathComponent(".venv/bin/python").path
    static let pythonScripts = packageRoot.appendingPathComponent("Tests/IntegrationTests/python")

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tern-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

struct CommandResult {
    var status: Int32
    var stdout: Data
    var stderr: String
    var output: String { String(decoding: self.stdout, as: UTF8.self) }
}

/// Runs a command to completion with a time limit, feeding `input` on standard input.
func runCommand(
    _ executable: String,
    _ arguments: [String],
    input: Data? = nil,
    environment: [String: String]? = nil,
    timeout: Duration = .seconds(120)
) async throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let stdoutPipe = Pipe()
    let stderrPipe = Pipe()
    let stdinPipe = Pipe()
    process.standardOutput = stdoutPipe
    process.standardError = stderrPipe
    process.standardInput = stdinPipe
    try process.run()
    let killer = Task {
        try await Task.sleep(for: timeout)
        process.terminate()
        // Children can inherit an ignored SIGTERM from the test process: do not rely on it.
        try await Task.sleep(for: .seconds(2))
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    // Blocking reads and the wait run on their own threads: on the 2-thread cooperative pool a
    // blocked read would stall every other test for as long as the command runs.
    async let stdout = onThread { stdoutPipe.fileHandleForReading.readDataToEndOfFile() }
    async let stderr = onThread { stderrPipe.fileHandleForReading.readDataToEndOfFile() }
    if let input { try stdinPipe.fileHandleForWriting.write(contentsOf: input) }
    try stdinPipe.fileHandleForWriting.close()
    let (out, err) = await (stdout, stderr)
    await onThread { process.waitUntilExit() }
    killer.cancel()
    return CommandResult(status: process.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self))
}

/// Runs blocking work on a new thread, off Swift's cooperative pool.
func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}

/// A `ternd` child process on a free loopback port.
final class TerndProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    /// The admin listener (/metrics, /health/*).
    let httpPort: Int
    let dataDirectory: URL
    private let logFile: URL

    var bootstrap: String { "127.0.0.1:\(self.port)" }

    private init(process: Process, port: Int, httpPort: Int, dataDirectory: URL, logFile: URL) {
        self.process = process
        self.port = port
        self.httpPort = httpPort
        self.dataDirectory = dataDirectory
        self.logFile = logFile
    }

    var log: String { (try? String(contentsOf: self.logFile, encoding: .utf8)) ?? "" }
    /// What ternd wrote on stdout.
    var stdout: String {
        (try? String(contentsOf: URL(fileURLWithPath: self.logFile.path + ".stdout"), encoding: .utf8)) ?? ""
    }

    static func start(
        dataDirectory: URL? = nil,
        port: Int? = nil,
        arguments: [String] = [],
        environment: [String: String] = [:],
        waitUntilAccepting: Bool = true,
        passesPort: Bool = true
    ) async throws -> TerndProcess {
        let dataDirectory = try dataDirectory ?? Paths.temporaryDirectory()
        var chosenPort = port
        if chosenPort == nil { chosenPort = try await freePort() }
        let port = chosenPort!
        // Every broker gets its own admin port: tests run in parallel.
        let httpPort = try await freePort()
        let logFile = dataDirectory.deletingLastPathComponent().appendingPathComponent(
            "\(dataDirectory.lastPathComponent).ternd.log"
        )
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw TestFailure("cannot create \(logFile.path)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.ternd)
        process.arguments =
            ["--data-dir", dataDirectory.path, "--http-port", "\(httpPort)"]
            + (passesPort ? ["--port", "\(port)"] : []) + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Logs go to stderr; stdout has only the `listening on` line, kept apart so the log file
        // holds log lines alone.
        let stdoutFile = URL(fileURLWithPath: logFile.path + ".stdout")
        guard FileManager.default.createFile(atPath: stdoutFile.path, contents: nil) else {
            throw TestFailure("cannot create \(stdoutFile.path)")
        }
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        try process.run()
        let ternd = TerndProcess(
            process: process,
            port: port,
            httpPort: httpPort,
            dataDirectory: dataDirectory,
            logFile: logFile
        )
        if waitUntilAccepting { try await ternd.waitUntilAccepting() }
        return ternd
    }

    func waitUntilAccepting() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !self.process.isRunning {
                throw TestFailure("ternd exited with \(self.process.terminationStatus):\n\(self.log)")
            }
            if await acceptsConnections(port: self.port) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("ternd did not accept connections within 60 s:\n\(self.log)")
    }

    /// SIGTERM, then waits for a clean exit.
    func stop() async throws {
        guard self.process.isRunning else { return }
        self.process.terminate()
        try await self.waitForExit()
        #expect(self.process.terminationStatus == 0, "ternd exit status; log:\n\(self.log)")
    }

    /// SIGKILL: no shutdown at all, as in a crash.
    func kill() async throws {
        guard self.process.isRunning else { return }
        Foundation.kill(self.process.processIdentifier, SIGKILL)
        try await self.waitForExit()
    }

    func waitForExit() async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while self.process.isRunning {
            guard ContinuousClock.now < deadline else { throw TestFailure("ternd did not exit:\n\(self.log)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    deinit {
        if self.process.isRunning { Foundation.kill(self.process.processIdentifier, SIGKILL) }
    }
}

/// Runs `body` against a fresh broker and stops it afterwards (also when `body` throws).
func withTernd<T>(
    arguments: [String] = [],
    environment: [String: String] = [:],
    _ body: (TerndProcess) async throws -> T
) async throws -> T {
    let ternd = try await TerndProcess.start(arguments: arguments, environment: environment)
    do {
        let result = try await body(ternd)
        try await ternd.stop()
        return result
    } catch {
        try? await ternd.kill()
        throw error
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Whether something accepts a TCP connection on the port right now.
func acceptsConnections(port: Int) async -> Bool {
    guard
        let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
    else { return false }
    try? await channel.close()
    return true
}

/// Waits until something accepts TCP connections on the port.
func waitUntilAccepting(port: Int, timeout: Duration = .seconds(60)) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await acceptsConnections(port: port) { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestFailure("nothing accepts connections on port \(port)")
}

/// A loopback port nobody listens on now, different from every port handed out before in this
/// process. Ports come from below the kernel's ephemeral range (32768–60999), never from port 0:
/// a port the kernel picked for a released listener is soon handed to some outgoing connection
/// of the parallel tests, and the broker meant to bind it then fails with "Address already in use".
func freePort() async throws -> Int {
    while let candidate = PortAllocator.shared.next() {
        guard
            let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: candidate).get()
        else { continue }
        try await channel.close()
        return candidate
    }
    throw TestFailure("no free loopback port left below the ephemeral range")
}

/// Hands out each port of 20000–32767 once per process, starting at an offset taken from the
/// process id so that two test processes side by side rarely meet.
private final class PortAllocator: @unchecked Sendable {
    static let shared = PortAllocator()
    private static let range = 20000..<32768
    private let lock = NSLock()
    private var handedOut = 0
    private let start = Int(getpid()) % 8 * (range.count / 8)

    func next() -> Int? {
        self.lock.withLock {
            guard self.handedOut < Self.range.count else { return nil }
            defer { self.handedOut += 1 }
            return Self.range.lowerBound + (self.start + self.handedOut) % Self.range.count
        }
    }
}

/// Runs one of Tests/IntegrationTests/python/*.py with the test venv.
func runPython(_ script: String, _ arguments: [String], timeout: Duration = .seconds(240)) async throws -> CommandResult
{
    let result = try await runCommand(
        Paths.python,
        [Paths.pythonScripts.appendingPathComponent(script).path] + arguments,
        timeout: timeout
    )
    #expect(result.status == 0, "\(script) \(arguments) failed:\n\(result.stderr)\n\(result.output)")
    return result
}
