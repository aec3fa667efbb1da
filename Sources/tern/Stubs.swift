// Temporary until the bench consumer is written.
import ArgumentParser
extension BenchCommand {
    struct Consume: AsyncParsableCommand {}
    struct EndToEnd: AsyncParsableCommand {}
}
