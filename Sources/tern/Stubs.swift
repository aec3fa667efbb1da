// Temporary until the client lands.
import ArgumentParser
import TernCLICore
struct BenchCommand: AsyncParsableCommand {}
struct KcatConsumer {
    let options: KcatOptions
    func run() async throws -> Int32 { throw CLIError("consumer not available yet") }
}
