import NIOConcurrencyHelpers
import NIOCore
import TernCLICore
import TernClient
import TernCompression
import TernRecords

#if canImport(Glibc)
    import Glibc
#endif

/// `-P`: messages from stdin (split at `-D`, keys at `-K`), from a file with `-l`, or one message
/// per file; with `-J` (Tern) each input message is a JSON envelope carrying its own key, headers,
/// partition and timestamp.
struct KcatProducer {
    let options: KcatOptions

    final class Stats: Sendable {
        let delivered = NIOLockedValueBox(0)
        let failed = NIOLockedValueBox(0)
    }

    func makeProducer() throws -> Producer {
        let o = self.options
        let values = ClientProperties.resolve(o.properties)
        var configuration = ProducerConfiguration(client: try o.clientConfiguration())
        switch values["acks"] {
        case "0": configuration.acks = .none
        case "1": configuration.acks = .leader
        default: configuration.acks = .all
        }
        let codec = o.compression ?? values["compression.codec"] ?? "none"
        configuration.compression = CompressionCodec(name: codec) ?? .none
        if let ms = values["linger.ms"].flatMap(Int64.init) { configuration.linger = .milliseconds(ms) }
        // kcat places records with librdkafka's partitioners (default consistent_random), not the
        // Java client's murmur2; sticky.partitioning.linger.ms defaults to twice linger.ms there.
        configuration.partitioner =
            values["partitioner"].flatMap(Partitioner.init(librdkafkaName:)) ?? .consistentRandom
        if let ms = values["sticky.partitioning.linger.ms"].flatMap(Int64.init) {
            configuration.stickyPartitioningLinger = .milliseconds(ms)
        } else {
            let linger = values["linger.ms"].flatMap(Int64.init) ?? 5
            configuration.stickyPartitioningLinger = .milliseconds(min(900_000, 2 * linger))
        }
        if let n = values["batch.size"].flatMap(Int.init) { configuration.batchSize = n }
        if let kb = values["queue.buffering.max.kbytes"].flatMap(Int.init) { configuration.bufferMemory = kb * 1024 }
        if let n = values["message.max.bytes"].flatMap(Int.init) { configuration.messageMaxBytes = n }
        if let ms = values["message.timeout.ms"].flatMap(Int64.init) {
            configuration.deliveryTimeout = .milliseconds(ms)
        }
        if let ms = values["retry.backoff.ms"].flatMap(Int64.init) { configuration.retryBackoff = .milliseconds(ms) }
        if let ms = values["request.timeout.ms"].flatMap(Int64.init) {
            configuration.requestTimeout = .milliseconds(ms)
        }
        // Idempotence needs acks=all; unless asked for explicitly it follows the acks setting.
        if o.isSet("enable.idempotence") {
            configuration.idempotent = values["enable.idempotence"].flatMap(ClientProperties.boolean) ?? true
        } else {
            configuration.idempotent = configuration.acks == .all
        }
        return try Producer(configuration: configuration)
    }

    func run() async throws -> Int32 {
        let o = self.options
        let topic = o.topic!
        // Fail fast (one line, within -m) when the cluster cannot be reached, rather than
        // buffering messages that can never be delivered.
        let clientConfiguration = try o.clientConfiguration()
        let admin = try Admin(configuration: clientConfiguration)
        _ = try await withTimeout(
            o.metadataTimeoutDuration,
            "Failed to acquire metadata: no answer from \(o.bootstrapServers ?? "") within \(o.metadataTimeout)s (Are the brokers reachable? Also try increasing the metadata timeout with -m <timeout>?)"
        ) { try await admin.metadata(topics: []) }
        await admin.close()

        let producer = try self.makeProducer()
        // Ctrl-C: deliver what was read so far (bounded), then exit.
        Interrupts.install { try? await withTimeout(.seconds(10), "") { try await producer.close() } }
        let stats = Stats()
        let verbosity = o.verbosity
        let partition: Int32? = (o.partition ?? -1) < 0 ? nil : o.partition
        let fixedKey = o.fixedKey.map { Array($0.utf8) }
        let headers = o.headers.map { RecordHeader(key: $0.key, value: $0.value.map { ByteBuffer(bytes: $0) }) }
        var sent: Int64 = 0
        var exitCode: Int32 = 0

        @Sendable func delivered(_ result: Result<RecordMetadata, any Error>) {
            switch result {
            case .success: stats.delivered.withLockedValue { $0 += 1 }
            case .failure(let error):
                stats.failed.withLockedValue { $0 += 1 }
                if verbosity >= 1 { printError("% Delivery failed for message: \(describe(error))") }
            }
        }

        func send(_ message: ProducerMessage) async throws {
            var recordHeaders = headers
            recordHeaders += message.headers.map {
                RecordHeader(key: $0.key, value: $0.value.map { ByteBuffer(bytes: $0) })
            }
            let record = ProducerRecord(
                topic: topic,
                partition: partition ?? message.partition,
                key: message.key,
                value: message.value,
                headers: recordHeaders,
                timestamp: message.timestamp
            )
            try await producer.enqueue(record, onDelivery: delivered)
            sent += 1
        }

        do {
            if !o.operands.isEmpty && !o.lineMode {
                // Each file is one message (kcat mmaps it); empty files are skipped.
                var good = 0
                for path in o.operands {
                    guard let bytes = readWholeFile(path) else {
                        if verbosity >= 1 { printError("% Failed to open \(path): \(errnoDescription())") }
                        continue
                    }
                    good += 1
                    if bytes.isEmpty { continue }
                    try await send(ProducerMessage(key: fixedKey, value: bytes))
                    if let count = o.count, count > 0, sent >= count { break }
                }
                if good == 0 {
                    exitCode = 1
                } else if good < o.operands.count, verbosity >= 1 {
                    printError("% Failed to produce from \(o.operands.count - good)/\(o.operands.count) files")
                }
            } else {
                let fd: Int32
                if o.lineMode, let path = o.operands.first {
                    fd = open(path, O_RDONLY)
                    if fd < 0 { throw CLIError("Cannot open \(path): \(errnoDescription())") }
                } else {
                    fd = 0
                }
                defer { if fd != 0 { close(fd) } }
                let reader = ChunkReader(fd: fd)
                let values = ClientProperties.resolve(o.properties)
                let maxSize = o.isSet("message.max.bytes") ? Int(values["message.max.bytes"]!)! : 1024 * 1024
                var splitter = DelimiterSplitter(delimiter: try Escapes.delimiter(o.delimiter), maxSize: maxSize)
                let keyDelimiter = try o.keyDelimiter.map { try Escapes.delimiter($0) }
                let tee = OutputStream.standardOutput
                var done = false

                func handle(_ raw: [UInt8]) async throws {
                    if raw.isEmpty { return }
                    var message: ProducerMessage
                    if o.json {
                        let input = try JSONEnvelope.parse(raw, forceBase64: o.base64)
                        message = ProducerMessage(
                            key: input.key ?? fixedKey,
                            value: input.value,
                            headers: input.headers,
                            partition: input.partition,
                            timestamp: input.timestamp
                        )
                        if o.nullAsString, message.value?.isEmpty == true { message.value = nil }
                    } else {
                        message = ProducerMessage.split(
                            raw,
                            keyDelimiter: keyDelimiter,
                            nullEmpty: o.nullAsString,
                            fixedKey: fixedKey
                        )
                    }
                    try await send(message)
                    // kcat's tee writes the input message without its delimiter.
                    if o.tee { tee.write(raw) }
                    if let count = o.count, count > 0, sent >= count { done = true }
                }

                while !done, let chunk = try await reader.next() {
                    for raw in try splitter.push(chunk) {
                        try await handle(raw)
                        if done { break }
                    }
                }
                if !done, let rest = splitter.finish() { try await handle(rest) }
                tee.flush()
            }
        } catch {
            try? await producer.close()
            throw error
        }
        try await producer.close()
        if stats.failed.withLockedValue({ $0 }) > 0 { exitCode = 1 }
        return exitCode
    }
}

extension CompressionCodec {
    init?(name: String) {
        switch name {
        case "none": self = .none
        case "gzip": self = .gzip
        case "snappy": self = .snappy
        case "lz4": self = .lz4
        case "zstd": self = .zstd
        default: return nil
        }
    }
}
