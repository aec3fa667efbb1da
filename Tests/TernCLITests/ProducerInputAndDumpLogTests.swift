import NIOCore
import TernRecords
import Testing

@testable import TernCLICore

@Suite struct DelimiterSplitterTests {
    @Test func splitsAsBytesArriveWithMultiByteDelimiters() throws {
        var s = DelimiterSplitter(delimiter: Array(";;".utf8), maxSize: 100)
        #expect(try s.push(Array("a;".utf8)) == [])
        #expect(try s.push(Array(";b;;;;c".utf8)) == [Array("a".utf8), Array("b".utf8), []])
        #expect(s.finish() == Array("c".utf8))
        #expect(s.finish() == nil)
    }

    @Test func singleByteAndOverlappingPrefixes() throws {
        var s = DelimiterSplitter(delimiter: [0x0A], maxSize: 100)
        #expect(try s.push(Array("x\n\ny\n".utf8)) == [Array("x".utf8), [], Array("y".utf8)])
        #expect(s.finish() == nil)
        var t = DelimiterSplitter(delimiter: Array("aab".utf8), maxSize: 100)
        #expect(try t.push(Array("1aaab2".utf8)) == [Array("1a".utf8)])
        #expect(t.finish() == Array("2".utf8))
    }

    @Test func tooLarge() throws {
        var s = DelimiterSplitter(delimiter: [0x0A], maxSize: 4)
        #expect(throws: CLIError.self) { try s.push(Array("123456".utf8)) }
    }

    @Test func keySplitLikeKcat() {
        let d = Array(":".utf8)
        #expect(
            ProducerMessage.split(Array("k:v".utf8), keyDelimiter: d, nullEmpty: false, fixedKey: nil)
                == ProducerMessage(key: Array("k".utf8), value: Array("v".utf8))
        )
        #expect(
            ProducerMessage.split(Array(":v".utf8), keyDelimiter: d, nullEmpty: false, fixedKey: nil)
                == ProducerMessage(key: [], value: Array("v".utf8))
        )
        #expect(
            ProducerMessage.split(Array("k:".utf8), keyDelimiter: d, nullEmpty: true, fixedKey: nil)
                == ProducerMessage(key: Array("k".utf8), value: nil)
        )
        #expect(
            ProducerMessage.split(Array(":v".utf8), keyDelimiter: d, nullEmpty: true, fixedKey: Array("f".utf8))
                == ProducerMessage(key: Array("f".utf8), value: Array("v".utf8))
        )
        #expect(
            ProducerMessage.split(Array("plain".utf8), keyDelimiter: d, nullEmpty: false, fixedKey: nil)
                == ProducerMessage(key: nil, value: Array("plain".utf8))
        )
        #expect(
            ProducerMessage.split(Array("a:b:c".utf8), keyDelimiter: d, nullEmpty: false, fixedKey: nil)
                == ProducerMessage(key: Array("a".utf8), value: Array("b:c".utf8))
        )
    }
}

@Suite struct DumpLogTests {
    func batch(baseOffset: Int64, values: [String], timestamp: Int64 = 1_700_000_000_000) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(baseOffset: baseOffset)
        for (i, v) in values.enumerated() {
            builder.append(
                key: ByteBuffer(string: "k\(i)"),
                value: ByteBuffer(string: v),
                headers: [RecordHeader(key: "h", value: nil)],
                timestampMs: timestamp + Int64(i)
            )
        }
        return try builder.build()
    }

    /// What the log cleaner leaves: a tombstone in a batch with a delete horizon, an empty batch.
    @Test func cleanedBatchesShowTheirDeleteHorizonAndTombstones() throws {
        var builder = RecordBatchBuilder()
        builder.append(key: ByteBuffer(string: "gone"), value: ByteBuffer(string: "v"), timestampMs: 1_700_000_000_000)
        builder.append(key: ByteBuffer(string: "k"), value: nil, timestampMs: 1_700_000_000_001)
        let produced = try RecordBatch(try builder.build())
        guard
            case .rewritten(var file) = try produced.retainingRecords(
                decompressionLimit: 1 << 20,
                deleteHorizonMs: 1_800_000_000_000,
                { $0.key == ByteBuffer(string: "k") }
            )
        else {
            Issue.record("expected a rewritten batch")
            return
        }
        var empty = produced.emptyHeader()
        empty.setInteger(Int64(2), at: 0)
        file.writeBuffer(&empty)
        let result = try #require(
            DumpLog.dump(fileName: "00000000000000000000.log", bytes: file, options: .init(records: true))
        )
        #expect(result.sound)
        let lines = result.output.split(separator: "\n")
        #expect(lines[2].hasPrefix("baseOffset: 0 lastOffset: 1 count: 1 "))
        #expect(lines[2].contains("isControl: false deleteHorizonMs: 1800000000000 position: 0"))
        #expect(
            lines[3]
                == "| offset: 1 CreateTime: 1700000000001 keySize: 1 valueSize: -1 sequence: -1 headerKeys: [] tombstone: true"
        )
        #expect(lines[4].hasPrefix("baseOffset: 2 lastOffset: 3 count: 0 "))
        #expect(!lines[4].contains("deleteHorizonMs"))
    }

    @Test func segmentWithRecords() throws {
        var file = try batch(baseOffset: 0, values: ["a", "b"])
        var second = try batch(baseOffset: 2, values: ["c"])
        file.writeBuffer(&second)
        let result = try #require(
            DumpLog.dump(
                fileName: "00000000000000000000.log",
                bytes: file,
                options: .init(records: true, printData: true)
            )
        )
        #expect(result.sound)
        let lines = result.output.split(separator: "\n")
        #expect(lines[0] == "Dumping 00000000000000000000.log")
        #expect(lines[2].hasPrefix("baseOffset: 0 lastOffset: 1 count: 2 "))
        #expect(lines[2].contains("isvalid: true"))
        #expect(
            lines[3]
                == "| offset: 0 CreateTime: 1700000000000 keySize: 2 valueSize: 1 sequence: -1 headerKeys: [h] key: k0 payload: a"
        )
        #expect(lines[5].hasPrefix("baseOffset: 2 lastOffset: 2 count: 1 "))
        #expect(lines.last == "Summary: 2 batches, 3 records, \(file.readableBytes) bytes, no problems found")
        let single = try batch(baseOffset: 2, values: ["c"])
        let one = try #require(
            DumpLog.dump(fileName: "00000000000000000002.log", bytes: single, options: .init(records: true))
        )
        #expect(one.output.hasSuffix("Summary: 1 batch, 1 record, \(single.readableBytes) bytes, no problems found\n"))
    }

    @Test func corruptCRCAndTornTail() throws {
        var file = try batch(baseOffset: 5, values: ["hello"])
        // Flip a byte inside the records (covered by the CRC) and leave half a batch at the end.
        let flip = file.readableBytes - 2
        file.setInteger(file.getInteger(at: flip, as: UInt8.self)! ^ 0xFF, at: flip)
        var torn = try batch(baseOffset: 6, values: ["x"])
        file.writeBytes(torn.readBytes(length: 20)!)
        let result = try #require(DumpLog.dump(fileName: "00000000000000000005.log", bytes: file, options: .init()))
        #expect(!result.sound)
        #expect(result.output.contains("isvalid: false ERROR: stored CRC"))
        // The CRC reads the same (hex) in the batch line and in the mismatch message.
        let batchLine = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("baseOffset: 5") })
        let shown = try #require(batchLine.firstMatch(of: #/crc: (0x[0-9a-f]{8}) /#)?.1)
        #expect(batchLine.contains("stored CRC \(shown) but"))
        #expect(result.output.contains("ERROR: 20 bytes at position"))
        let json = try #require(
            DumpLog.dump(fileName: "00000000000000000005.log", bytes: file, options: .init(json: true))
        )
        #expect(json.output.split(separator: "\n").first?.contains(#""crcValid":false"#) == true)
        #expect(json.output.split(separator: "\n").first?.contains(#""crc":"\#(shown)""#) == true)
    }

    @Test func offsetBelowSegmentBaseIsReported() throws {
        let result = try #require(
            DumpLog.dump(
                fileName: "00000000000000000010.log",
                bytes: try batch(baseOffset: 3, values: ["a"]),
                options: .init()
            )
        )
        #expect(!result.sound)
        #expect(result.output.contains("below the segment's base offset 10"))
    }

    @Test func indexes() throws {
        var index = ByteBuffer()
        for (rel, pos) in [(3, 0), (9, 4100), (7, 9000)] as [(UInt32, UInt32)] {
            index.writeInteger(rel)
            index.writeInteger(pos)
        }
        index.writeInteger(UInt8(1))
        let r = try #require(DumpLog.dump(fileName: "00000000000000000100.index", bytes: index, options: .init()))
        #expect(!r.sound)
        let lines = r.output.split(separator: "\n")
        #expect(lines[1] == "offset: 103 position: 0")
        #expect(lines[2] == "offset: 109 position: 4100")
        #expect(lines[3] == "offset: 107 position: 9000 ERROR: entry 2 does not increase on the previous one")
        #expect(lines[4] == "ERROR: 1 trailing byte is not a whole 8-byte entry")

        var time = ByteBuffer()
        time.writeInteger(Int64(1000))
        time.writeInteger(UInt32(1))
        time.writeInteger(Int64(2000))
        time.writeInteger(UInt32(4))
        let t = try #require(
            DumpLog.dump(fileName: "00000000000000000000.timeindex", bytes: time, options: .init(json: true))
        )
        #expect(t.sound)
        #expect(t.output == "{\"timestamp\":1000,\"offset\":1}\n{\"timestamp\":2000,\"offset\":4}\n")
        #expect(DumpLog.dump(fileName: "notes.txt", bytes: time, options: .init()) == nil)
    }
}
