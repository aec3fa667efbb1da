import NIOCore
import TernWire
import Testing

/// Every served message type, at every version its codec knows, with values in every field
/// (Samples/, from tools/golden/gen_wire_samples.py): encodings have the size Kafka's schema gives,
/// re-encode identically, and refuse truncation and trailing bytes.
@Suite struct RoundTripTests {
    @Test func everyServedMessageHasASample() {
        #expect(Set(MessageSample.all.map(\.name)) == Set(servedMessageNames))
        #expect(MessageSample.all.count == 2 * KafkaRequest.servedApis.count)
    }

    @Test(arguments: MessageSample.all)
    func roundTripsAtEveryVersion(_ sample: MessageSample) throws {
        func check<M: KafkaMessage>(_ full: M) throws {
            #expect(M.versions == sample.schemaVersions, "\(M.self): versions differ from the schema's validVersions")
            for version in M.versions {
                let index = Int(version - sample.schemaVersions.lowerBound)
                let nulls = try #require(sample.nulls(version) as? M)
                for (variant, message, size) in [
                    ("values", full, sample.fullSizes[index]), ("nulls", nulls, sample.nullSizes[index]),
                ] {
                    let context = "\(M.self) v\(version) (\(variant))"
                    let encoded = try expectStableRoundTrip(message, version: version, context)
                    #expect(encoded.readableBytes == size, "\(context): size from the schema")
                }
            }
        }
        try check(sample.full)
    }

    /// Each version keeps exactly its own fields: decoding what a version wrote gives the value
    /// with every field that version lacks reset to its default.
    @Test(arguments: MessageSample.all)
    func versionsKeepTheirFieldsAndResetTheOthers(_ sample: MessageSample) throws {
        func check<M: KafkaMessage>(_ full: M) throws {
            for version in M.versions {
                let expected = try #require(sample.atVersion(version) as? M)
                #expect(
                    try M.decode(full.encoded(version: version), version: version) == expected,
                    "\(M.self) v\(version)"
                )
                // The reduced value is what the version can carry: it encodes like the full one.
                #expect(expected.encoded(version: version) == full.encoded(version: version), "\(M.self) v\(version)")

                let nulls = try #require(sample.nulls(version) as? M)
                let expectedNulls = try #require(sample.nullsAtVersion(version) as? M)
                #expect(
                    try M.decode(nulls.encoded(version: version), version: version) == expectedNulls,
                    "\(M.self) v\(version) (nulls)"
                )
            }
        }
        try check(sample.full)
    }

    /// `forEachErrorCode` reports every error code of a response, nested ones included.
    @Test(arguments: MessageSample.all.filter { $0.full is any KafkaResponseMessage })
    func responsesReportEveryErrorCode(_ sample: MessageSample) throws {
        let response = try #require(sample.full as? any KafkaResponseMessage)
        var codes: [Int16] = []
        response.forEachErrorCode { code, _ in codes.append(code.rawValue) }
        #expect(codes.sorted() == sample.errorCodes, "\(sample.name)")
    }

    /// Unknown tagged fields survive a round trip in flexible versions (one on every struct of
    /// the sample) and are dropped in the others.
    @Test(arguments: MessageSample.all)
    func unknownTaggedFields(_ sample: MessageSample) throws {
        func check<M: KafkaMessage>(_ full: M) throws {
            let written = unknownTags(of: full)
            for version in M.versions {
                let decoded = try M.decode(full.encoded(version: version), version: version)
                let tags = unknownTags(of: decoded)
                if M.isFlexible(version) {
                    // The message's own unknown field (tag 200) always; nested ones where the version
                    // has the struct.
                    #expect(tags.contains(200) && tags.allSatisfy { $0 >= 200 }, "\(M.self) v\(version)")
                    #expect(tags.count <= written.count)
                } else {
                    #expect(tags.isEmpty, "\(M.self) v\(version) kept tagged fields")
                }
            }
        }
        try check(sample.full)
    }
}

/// Damaged input fails cleanly: every byte of every sample encoding, replaced in turn by 0xFF and by
/// 0x7F (huge lengths, negative lengths, bad varints), either decodes to something that itself
/// round-trips or throws a WireError; nothing traps or allocates what a length claims.
@Suite struct DamagedInputTests {
    @Test(arguments: MessageSample.all)
    func damagedBytesFailCleanly(_ sample: MessageSample) async throws {
        @Sendable func mismatches<M: KafkaMessage>(_ full: M) throws -> [String] {
            var mismatches: [String] = []
            for version in M.versions {
                let encoded = full.encoded(version: version)
                for offset in 0..<encoded.readableBytes {
                    for byte in [UInt8(0xFF), 0x7F] {
                        var damaged = encoded
                        damaged.setInteger(byte, at: damaged.readerIndex + offset)
                        guard let decoded = try? M.decode(damaged, version: version) else { continue }
                        let again = try M.decode(decoded.encoded(version: version), version: version)
                        if again != decoded { mismatches.append("\(M.self) v\(version) byte \(offset) = \(byte)") }
                    }
                }
            }
            return mismatches
        }
        // Seconds of decoding, kept off the cooperative pool; no #expect there (it records into the
        // test's task-local context).
        let full = sample.full
        #expect(try await offThePool { try mismatches(full) } == [])
    }
}
