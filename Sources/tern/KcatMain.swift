import Dispatch
import NIOCore
import TernCLICore
import TernClient
import TernWire

#if canImport(Glibc)
    import Glibc
#endif

/// kcat mode: `tern` with kcat's options. Errors are one `% ERROR: …` line on stderr and exit 1,
/// as in kcat; stdout carries only message data.
enum KcatMain {
    static func run(_ arguments: [String]) async -> Int32 {
        let environment = KcatOptions.Environment(
            variables: processEnvironment(),
            stdinIsTerminal: stdinIsTerminal(),
            readFile: { readWholeFile($0).map { String(decoding: $0, as: UTF8.self) } }
        )
        let options: KcatOptions
        do {
            options = try KcatOptions.parse(arguments, environment: environment)
        } catch {
            printError("% ERROR: \(error.message)")
            return 1
        }
        if options.help {
            OutputStream.standardOutput.write(Usage.text + "\n")
            return 0
        }
        if options.version {
            OutputStream.standardOutput.write(Usage.version)
            return 0
        }
        if options.listConfig {
            OutputStream.standardOutput.write(ClientProperties.listing())
            return 0
        }
        StderrLogHandler.bootstrap(debug: options.debug != nil || options.property("debug").map { !$0.isEmpty } == true)
        for notice in options.notices { printError("% \(notice)") }
        if options.dumpConfig {
            OutputStream.standardOutput.write(ClientProperties.dump(options.properties))
            return 0
        }
        // Like stdio: a terminal sees each message at once; a pipe gets large writes.
        OutputStream.standardOutput.unbuffered = options.unbuffered || stdoutIsTerminal()
        do {
            switch options.mode! {
            case .produce: return try await KcatProducer(options: options).run()
            case .consume, .group: return try await KcatConsumer(options: options).run()
            case .list: return try await KcatMetadata(options: options).list()
            case .query: return try await KcatMetadata(options: options).query()
            }
        } catch let error as CLIError {
            OutputStream.standardOutput.flush()
            printError("% ERROR: \(error.message)")
            return error.status
        } catch {
            OutputStream.standardOutput.flush()
            printError("% ERROR: \(describe(error))")
            return 1
        }
    }

    static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            pointer += 1
        }
        return result
    }
}

/// One line for any error the client throws. A broker error code reads as librdkafka words it
/// (what kcat prints), followed by what was being done.
func describe(_ error: any Error) -> String {
    if let error = error as? TernClientError {
        if let code = error.kafkaErrorCode, error.message.hasSuffix(": \(code)") {
            let context = error.message.dropLast(": \(code)".count)
            return "\(kafkaErrorString(code)) (\(context))"
        }
        return error.description
    }
    if let error = error as? CLIError { return error.message }
    return "\(error)"
}

/// librdkafka's wording for broker error codes kcat prints (`rd_kafka_err2str`).
func kafkaErrorString(_ code: KafkaErrorCode) -> String { KafkaErrorText.librdkafka(code) }

/// Runs `body` with a time limit; throws a one-line CLIError when it runs out.
func withTimeout<T: Sendable>(
    _ limit: Duration,
    _ what: @autoclosure () -> String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let description = what()
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw CLIError(description)
        }
        return value
    }
}

extension KcatOptions {
    var metadataTimeoutDuration: Duration { .seconds(self.metadataTimeout) }

    func clientConfiguration() throws(CLIError) -> ClientConfiguration {
        guard let servers = self.bootstrapServers else { throw CLIError("-b <broker,..> missing") }
        let values = ClientProperties.resolve(self.properties)
        var configuration = ClientConfiguration(bootstrapServers: servers.split(separator: ",").map(String.init))
        if let id = values["client.id"] { configuration.clientId = id }
        if let ms = values["request.timeout.ms"].flatMap(Int64.init) {
            configuration.requestTimeout = .milliseconds(ms)
        }
        if let ms = values["socket.connection.setup.timeout.ms"].flatMap(Int64.init) {
            configuration.connectTimeout = .milliseconds(ms)
        }
        if let ms = values["metadata.max.age.ms"].flatMap(Int64.init) {
            configuration.metadataMaxAge = .milliseconds(ms)
        }
        try applySecurity(values, to: &configuration)
        // -m bounds how long anything waits for the cluster.
        if configuration.connectTimeout > self.metadataTimeoutDuration {
            configuration.connectTimeout = self.metadataTimeoutDuration
        }
        return configuration
    }

    /// Whether a property was given (not just defaulted).
    func isSet(_ name: String) -> Bool {
        guard let canonical = ClientProperties.lookup(name) else { return false }
        return self.properties.contains { ClientProperties.lookup($0.0)?.name == canonical.name }
    }
}

/// Reads standard input (or a file) in chunks on a Dispatch thread, off Swift's cooperative pool,
/// returning whatever `read(2)` returns: a typed line is available as soon as it is typed.
final class ChunkReader: Sendable {
    private let fd: Int32
    private let queue = DispatchQueue(label: "tern.stdin")

    init(fd: Int32) { self.fd = fd }

    /// nil at end of input.
    func next() async throws -> [UInt8]? {
        let fd = self.fd
        let result: Result<[UInt8]?, CLIError> = await withCheckedContinuation { continuation in
            self.queue.async {
                var chunk = [UInt8](repeating: 0, count: 64 * 1024)
                while true {
                    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                    if n < 0 {
                        if errno == EINTR { continue }
                        continuation.resume(
                            returning: .failure(CLIError("Unable to read message: \(errnoDescription())"))
                        )
                        return
                    }
                    continuation.resume(returning: .success(n == 0 ? nil : Array(chunk[0..<n])))
                    return
                }
            }
        }
        return try result.get()
    }
}

/// `security.protocol` with the `ssl.*` and `sasl.*` properties (librdkafka's names), for the
/// kcat-style commands and the admin subcommands alike.
func applySecurity(_ values: [String: String], to configuration: inout ClientConfiguration) throws(CLIError) {
    let security = (values["security.protocol"] ?? "plaintext").lowercased()
    if security == "ssl" || security == "sasl_ssl" {
        var tls = ClientTLS(caLocation: values["ssl.ca.location"].flatMap { $0.isEmpty ? nil : $0 })
        tls.certificateLocation = values["ssl.certificate.location"].flatMap { $0.isEmpty ? nil : $0 }
        tls.keyLocation = values["ssl.key.location"].flatMap { $0.isEmpty ? nil : $0 }
        tls.keyPassword = values["ssl.key.password"].flatMap { $0.isEmpty ? nil : $0 }
        tls.verifiesCertificate =
            values["enable.ssl.certificate.verification"].map(ClientProperties.boolean) != false
        tls.verifiesHostname = values["ssl.endpoint.identification.algorithm"] != "none"
        configuration.tls = tls
    }
    if security == "sasl_plaintext" || security == "sasl_ssl" {
        let name = (values["sasl.mechanisms"] ?? "PLAIN").uppercased()
        guard let mechanism = ClientSASL.Mechanism(rawValue: name) else {
            throw CLIError("sasl.mechanisms=\(name): Tern supports PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512")
        }
        guard let username = values["sasl.username"], let password = values["sasl.password"] else {
            throw CLIError("security.protocol=\(security) needs sasl.username and sasl.password")
        }
        configuration.sasl = ClientSASL(mechanism: mechanism, username: username, password: password)
    }
}
