import TernClient

// The child process of the Swift client's exactly-once test
// (Tests/IntegrationTests/TernTransactionTests.swift), and docs/client.md's consume-transform-produce
// example as a program.
//
// Usage: tern-transaction-processor <bootstrap> <topic>
//
// Reads <topic>-in in group <topic>-group with read_committed, writes each value upper-cased to
// <topic>-out, and commits the output and the input offsets in one transaction per 20 records,
// as transactional id <topic>-processor. Prints `ready` once the transactional id is registered,
// `committed <records>` after each commit and `done <records>` when every assigned partition is
// read to its end; the test SIGKILLs it at random points in between.
#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    print("usage: tern-transaction-processor <bootstrap> <topic>")
    exit(2)
}
let (bootstrap, topic) = (arguments[1], arguments[2])

/// One line on stdout at once, so the parent sees it before a kill.
func say(_ line: String) {
    print(line)
    fflush(nil)  // every stream: `stdout` itself is a global Swift 6 will not touch
}

var consumerConfiguration = ConsumerConfiguration(
    bootstrapServers: [bootstrap],
    mode: .group(id: topic + "-group", topics: [topic + "-in"])
)
consumerConfiguration.isolationLevel = .readCommitted
consumerConfiguration.enableAutoCommit = false
consumerConfiguration.autoOffsetReset = .earliest
// A killed predecessor leaves the group when its session ends: short, so the restart goes on soon.
consumerConfiguration.sessionTimeout = .seconds(6)
consumerConfiguration.stopAtEnd = true
var producerConfiguration = ProducerConfiguration(bootstrapServers: [bootstrap])
producerConfiguration.transactionalId = topic + "-processor"
producerConfiguration.transactionTimeout = .seconds(10)
producerConfiguration.linger = .milliseconds(1)

do {
    let consumer = try Consumer(configuration: consumerConfiguration)
    let producer = try Producer(configuration: producerConfiguration)
    // Fences a killed predecessor and aborts the transaction it left open.
    try await producer.initTransactions()
    say("ready")
    var positions: [TopicPartition: Int64] = [:]
    var inTransaction = 0
    var handled = 0
    func commit() async throws {
        try await producer.sendOffsetsToTransaction(positions, group: try consumer.groupMetadata())
        try await producer.commitTransaction()
        inTransaction = 0
        say("committed \(handled)")
    }
    for try await record in consumer {
        if inTransaction == 0 { try producer.beginTransaction() }
        try await producer.enqueue(
            ProducerRecord(
                topic: topic + "-out",
                key: record.key,
                value: record.valueString.map { ByteBuffer(string: $0.uppercased()) }
            )
        )
        positions[record.topicPartition] = record.offset + 1
        inTransaction += 1
        handled += 1
        if inTransaction == 20 { try await commit() }
    }
    if inTransaction > 0 { try await commit() }
    try await consumer.close()
    try await producer.close()
    say("done \(handled)")
} catch {
    say("failed: \(error)")
    exit(1)
}
