public import NIOCore
import TernRecords

/// `tern dump-log`: an offline look at a segment (`.log`), offset index (`.index`) or time index
/// (`.timeindex`) file, in the spirit of kafka-dump-log. Formats are those of docs/storage.md.
/// Pure: takes the file's name and bytes, returns text and whether the file is sound.
public enum DumpLog {
    public struct Options: Sendable {
        /// Print each record of each batch.
        public var records = false
        /// With `records`: print keys, values and header values too.
        public var printData = false
        /// One JSON object per batch/entry instead of text.
        public var json = false
        public var decompressionLimit = 256 << 20

        public init(records: Bool = false, printData: Bool = false, json: Bool = false) {
            self.records = records
            self.printData = printData
            self.json = json
        }
    }

    public struct Result: Sendable {
        public var output: String
        /// False when a CRC, a batch or an index entry is broken.
        public var sound: Bool
    }

    public enum Kind: Sendable {
        case log, index, timeIndex
    }

    public static func kind(of fileName: String) -> Kind? {
        if fileName.hasSuffix(".log") { return .log }
        if fileName.hasSuffix(".timeindex") { return .timeIndex }
        if fileName.hasSuffix(".index") { return .index }
        return nil
    }

    /// The segment's base offset from its file name (20 digits), if the name follows the scheme.
    public static func baseOffset(of fileName: String) -> Int64? {
        let base = fileName.split(separator: "/").last.map(String.init) ?? fileName
        guard let dot = base.firstIndex(of: ".") else { return nil }
        return Int64(base[..<dot])
    }

    public static func dump(fileName: String, bytes: ByteBuffer, options: Options) -> Result? {
        switch kind(of: fileName) {
        case .log: return dumpLog(fileName: fileName, bytes: bytes, options: options)
        case .index: return dumpIndex(fileName: fileName, bytes: bytes, entrySize: 8, options: options)
        case .timeIndex: return dumpIndex(fileName: fileName, bytes: bytes, entrySize: 12, options: options)
        case nil: return nil
        }
    }

    static func dumpLog(fileName: String, bytes: ByteBuffer, options: Options) -> Result {
        var out = ""
        var sound = true
        let segmentBase = baseOffset(of: fileName)
        if !options.json {
            out += "Dumping \(fileName)\n"
            out += "Log starting offset: \(segmentBase.map(String.init) ?? "unknown")\n"
        }
        var reader = RecordBatchReader(bytes)
        var position = 0
        var previousLast: Int64?
        var batches = 0
        var recordsSeen = 0
        while true {
            let batch: RecordBatch
            do {
                guard let next = try reader.next() else { break }
                batch = next
            } catch {
                sound = false
                out += problem("position \(position): \(error.message)", json: options.json)
                break
            }
            batches += 1
            var crcValid = true
            var problemText: String?
            do {
                try batch.validate()
            } catch {
                crcValid = batch.isValidCRC
                problemText = error.message
            }
            if let last = previousLast, batch.baseOffset <= last {
                problemText =
                    (problemText.map { $0 + "; " } ?? "")
                    + "baseOffset \(batch.baseOffset) is not above the previous batch's last offset \(last)"
            }
            if let base = segmentBase, batch.baseOffset < base {
                problemText =
                    (problemText.map { $0 + "; " } ?? "")
                    + "baseOffset \(batch.baseOffset) is below the segment's base offset \(base)"
            }
            if problemText != nil { sound = false }
            previousLast = batch.lastOffset
            out += describe(batch, position: position, crcValid: crcValid, problem: problemText, json: options.json)
            if options.records {
                do {
                    for record in try batch.records(decompressionLimit: options.decompressionLimit) {
                        recordsSeen += 1
                        out += describe(record, batch: batch, printData: options.printData, json: options.json)
                    }
                } catch {
                    sound = false
                    out += problem("batch at position \(position): records: \(error.message)", json: options.json)
                }
            }
            position += batch.byteCount
        }
        let trailing = reader.partialTrailingByteCount
        if trailing > 0 {
            sound = false
            out += problem(
                "\(counted(trailing, "byte", "bytes")) at position \(position) hold only part of a batch",
                json: options.json
            )
        }
        if !options.json {
            out += "Summary: \(counted(batches, "batch", "batches"))"
            if options.records { out += ", \(counted(recordsSeen, "record", "records"))" }
            out += ", \(counted(position, "byte", "bytes")), \(sound ? "no problems found" : "PROBLEMS FOUND")\n"
        }
        return Result(output: out, sound: sound)
    }

    /// A CRC as everywhere in Tern's output (and in the CRC mismatch message): 0x and 8 hex digits.
    static func hexCRC(_ crc: UInt32) -> String {
        let digits = String(crc, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    static func problem(_ text: String, json: Bool) -> String {
        if json {
            var s: [UInt8] = []
            JSONEnvelope.writeString(Array(text.utf8), into: &s)
            return #"{"error":\#(String(decoding: s, as: UTF8.self))}"# + "\n"
        }
        return "ERROR: \(text)\n"
    }

    static func describe(_ batch: RecordBatch, position: Int, crcValid: Bool, problem: String?, json: Bool) -> String {
        let attributes = batch.attributes
        let codec = attributes.codec.map { "\($0)" } ?? "unknown(\(attributes.codecBits))"
        let tsType = attributes.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime"
        let lastSequence = batch.baseSequence < 0 ? -1 : batch.baseSequence &+ batch.lastOffsetDelta
        if json {
            var s =
                #"{"baseOffset":\#(batch.baseOffset),"lastOffset":\#(batch.lastOffset),"count":\#(batch.recordCount)"#
            s += #","baseSequence":\#(batch.baseSequence),"lastSequence":\#(lastSequence)"#
            s += #","producerId":\#(batch.producerId),"producerEpoch":\#(batch.producerEpoch)"#
            s += #","partitionLeaderEpoch":\#(batch.partitionLeaderEpoch)"#
            s += #","isTransactional":\#(attributes.isTransactional),"isControl":\#(attributes.isControl)"#
            if let horizon = batch.deleteHorizonMs { s += #","deleteHorizonMs":\#(horizon)"# }
            s += #","position":\#(position),"timestampType":"\#(tsType)","baseTimestamp":\#(batch.baseTimestampMs)"#
            s += #","maxTimestamp":\#(batch.maxTimestampMs),"size":\#(batch.byteCount),"magic":\#(batch.magic)"#
            s += #","compression":"\#(codec)","crc":"\#(hexCRC(batch.crc))","crcValid":\#(crcValid)"#
            if let problem {
                var p: [UInt8] = []
                JSONEnvelope.writeString(Array(problem.utf8), into: &p)
                s += #","error":\#(String(decoding: p, as: UTF8.self))"#
            }
            return s + "}\n"
        }
        var s = "baseOffset: \(batch.baseOffset) lastOffset: \(batch.lastOffset) count: \(batch.recordCount)"
        s += " baseSequence: \(batch.baseSequence) lastSequence: \(lastSequence)"
        s += " producerId: \(batch.producerId) producerEpoch: \(batch.producerEpoch)"
        s += " partitionLeaderEpoch: \(batch.partitionLeaderEpoch)"
        s += " isTransactional: \(attributes.isTransactional) isControl: \(attributes.isControl)"
        // Only on batches the log cleaner gave a tombstone delete horizon (Kafka prints it always).
        if let horizon = batch.deleteHorizonMs { s += " deleteHorizonMs: \(horizon)" }
        s += " position: \(position) \(tsType): \(batch.maxTimestampMs) size: \(batch.byteCount)"
        s += " magic: \(batch.magic) compresscodec: \(codec) crc: \(hexCRC(batch.crc)) isvalid: \(crcValid)"
        if let problem { s += " ERROR: \(problem)" }
        return s + "\n"
    }

    static func describe(_ record: Record, batch: RecordBatch, printData: Bool, json: Bool) -> String {
        let tsType = batch.attributes.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime"
        let timestamp = batch.attributes.timestampType == .logAppendTime ? batch.maxTimestampMs : record.timestampMs
        let sequence =
            batch.baseSequence < 0
            ? -1 : batch.baseSequence &+ Int32(truncatingIfNeeded: record.offset - batch.baseOffset)
        let keySize = record.key?.readableBytes ?? -1
        let valueSize = record.value?.readableBytes ?? -1
        if json {
            var s = #"{"offset":\#(record.offset),"timestampType":"\#(tsType)","timestamp":\#(timestamp)"#
            s += #","keySize":\#(keySize),"valueSize":\#(valueSize),"sequence":\#(sequence),"headerKeys":["#
            s += record.headers.map { h in
                var b: [UInt8] = []
                JSONEnvelope.writeString(Array(h.key.utf8), into: &b)
                return String(decoding: b, as: UTF8.self)
            }.joined(separator: ",")
            s += "]"
            if printData {
                var b: [UInt8] = []
                b += Array(#","key":"#.utf8)
                writeJSONBytes(record.key, into: &b)
                b += Array(#","payload":"#.utf8)
                writeJSONBytes(record.value, into: &b)
                s += String(decoding: b, as: UTF8.self)
            }
            return s + "}\n"
        }
        var s = "| offset: \(record.offset) \(tsType): \(timestamp) keySize: \(keySize) valueSize: \(valueSize)"
        s += " sequence: \(sequence) headerKeys: [\(record.headers.map(\.key).joined(separator: ","))]"
        if printData {
            s += " key: \(printable(record.key)) payload: \(printable(record.value))"
        }
        if record.value == nil { s += " tombstone: true" }
        return s + "\n"
    }

    static func writeJSONBytes(_ buffer: ByteBuffer?, into out: inout [UInt8]) {
        guard let buffer else {
            out += Array("null".utf8)
            return
        }
        JSONEnvelope.writeString(Array(buffer.readableBytesView), into: &out)
    }

    /// Text as text, anything else (control bytes, invalid UTF-8) escaped, so a terminal is safe.
    static func printable(_ buffer: ByteBuffer?) -> String {
        guard let buffer else { return "null" }
        let bytes = Array(buffer.readableBytesView)
        if let text = String(validating: bytes, as: UTF8.self),
            !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        {
            return text
        }
        var s = ""
        for b in bytes {
            if b >= 0x20, b < 0x7F, b != 0x5C {
                s.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let hex = Array("0123456789abcdef")
                s += "\\x" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 0xF)])
            }
        }
        return s
    }

    static func dumpIndex(fileName: String, bytes: ByteBuffer, entrySize: Int, options: Options) -> Result {
        var out = options.json ? "" : "Dumping \(fileName)\n"
        var sound = true
        let base = baseOffset(of: fileName) ?? 0
        var buffer = bytes
        var previous: (Int64, Int64)?
        var entries = 0
        while buffer.readableBytes >= entrySize {
            let text: String
            var current: (Int64, Int64)
            if entrySize == 8 {
                let relative = buffer.readInteger(as: UInt32.self)!
                let position = buffer.readInteger(as: UInt32.self)!
                current = (Int64(relative), Int64(position))
                text =
                    options.json
                    ? #"{"offset":\#(base + Int64(relative)),"position":\#(position)"#
                    : "offset: \(base + Int64(relative)) position: \(position)"
            } else {
                let timestamp = buffer.readInteger(as: Int64.self)!
                let relative = buffer.readInteger(as: UInt32.self)!
                current = (timestamp, Int64(relative))
                text =
                    options.json
                    ? #"{"timestamp":\#(timestamp),"offset":\#(base + Int64(relative))"#
                    : "timestamp: \(timestamp) offset: \(base + Int64(relative))"
            }
            var problemText: String?
            if let previous, !(current.0 > previous.0 && current.1 > previous.1) {
                // The last time-index entry may repeat the previous one's timestamp-offset pair only
                // if both grow; anything else breaks the "strictly increasing" rule.
                problemText = "entry \(entries) does not increase on the previous one"
                sound = false
            }
            if options.json {
                out += text + (problemText.map { #","error":"\#($0)"}"# } ?? "}") + "\n"
            } else {
                out += text + (problemText.map { " ERROR: \($0)" } ?? "") + "\n"
            }
            previous = current
            entries += 1
        }
        if buffer.readableBytes > 0 {
            sound = false
            out += problem(
                "\(counted(buffer.readableBytes, "trailing byte is", "trailing bytes are")) not a whole \(entrySize)-byte entry",
                json: options.json
            )
        }
        if !options.json {
            out += "Summary: \(entries) entries, \(sound ? "no problems found" : "PROBLEMS FOUND")\n"
        }
        return Result(output: out, sound: sound)
    }
}

/// "1 batch", "2 batches".
public func counted(_ n: Int, _ singular: String, _ plural: String) -> String {
    "\(n) \(n == 1 ? singular : plural)"
}
