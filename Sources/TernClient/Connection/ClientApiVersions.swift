import TernWire

/// The versions of each API this client's logic was written and tested for.
///
/// The generated codecs cover every version of Kafka's schemas (Fetch 0–17, Metadata 0–12, …),
/// but what the client puts in a request and reads from a response was written for a range of
/// them: Fetch 13+ names topics by id, Metadata 10+ reports topic ids, Produce below 3 cannot carry
/// v2 record batches, and so on. Version negotiation therefore picks the highest version within
/// both the broker's range and this one, never the codec's full range. The ranges are those of
/// the hand-written codecs the client was built against; raising them means checking the client
/// against what each new version adds or drops.
enum ClientApiVersions {
    static let supported: [ApiKey: ClosedRange<Int16>] = [
        .produce: 3...7,
        .fetch: 4...11,
        .listOffsets: 1...2,
        .metadata: 1...4,
        .offsetCommit: 2...3,
        .offsetFetch: 1...3,
        .findCoordinator: 0...1,
        .joinGroup: 0...2,
        .heartbeat: 0...1,
        .leaveGroup: 0...1,
        .syncGroup: 0...1,
        .describeGroups: 0...4,
        .listGroups: 0...2,
        .apiVersions: 0...3,
        .createTopics: 0...3,
        .deleteTopics: 0...1,
        // Transactions: the versions before KIP-890's (Kafka's brokers answer 4+ for brokers, or
        // with a new epoch per transaction the client would have to follow).
        .initProducerId: 0...3,
        .addPartitionsToTxn: 0...3,
        .addOffsetsToTxn: 0...3,
        .endTxn: 0...3,
        .txnOffsetCommit: 0...3,
        .describeConfigs: 0...3,
        .deleteGroups: 0...1,
        .offsetDelete: 0...0,
        .deleteRecords: 0...2,
        .createPartitions: 0...3,
        .describeCluster: 0...1,
        .incrementalAlterConfigs: 0...1,
        .describeLogDirs: 0...4,
        .saslHandshake: 1...1,
        .saslAuthenticate: 0...2,
        .describeAcls: 1...3,
        .createAcls: 1...3,
        .deleteAcls: 1...3,
        .describeUserScramCredentials: 0...0,
        .alterUserScramCredentials: 0...0,
    ]

    /// The versions of `Request` the client speaks: its entry above, within what the codec covers.
    /// APIs without an entry are not used by the client, and get none.
    static func range<Request: KafkaRequestMessage>(of request: Request.Type) -> ClosedRange<Int16>? {
        guard let range = Self.supported[Request.apiKey] else { return nil }
        return range.clamped(to: Request.versions)
    }
}
