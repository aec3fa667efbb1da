// Temporary until the client lands.
import ArgumentParser
struct TopicCommand: AsyncParsableCommand {}
struct GroupCommand: AsyncParsableCommand {}
struct BenchCommand: AsyncParsableCommand {}
enum KcatMain { static func run(_ a: [String]) async -> Int32 { 0 } }
