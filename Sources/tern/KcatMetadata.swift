import TernCLICore
import TernClient
import TernWire

/// `-L` (metadata listing) and `-Q` (offsets for times), printed as kcat prints them.
struct KcatMetadata {
    let options: KcatOptions

    func list() async throws -> Int32 {
        let o = self.options
        let admin = try Admin(configuration: try o.clientConfiguration())
        let topics = o.topic.map { [$0] }
        let metadata: ClusterMetadata
        do {
            metadata = try await withTimeout(
                o.metadataTimeoutDuration,
                "Failed to acquire metadata: Local: Broker transport failure (Are the brokers reachable? Also try increasing the metadata timeout with -m <timeout>?)"
            ) { try await admin.metadata(topics: topics) }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        let out = OutputStream.standardOutput
        let origin = metadata.brokers.first { $0.nodeId == metadata.controllerId } ?? metadata.brokers.first
        let originId = origin?.nodeId ?? -1
        let originName = origin.map { "\($0.host):\($0.port)/\($0.nodeId)" } ?? ""
        if o.json {
            var s = #"{"originating_broker":{"id":\#(originId),"name":"#
            s += jsonString(originName)
            s += #"},"query":{"topic":"# + jsonString(o.topic ?? "*") + "}"
            s += #","controllerid":\#(metadata.controllerId),"brokers":["#
            s += metadata.brokers.map { #"{"id":\#($0.nodeId),"name":"# + jsonString("\($0.host):\($0.port)") + "}" }
                .joined(separator: ",")
            s += #"],"topics":["#
            s += metadata.topics.map { topic in
                var t = #"{"topic":"# + jsonString(topic.name)
                if topic.error != .none { t += #","error":"# + jsonString(kafkaErrorString(topic.error)) }
                t += #","partitions":["#
                t += topic.partitions.map { p in
                    var ps = #"{"partition":\#(p.partition)"#
                    if p.error != .none { ps += #","error":"# + jsonString(kafkaErrorString(p.error)) }
                    ps += #","leader":\#(p.leader),"replicas":["#
                    ps += p.replicas.map { #"{"id":\#($0)}"# }.joined(separator: ",")
                    ps += #"],"isrs":["#
                    ps += p.isr.map { #"{"id":\#($0)}"# }.joined(separator: ",")
                    return ps + "]}"
                }.joined(separator: ",")
                return t + "]}"
            }.joined(separator: ",")
            s += "]}"
            out.write(s)
            return 0
        }
        var s = "Metadata for \(o.topic ?? "all topics") (from broker \(originId): \(originName)):\n"
        s += " \(metadata.brokers.count) brokers:\n"
        for broker in metadata.brokers {
            s += "  broker \(broker.nodeId) at \(broker.host):\(broker.port)"
            s += broker.nodeId == metadata.controllerId ? " (controller)\n" : "\n"
        }
        s += " \(metadata.topics.count) topics:\n"
        for topic in metadata.topics {
            s += "  topic \"\(topic.name)\" with \(topic.partitions.count) partitions:"
            if topic.error != .none {
                s += " \(kafkaErrorString(topic.error))"
                if topic.error == .leaderNotAvailable { s += " (try again)" }
            }
            s += "\n"
            for p in topic.partitions {
                s += "    partition \(p.partition), leader \(p.leader), replicas: "
                s += p.replicas.map(String.init).joined(separator: ",")
                s += ", isrs: " + p.isr.map(String.init).joined(separator: ",")
                s += p.error != .none ? ", \(kafkaErrorString(p.error))\n" : "\n"
            }
        }
        out.write(s)
        return 0
    }

    func query() async throws -> Int32 {
        let o = self.options
        let admin = try Admin(configuration: try o.clientConfiguration())
        var results: [(TopicPartition, Int64)] = []
        do {
            for q in o.queries {
                let tp = TopicPartition(topic: q.topic, partition: q.partition)
                let spec: OffsetSpec =
                    switch q.timestamp {
                    case -1: .latest
                    case -2: .earliest
                    default: .timestamp(q.timestamp)
                    }
                let offsets = try await withTimeout(
                    o.metadataTimeoutDuration,
                    "offsets_for_times failed: Local: Timed out"
                ) { try await admin.listOffsets([tp], spec: spec) }
                var offset = offsets[tp] ?? -1
                if case .timestamp = spec {
                    // No message at or after the time: the client answers the log-end offset, Kafka
                    // (and kcat) -1.
                    let end = try await withTimeout(
                        o.metadataTimeoutDuration,
                        "offsets_for_times failed: Local: Timed out"
                    ) {
                        try await admin.listOffsets([tp], spec: .latest)
                    }
                    if end[tp] == offset { offset = -1 }
                }
                results.append((tp, offset))
            }
        } catch {
            await admin.close()
            if let error = error as? TernClientError {
                throw CLIError("offsets_for_times failed: \(error.description)")
            }
            throw error
        }
        await admin.close()
        results.sort { $0.0 < $1.0 }
        let out = OutputStream.standardOutput
        if o.json {
            var s = "{"
            var lastTopic: String?
            for (tp, offset) in results {
                if tp.topic != lastTopic {
                    if lastTopic != nil { s += "}," }
                    s += jsonString(tp.topic) + #":{"topic":"# + jsonString(tp.topic)
                    lastTopic = tp.topic
                }
                s += #","# + jsonString(String(tp.partition)) + #":{"partition":\#(tp.partition),"offset":\#(offset)}"#
            }
            if lastTopic != nil { s += "}" }
            s += "}"
            out.write(s)
        } else {
            for (tp, offset) in results { out.write("\(tp.topic) [\(tp.partition)] offset \(offset)\n") }
        }
        return 0
    }
}

func jsonString(_ text: String) -> String {
    var out: [UInt8] = []
    JSONEnvelope.writeString(Array(text.utf8), into: &out)
    return String(decoding: out, as: UTF8.self)
}
