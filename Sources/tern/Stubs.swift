// Temporary until the client's consumer lands.
import ArgumentParser
import TernCLICore
extension BenchCommand {
    struct Consume: AsyncParsableCommand {}
    struct EndToEnd: AsyncParsableCommand {}
}
struct KcatConsumer {
    let options: KcatOptions
    func run() async throws -> Int32 { throw CLIError("consumer not available yet") }
}
