import Testing

@testable import TernCLICore

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

private let sample = CLIRecord(
    topic: "g1",
    partition: 0,
    offset: 0,
    timestamp: 1_795_945_816_089,
    key: Array("k1".utf8),
    value: Array("v1".utf8),
    headers: [.init(key: "a", value: Array("1".utf8)), .init(key: "b", value: nil)]
)

private func render(_ format: String, _ record: CLIRecord, null: Bool = false) throws -> [UInt8] {
    let f = OutputFormat(style: .tokens(try OutputFormat.parse(format)), nullString: null ? Array("NULL".utf8) : nil)
    var out: [UInt8] = []
    try f.write(record, into: &out)
    return out
}

@Suite struct OutputFormatTests {
    // Expected lines are kcat 1.7.1's output for the same messages (see the golden tests).
    @Test func everyToken() throws {
        let line = try render("%t|%p|%o|%k|%K|%s|%S|%h|%T|%%\\n", sample)
        #expect(text(line) == "g1|0|0|k1|2|v1|2|a=1,b=NULL|1795945816089|%\n")
        var nullKey = sample
        nullKey.key = nil
        nullKey.headers = []
        #expect(text(try render("%k|%K|%h|", nullKey)) == "|-1||")
        #expect(text(try render("%k|%K|%h|", nullKey, null: true)) == "NULL|-1||")
        var emptyKey = sample
        emptyKey.key = []
        // kcat prints the null string for empty (not only NULL) keys and values.
        #expect(text(try render("%k|%K", emptyKey, null: true)) == "NULL|0")
    }

    @Test func binaryLength() throws {
        #expect(try render("%R", sample) == [0, 0, 0, 2])
        var tombstone = sample
        tombstone.value = nil
        #expect(try render("%R", tombstone) == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(text(try render("%S", tombstone)) == "-1")
    }

    @Test func escapesInFormats() throws {
        // Checked against kcat 1.7.1: `\101` is decimal (C's base 0), hex digits run on (`\x00b` is 11).
        #expect(try render("a\\tb\\rc\\x41\\101\\x0a", sample) == Array("a\tb\rcAe\n".utf8))
        #expect(text(try render("a\\x00b%s", sample)) == "a\u{0B}v1")
        // kcat only parses \x numbers that start with a decimal digit.
        #expect(text(try render("\\xff", sample)) == "ff")
        #expect(text(try render("\\q", sample)) == "q")
        // A NUL ends the literal, as in kcat's C strings.
        #expect(text(try render("a\\x00%s", sample)) == "av1")
        #expect(throws: CLIError("Empty formatter")) { try OutputFormat.parse("abc%") }
        #expect(throws: CLIError("Unsupported formatter: %z")) { try OutputFormat.parse("%z") }
    }

    @Test func isoTimestamp() throws {
        #expect(text(try render("%I", sample)) == "2026-11-29T09:50:16.089Z")
        #expect(ISOTime.format(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(ISOTime.format(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(ISOTime.format(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
    }

    @Test func delimitedDefaults() throws {
        let f = OutputFormat(style: .tokens(OutputFormat.delimited(keyDelimiter: Array("::".utf8), delimiter: [0x0A])))
        var out: [UInt8] = []
        try f.write(sample, into: &out)
        #expect(text(out) == "k1::v1\n")
    }

    @Test func packDeserializers() throws {
        var record = sample
        record.key = [0x00, 0x00, 0x01, 0x00]
        record.value = [0xFF, 0xFE, 0x41, 0x42, 0x43]
        let f = OutputFormat(
            style: .tokens(try OutputFormat.parse("%k|%s")),
            keyPack: try PackFormat(">I", what: "key"),
            valuePack: try PackFormat("h c$", what: "value")
        )
        var out: [UInt8] = []
        #expect(
            throws: CLIError(
                "Failed to format message in g1 [0] at offset 0: expected value end-of-input, but 2 bytes remaining"
            )
        ) {
            try f.write(record, into: &out)
        }
        out = []
        let ok = OutputFormat(
            style: .tokens(try OutputFormat.parse("%k|%s")),
            keyPack: try PackFormat("<I", what: "key"),
            valuePack: try PackFormat("bBs", what: "value")
        )
        try ok.write(record, into: &out)
        #expect(text(out) == "65536|-1254ABC")
        let q = try PackFormat(">q", what: "key")
        out = []
        #expect(throws: CLIError("key truncated, expected 8 bytes to unpack q but only 4 bytes remaining")) {
            try q.unpack([0, 0, 0, 1], what: "key", into: &out)
        }
    }
}

@Suite struct EscapeTests {
    @Test func delimiters() throws {
        #expect(try Escapes.delimiter("\\n") == [0x0A])
        #expect(try Escapes.delimiter(";;") == Array(";;".utf8))
        #expect(try Escapes.delimiter("\\t|\\x1e") == [0x09, UInt8(ascii: "|"), 0x1E])
        // \r is not an escape in kcat's delimiter parser.
        #expect(try Escapes.delimiter("\\r") == Array("\\r".utf8))
        #expect(try Escapes.delimiter("\\x4142") == [0x42])
        #expect(throws: CLIError("Delimiter \\xzz expects hex number")) { try Escapes.delimiter("\\xzz") }
    }
}

@Suite struct JSONEnvelopeTests {
    @Test func kcatShape() {
        var out: [UInt8] = []
        JSONEnvelope.write(sample, binary: .raw, into: &out)
        #expect(
            text(out)
                == #"{"topic":"g1","partition":0,"offset":0,"tstype":"create","ts":1795945816089,"broker":0,"headers":["a","1","b",null],"key":"k1","payload":"v1"}"#
        )
        var bare = sample
        bare.headers = []
        bare.timestamp = nil
        bare.key = nil
        bare.value = []
        out = []
        JSONEnvelope.write(bare, binary: .raw, into: &out)
        #expect(text(out) == #"{"topic":"g1","partition":0,"offset":0,"broker":0,"key":null,"payload":""}"#)
    }

    @Test func yajlEscaping() {
        var out: [UInt8] = []
        JSONEnvelope.writeString([0x22, 0x5C, 0x2F, 0x0A, 0x0D, 0x09, 0x08, 0x0C, 0x01, 0x1F, 0x7F, 0xFF], into: &out)
        #expect(out == Array(#""\"\\/\n\r\t\b\f\u0001\u001F"#.utf8) + [0x7F, 0xFF, 0x22])
    }

    @Test func base64RoundTrip() throws {
        var record = sample
        record.key = [0xFF, 0x00, 0x10]
        record.value = Array(0...255)
        record.headers = [.init(key: "bin", value: [0x80]), .init(key: "none", value: nil)]
        var out: [UInt8] = []
        JSONEnvelope.write(record, binary: .base64, into: &out)
        #expect(text(out).contains(#""key":"/wAQ""#))
        #expect(text(out).hasSuffix(#","encoding":"base64"}"#))
        let back = try JSONEnvelope.parse(out)
        #expect(back.key == record.key)
        #expect(back.value == record.value)
        #expect(back.headers == record.headers)
        #expect(back.partition == 0)
        #expect(back.timestamp == sample.timestamp)
    }

    @Test func parsesKcatOutputIncludingRawBytes() throws {
        var out: [UInt8] = []
        var record = sample
        record.value = [0x01, 0xC3, 0x28, 0x22, 0x0A]  // control byte, invalid UTF-8, quote, newline
        JSONEnvelope.write(record, binary: .raw, into: &out)
        let back = try JSONEnvelope.parse(out)
        #expect(back.value == record.value)
        #expect(back.key == record.key)
        #expect(back.headers == record.headers)
    }

    @Test func parsesObjectHeadersAndRejectsGarbage() throws {
        let input = try JSONEnvelope.parse(
            Array(#"{"key":null,"payload":"caf\u00e9 \ud83d\ude00","headers":{"h":"v"},"partition":-1}"#.utf8)
        )
        #expect(input.key == nil)
        #expect(input.value == Array("café 😀".utf8))
        #expect(input.headers == [.init(key: "h", value: Array("v".utf8))])
        #expect(input.partition == nil)
        #expect(throws: CLIError.self) { try JSONEnvelope.parse(Array("not json".utf8)) }
        #expect(throws: CLIError.self) { try JSONEnvelope.parse(Array(#"{"headers":["a"]}"#.utf8)) }
        #expect(throws: CLIError.self) { try JSONEnvelope.parse(Array(#"{"key":"!!","encoding":"base64"}"#.utf8)) }
        #expect(throws: CLIError.self) { try JSONEnvelope.parse(Array(#"{"key":"a"} x"#.utf8)) }
    }

    @Test func base64() {
        for n in 0..<10 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 37 + 200) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(text(Base64.encode(Array("hello".utf8))) == "aGVsbG8=")
        #expect(Base64.decode(Array("a".utf8)) == nil)
    }
}
