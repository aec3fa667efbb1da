import NIOConcurrencyHelpers
import NIOCore
import TernCLICore
import TernClient
import TernWire

/// `-C` (partitions of one topic, no group, no commits) and `-G` (a group member over topics),
/// printing with `-f`, `-K`/`-D` or `-J` exactly as kcat does.
struct KcatConsumer {
    let options: KcatOptions

    func outputFormat() throws(CLIError) -> OutputFormat {
        let o = self.options
        let delimiter = try Escapes.delimiter(o.delimiter)
        let style: OutputFormat.Style
        if let format = o.format, o.json {
            // kcat keeps -J and uses the format's leading literal, if any, as the separator.
            if case .literal(let separator)? = try OutputFormat.parse(format).first {
                style = .json(separator: separator, binary: o.base64 ? .base64 : .raw)
            } else {
                style = .json(separator: [], binary: o.base64 ? .base64 : .raw)
            }
        } else if let format = o.format {
            style = .tokens(try OutputFormat.parse(format))
        } else if o.json {
            style = .json(separator: delimiter, binary: o.base64 ? .base64 : .raw)
        } else {
            var keyDelimiter: [UInt8]?
            if let k = o.keyDelimiter { keyDelimiter = try Escapes.delimiter(k) }
            style = .tokens(OutputFormat.delimited(keyDelimiter: keyDelimiter, delimiter: delimiter))
        }
        return OutputFormat(
            style: style,
            nullString: o.nullAsString ? Array("NULL".utf8) : nil,
            keyPack: o.keyPack,
            valuePack: o.valuePack
        )
    }

    func spec(_ start: KcatOptions.StartOffset?) -> OffsetSpec {
        switch start {
        case nil, .beginning?: .earliest
        case .end?: .latest
        case .stored?: .stored
        case .absolute(let n)?: .offset(n)
        case .tail(let n)?: .tail(n)
        case .timestamp(let t)?: .timestamp(t)
        }
    }

    func baseConfiguration(mode: ConsumerConfiguration.Mode) throws -> ConsumerConfiguration {
        let o = self.options
        let values = ClientProperties.resolve(o.properties)
        var c = ConsumerConfiguration(client: try o.clientConfiguration(), mode: mode)
        switch values["auto.offset.reset"] {
        case "smallest"?, "earliest"?, "beginning"?: c.autoOffsetReset = .earliest
        default: c.autoOffsetReset = .latest
        }
        if let ms = values["auto.commit.interval.ms"].flatMap(Int64.init) { c.autoCommitInterval = .milliseconds(ms) }
        if let ms = values["session.timeout.ms"].flatMap(Int64.init) { c.sessionTimeout = .milliseconds(ms) }
        if let ms = values["heartbeat.interval.ms"].flatMap(Int64.init) { c.heartbeatInterval = .milliseconds(ms) }
        if let ms = values["max.poll.interval.ms"].flatMap(Int64.init) { c.rebalanceTimeout = .milliseconds(ms) }
        if let ms = values["fetch.wait.max.ms"].flatMap(Int64.init) { c.fetchMaxWait = .milliseconds(ms) }
        if let n = values["fetch.min.bytes"].flatMap(Int.init) { c.fetchMinBytes = n }
        if let n = values["fetch.max.bytes"].flatMap(Int.init) { c.fetchMaxBytes = n }
        if let n = values["max.partition.fetch.bytes"].flatMap(Int.init) { c.maxPartitionFetchBytes = n }
        if let list = values["partition.assignment.strategy"] {
            var assignors: [PartitionAssignor] = []
            for name in list.split(separator: ",").map({ String($0).trimmingSpaces.lowercased() }) {
                guard let assignor = PartitionAssignor(name: name) else {
                    throw CLIError(
                        "Unsupported partition.assignment.strategy \"\(name)\" (range, roundrobin, sticky)"
                    )
                }
                assignors.append(assignor)
            }
            c.assignors = assignors
        }
        c.stopAtEnd = o.exitAtEnd
        return c
    }

    func run() async throws -> Int32 {
        let o = self.options
        let format = try self.outputFormat()
        let out = OutputStream.standardOutput
        let verbosity = o.verbosity

        // Metadata first, within -m, with kcat's errors for unknown topics and partitions.
        let admin = try Admin(configuration: try o.clientConfiguration())
        var topics = o.mode == .group ? o.operands : [o.topic!]
        let metadata: ClusterMetadata
        do {
            // `-G` accepts `^regex` topics like kcat; Tern resolves them once, at start.
            if topics.contains(where: { $0.hasPrefix("^") }) {
                let all = try await withTimeout(
                    o.metadataTimeoutDuration,
                    "Failed to query metadata: Local: Broker transport failure"
                ) { try await admin.metadata() }
                topics = try TopicPatterns.resolve(topics, existing: all.topics.map(\.name))
            }
            let wanted = topics
            metadata = try await withTimeout(
                o.metadataTimeoutDuration,
                "Failed to query metadata for topic \(topics.joined(separator: ",")): Local: Broker transport failure"
            ) { try await admin.metadata(topics: wanted) }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        var leaders: [TopicPartition: Int32] = [:]
        for topic in metadata.topics {
            for p in topic.partitions { leaders[TopicPartition(topic: topic.name, partition: p.partition)] = p.leader }
        }

        let configuration: ConsumerConfiguration
        if o.mode == .group {
            var c = try self.baseConfiguration(mode: .group(id: o.group!, topics: topics))
            c.enableAutoCommit = o.property("enable.auto.commit").flatMap(ClientProperties.boolean) ?? true
            configuration = c
        } else {
            let topic = o.topic!
            guard let info = metadata.topic(topic) else { throw CLIError("No such topic in cluster: \(topic)") }
            if info.error != .none { throw CLIError("Topic \(topic) error: \(kafkaErrorString(info.error))") }
            if info.partitions.isEmpty { throw CLIError("Topic \(topic) has no partitions") }
            var partitions = info.partitions.map(\.partition)
            if let p = o.partition, p >= 0 {
                guard partitions.contains(p) else {
                    throw CLIError(
                        "Topic \(topic) (with partitions 0..\(info.partitions.count - 1)): partition \(p) does not exist"
                    )
                }
                partitions = [p]
            }
            let start = self.spec(o.startOffset)
            let groupId = o.property("group.id")
            if start == .stored && groupId == nil {
                throw CLIError("-o stored needs a group id: add -X group.id=<group>")
            }
            var c = try self.baseConfiguration(
                mode: .assign(
                    Dictionary(
                        uniqueKeysWithValues: partitions.map { (TopicPartition(topic: topic, partition: $0), start) }
                    )
                )
            )
            // kcat's simple consumer commits nothing (issue #139).
            c.groupId = groupId
            c.enableAutoCommit = false
            configuration = c
        }

        let consumer = try Consumer(configuration: configuration)
        Interrupts.install {
            OutputStream.standardOutput.flush()
            // A group member leaves the group (and commits) on the way out.
            if o.mode == .group { try? await withTimeout(.seconds(5), "") { try await consumer.close() } }
        }
        // Assignment and end-of-partition notices go to stderr as kcat's do.
        let assigned = NIOLockedValueBox<Set<TopicPartition>>([])
        let explicitStart = o.mode == .group && o.startOffset != nil ? self.spec(o.startOffset) : nil
        let group = o.group
        let partitionCount =
            o.mode == .group
            ? Int.max
            : (o.partition.map { $0 >= 0 ? 1 : nil } ?? nil) ?? (metadata.topic(o.topic!)?.partitions.count ?? 1)
        let atEnd = NIOLockedValueBox<Set<TopicPartition>>([])
        let events = Task {
            for await event in consumer.events {
                switch event {
                case .assigned(let tps):
                    assigned.withLockedValue { $0 = Set(tps) }
                    if let group, verbosity >= 1 {
                        printError(
                            "% Group \(group) rebalanced: assigned: "
                                + tps.sorted().map { "\($0.topic) [\($0.partition)]" }.joined(separator: ", ")
                        )
                    }
                    // kcat's -o in -G mode overrides the committed offsets of assigned partitions.
                    if let explicitStart {
                        for tp in tps { try? await consumer.seek(tp, to: explicitStart) }
                    }
                case .revoked(let tps):
                    assigned.withLockedValue { $0.subtract(tps) }
                    if let group, verbosity >= 1 {
                        printError(
                            "% Group \(group) rebalanced: revoked: "
                                + tps.sorted().map { "\($0.topic) [\($0.partition)]" }.joined(separator: ", ")
                        )
                    }
                case .partitionEOF(let tp, let offset):
                    let ended = atEnd.withLockedValue {
                        $0.insert(tp)
                        return $0.count
                    }
                    if verbosity >= 1, o.exitAtEnd {
                        let all = ended >= (group == nil ? partitionCount : assigned.withLockedValue { $0.count })
                        printError(
                            "% Reached end of topic \(tp.topic) [\(tp.partition)] at offset \(offset)"
                                + (all ? ": exiting" : "")
                        )
                    }
                }
            }
        }

        var printed: Int64 = 0
        var stopped: Set<TopicPartition> = []
        var buffer: [UInt8] = []
        var failure: (any Error)?
        do {
            for try await record in consumer {
                let tp = record.topicPartition
                if stopped.contains(tp) { continue }
                if let stop = o.stopTimestamp, record.timestamp >= stop {
                    stopped.insert(tp)
                    consumer.pause([tp])
                    if verbosity >= 1 {
                        let exiting = stopped.count >= partitionCount
                        printError(
                            "% Reached stop timestamp for topic \(tp.topic) [\(tp.partition)] at offset \(record.offset)"
                                + (exiting ? ": exiting" : "")
                        )
                    }
                    if stopped.count >= partitionCount { break }
                    continue
                }
                buffer.removeAll(keepingCapacity: true)
                let cli = CLIRecord(
                    topic: record.topic,
                    partition: record.partition,
                    offset: record.offset,
                    timestamp: record.timestamp,
                    timestampType: record.timestampType == .logAppendTime ? .logAppendTime : .createTime,
                    key: record.key.map { Array($0.readableBytesView) },
                    value: record.value.map { Array($0.readableBytesView) },
                    headers: record.headers.map {
                        CLIHeader(key: $0.key, value: $0.value.map { Array($0.readableBytesView) })
                    },
                    broker: leaders[tp] ?? 0
                )
                do {
                    try format.write(cli, into: &buffer)
                    out.write(buffer)
                } catch {
                    out.write(buffer)
                    out.flush()
                    if o.exitOnError { throw error }
                    printError("% ERROR: \(error.message)")
                }
                if out.failed { break }
                printed += 1
                if let count = o.count, count > 0, printed >= count { break }
            }
        } catch {
            failure = error
        }
        out.flush()
        events.cancel()
        // kcat's -C with a group.id commits the position it reached (librdkafka commits the
        // offsets kcat stores per message); -G commits in close().
        if o.mode == .consume, failure == nil, configuration.groupId != nil {
            do {
                try await withTimeout(o.metadataTimeoutDuration, "Failed to commit offsets: Local: Timed out") {
                    try await consumer.commit()
                }
            } catch {
                failure = error
            }
        }
        do {
            try await withTimeout(.seconds(10), "closing the consumer timed out") { try await consumer.close() }
        } catch {
            if failure == nil { failure = error }
        }
        if let failure { throw failure }
        return 0
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
