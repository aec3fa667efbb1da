import NIOCore
import TernWire
import Testing

/// Consumer-protocol payloads that the group API golden cases embed (built with Tern's encoder,
/// whose bytes are themselves checked against kafka-python in `ConsumerProtocolTests`).
enum ConsumerProtocolSamples {
    static let subscriptionV0 = ConsumerProtocolSubscription(topics: ["kp_t"], userData: ByteBuffer())
        .encode(version: 0)
    static let subscriptionV3 = ConsumerProtocolSubscription(
        topics: ["a", "b"],
        ownedPartitions: [.init(topic: "a", partitions: [0, 2])],
        generationId: 7,
        rackId: "r1"
    ).encode(version: 3)
    static let assignmentV0 = ConsumerProtocolAssignment(
        assignedPartitions: [.init(topic: "ck_t", partitions: [0, 1])],
        userData: ByteBuffer()
    ).encode(version: 0)
}

private func subscriptionSample(version: Int16) -> ConsumerProtocolSubscription {
    ConsumerProtocolSubscription(
        topics: ["orders", "payments"],
        userData: version == 2 ? nil : ByteBuffer(bytes: [0xCA, 0xFE]),
        ownedPartitions: version >= 1
            ? [.init(topic: "orders", partitions: [0, 3]), .init(topic: "payments", partitions: [])] : [],
        generationId: version >= 2 ? 12 : -1,
        rackId: version >= 3 ? "rack-a" : nil
    )
}

private func assignmentSample(version: Int16) -> ConsumerProtocolAssignment {
    ConsumerProtocolAssignment(
        assignedPartitions: [.init(topic: "orders", partitions: [1, 2]), .init(topic: "payments", partitions: [0])],
        userData: version.isMultiple(of: 2) ? nil : ByteBuffer(bytes: [7])
    )
}

/// Round trip plus: the version prefix is written, and every strict prefix fails to decode.
private func expectPayloadRoundTrip<P: ConsumerProtocolPayload>(
    _ payload: P,
    version: Int16,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let encoded = payload.encode(version: version)
    #expect(encoded.getInteger(at: encoded.readerIndex, as: Int16.self) == version, sourceLocation: sourceLocation)
    #expect(try P.decode(from: encoded) == payload, "\(P.self) v\(version)", sourceLocation: sourceLocation)
    for length in 0..<encoded.readableBytes {
        let prefix = encoded.getSlice(at: encoded.readerIndex, length: length)!
        #expect(throws: WireError.self, "\(P.self) v\(version) prefix \(length)", sourceLocation: sourceLocation) {
            try P.decode(from: prefix)
        }
    }
}

@Suite struct ConsumerProtocolTests {
    @Test func roundTripsAtEveryVersion() throws {
        for version in ConsumerProtocolSubscription.versions {
            try expectPayloadRoundTrip(subscriptionSample(version: version), version: version)
        }
        for version in ConsumerProtocolAssignment.versions {
            try expectPayloadRoundTrip(assignmentSample(version: version), version: version)
        }
    }

    @Test func matchesKafkaPython() throws {
        let golden = GoldenCase.groupApisPayloads
        func expectPayloadGolden<P: ConsumerProtocolPayload>(
            _ payload: P,
            version: Int16,
            _ name: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) throws {
            let goldenHex = try #require(golden[name], sourceLocation: sourceLocation)
            #expect(hex(payload.encode(version: version)) == goldenHex, sourceLocation: sourceLocation)
            #expect(try P.decode(from: buffer(hex: goldenHex)) == payload, sourceLocation: sourceLocation)
        }
        try expectPayloadGolden(
            ConsumerProtocolSubscription(topics: ["kp_t"], userData: ByteBuffer()),
            version: 0,
            "consumer_subscription_v0"
        )
        try expectPayloadGolden(
            ConsumerProtocolSubscription(
                topics: ["a"],
                userData: ByteBuffer(bytes: [9]),
                ownedPartitions: [.init(topic: "a", partitions: [4])]
            ),
            version: 1,
            "consumer_subscription_v1"
        )
        try expectPayloadGolden(
            ConsumerProtocolSubscription(
                topics: ["a", "b"],
                ownedPartitions: [.init(topic: "a", partitions: [0, 2])],
                generationId: 7,
                rackId: "r1"
            ),
            version: 3,
            "consumer_subscription_v3"
        )
        try expectPayloadGolden(
            ConsumerProtocolAssignment(
                assignedPartitions: [.init(topic: "ck_t", partitions: [0, 1])],
                userData: ByteBuffer()
            ),
            version: 0,
            "consumer_assignment_v0"
        )
        try expectPayloadGolden(
            ConsumerProtocolAssignment(
                assignedPartitions: [.init(topic: "a", partitions: [1]), .init(topic: "b", partitions: [])],
                userData: ByteBuffer(bytes: [1, 2])
            ),
            version: 3,
            "consumer_assignment_v3"
        )
        #expect(ConsumerProtocolSamples.subscriptionV0 == buffer(hex: golden["consumer_subscription_v0"]!))
        #expect(ConsumerProtocolSamples.subscriptionV3 == buffer(hex: golden["consumer_subscription_v3"]!))
        #expect(ConsumerProtocolSamples.assignmentV0 == buffer(hex: golden["consumer_assignment_v0"]!))
    }

    /// The subscription librdkafka 2.16.0 sent in the compatibility probe (kafka-compat.md §5.4).
    @Test func decodesLibrdkafkaSubscription() throws {
        let bytes = buffer(hex: "0003" + "00000001" + "0004636b5f74" + "00000000" + "00000000" + "ffffffff" + "0000")
        let subscription = try ConsumerProtocolSubscription.decode(from: bytes)
        #expect(subscription == ConsumerProtocolSubscription(topics: ["ck_t"], userData: ByteBuffer(), rackId: ""))
    }

    /// A newer version than this codec knows is read with the newest known layout and whatever
    /// follows is ignored, as Kafka's consumer does.
    @Test func readsHigherVersionsAsTheNewestKnown() throws {
        var subscriptionV9 = ByteBuffer()
        subscriptionV9.writeInteger(Int16(9))
        subscriptionSample(version: 3).write(to: &subscriptionV9, version: 3)
        subscriptionV9.writeBytes([0, 0, 0, 42, 0xFF])  // fields a future version appended
        #expect(try ConsumerProtocolSubscription.decode(from: subscriptionV9) == subscriptionSample(version: 3))

        var assignmentV4 = ByteBuffer()
        assignmentV4.writeInteger(Int16(4))
        assignmentSample(version: 1).write(to: &assignmentV4, version: 3)
        assignmentV4.writeBytes([1, 2, 3])
        #expect(try ConsumerProtocolAssignment.decode(from: assignmentV4) == assignmentSample(version: 1))

        // A higher version still needs the known fields.
        let truncated = buffer(hex: "0009" + "00000001" + "000161" + "ffffffff" + "00000000")
        let error = #expect(throws: WireError.self) { try ConsumerProtocolSubscription.decode(from: truncated) }
        #expect(error?.code == .truncated)
    }

    /// Known versions read only their own fields: a v0 reader does not look for owned partitions,
    /// and bytes past the known fields are ignored (Kafka does not check for them either).
    @Test func knownVersionsReadOnlyTheirFields() throws {
        var v0WithExtra = subscriptionSample(version: 3).encode(version: 0)
        v0WithExtra.writeBytes([0xDE, 0xAD])
        let decoded = try ConsumerProtocolSubscription.decode(from: v0WithExtra)
        #expect(decoded.generationId == -1)
        #expect(decoded.ownedPartitions.isEmpty)
        #expect(decoded.rackId == nil)
        #expect(decoded.topics == ["orders", "payments"])
    }

    @Test func refusesNegativeVersions() throws {
        let error = #expect(throws: WireError.self) {
            try ConsumerProtocolAssignment.decode(from: buffer(hex: "ffff" + "00000000" + "ffffffff"))
        }
        #expect(error?.code == .unsupportedVersion)
    }

    /// All assignment versions share one layout: only the prefix differs.
    @Test func assignmentVersionsShareALayout() {
        let assignment = assignmentSample(version: 1)
        var bodies = Set<ByteBuffer>()
        for version in ConsumerProtocolAssignment.versions {
            var encoded = assignment.encode(version: version)
            encoded.moveReaderIndex(forwardBy: 2)
            bodies.insert(encoded)
        }
        #expect(bodies.count == 1)
    }
}
