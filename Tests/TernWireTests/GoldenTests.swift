import NIOCore
import TernWire
import Testing

/// Tern against kafka-python's encodings (tools/golden): every served API, request and response,
/// at every version both know.
@Suite struct GoldenTests {
    @Test(arguments: GoldenCase.all)
    func matchesKafkaPython(_ golden: GoldenCase) throws {
        func check<M: KafkaMessage>(_ message: M) throws {
            let context = "\(M.self) v\(golden.version)"
            #expect(hex(message.encoded(version: golden.version)) == golden.hex, "\(context): encoding")
            let decoded = try M.decode(buffer(hex: golden.hex), version: golden.version)
            #expect(decoded == message, "\(context): decoding")
            #expect(hex(decoded.encoded(version: golden.version)) == golden.hex, "\(context): re-encoding")
        }
        #expect(typeName(type(of: golden.message)) == golden.name)
        try check(golden.message)
    }

    /// One case per message and version that kafka-python and Tern share, for all 58 messages.
    @Test func coversEveryServedMessageAtEveryCommonVersion() {
        #expect(Set(GoldenCase.versionsCovered.keys) == Set(servedMessageNames))
        for name in servedMessageNames {
            guard let versions = GoldenCase.versionsCovered[name] else { continue }
            let cases = GoldenCase.all.filter { $0.name == name }
            #expect(Set(cases.map(\.version)) == Set(versions), "\(name)")
            #expect(cases.count == versions.count, "\(name): one case per version")
        }
    }
}
