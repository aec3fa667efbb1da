/// kcat's `-J` message envelope, in and out.
///
/// Out, exactly as kcat 1.7.1 (yajl) writes it:
/// `{"topic":"t","partition":0,"offset":5,"tstype":"create","ts":1700000000000,"broker":1,`
/// `"headers":["name","value","other",null],"key":"k","payload":"v"}`.
/// `headers` is a flat name/value array (not the object kcat's help shows) and is left out when the
/// message has none; `tstype`/`ts` are left out when it has no timestamp; key and payload are
/// the raw bytes as a JSON string, so non-UTF-8 bytes come out as they are (not valid JSON).
/// Tern's `--base64` writes key, payload and header values base64-encoded instead and adds
/// `"encoding":"base64"` so `tern -P -J` can decode them again.
///
/// In (`tern -P -J`): one envelope per input message, with optional `key`, `payload`,
/// `headers` (kcat's flat array or an object), `partition`, `ts` and `encoding`.
public enum JSONEnvelope {
    public enum Binary: Sendable, Equatable {
        case raw, base64
    }

    public static func write(_ record: CLIRecord, binary: Binary, into out: inout [UInt8]) {
        out += Array(#"{"topic":"#.utf8)
        writeString(Array(record.topic.utf8), into: &out)
        out += Array(#","partition":\#(record.partition),"offset":\#(record.offset)"#.utf8)
        if let ts = record.timestamp {
            let type = record.timestampType == .createTime ? "create" : "logappend"
            out += Array(#","tstype":"\#(type)","ts":\#(ts)"#.utf8)
        }
        out += Array(#","broker":\#(record.broker)"#.utf8)
        if !record.headers.isEmpty {
            out += Array(#","headers":["#.utf8)
            for (index, header) in record.headers.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(Array(header.key.utf8), into: &out)
                out.append(UInt8(ascii: ","))
                writeBytes(header.value, binary: binary, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out += Array(#","key":"#.utf8)
        writeBytes(record.key, binary: binary, into: &out)
        out += Array(#","payload":"#.utf8)
        writeBytes(record.value, binary: binary, into: &out)
        if binary == .base64 { out += Array(#","encoding":"base64""#.utf8) }
        out.append(UInt8(ascii: "}"))
    }

    static func writeBytes(_ bytes: [UInt8]?, binary: Binary, into out: inout [UInt8]) {
        guard let bytes else {
            out += Array("null".utf8)
            return
        }
        switch binary {
        case .raw: writeString(bytes, into: &out)
        case .base64:
            out.append(UInt8(ascii: "\""))
            out += Base64.encode(bytes)
            out.append(UInt8(ascii: "\""))
        }
    }

    /// yajl's string escaping: `"` `\` and the named control characters, other bytes below 0x20 as
    /// `\u00XX` (upper-case hex); everything else, including invalid UTF-8, passes through.
    public static func writeString(_ bytes: [UInt8], into out: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x22: out += [0x5C, 0x22]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0..<0x20: out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A message read from an envelope for producing.
    public struct Input: Sendable, Equatable {
        public var partition: Int32?
        public var key: [UInt8]?
        public var value: [UInt8]?
        public var headers: [CLIHeader]
        public var timestamp: Int64?
    }

    /// Parses one envelope. `forceBase64` decodes binary fields even without `"encoding":"base64"`.
    public static func parse(_ bytes: [UInt8], forceBase64: Bool = false) throws(CLIError) -> Input {
        var parser = JSONParser(bytes)
        let document: JSONValue
        do {
            document = try parser.parseDocument()
        } catch {
            throw CLIError("Invalid JSON envelope: \(error.message)")
        }
        guard case .object(let fields) = document else { throw CLIError("Invalid JSON envelope: expected an object") }
        func field(_ name: String) -> JSONValue? { fields.last { $0.0 == name }?.1 }

        var base64 = forceBase64
        if let encoding = field("encoding") {
            guard case .string(let e) = encoding else {
                throw CLIError("Invalid JSON envelope: \"encoding\" must be a string")
            }
            switch String(decoding: e, as: UTF8.self) {
            case "base64": base64 = true
            case "raw", "utf8", "utf-8": base64 = false
            default: throw CLIError("Invalid JSON envelope: unknown encoding \"\(String(decoding: e, as: UTF8.self))\"")
            }
        }
        func bytesField(_ value: JSONValue?, _ name: String) throws(CLIError) -> [UInt8]? {
            switch value {
            case nil, .null?: return nil
            case .string(let s)?:
                guard base64 else { return s }
                guard let decoded = Base64.decode(s) else {
                    throw CLIError("Invalid JSON envelope: \(name) is not valid base64")
                }
                return decoded
            default: throw CLIError("Invalid JSON envelope: \(name) must be a string or null")
            }
        }

        var input = Input(partition: nil, key: nil, value: nil, headers: [], timestamp: nil)
        input.key = try bytesField(field("key"), "key")
        input.value = try bytesField(field("payload") ?? field("value"), "payload")
        switch field("partition") {
        case nil, .null?: break
        case .number(let n)?:
            guard let p = Int32(exactly: n), p >= -1 else { throw CLIError("Invalid JSON envelope: bad partition") }
            input.partition = p == -1 ? nil : p
        default: throw CLIError("Invalid JSON envelope: partition must be a number")
        }
        switch field("ts") ?? field("timestamp") {
        case nil, .null?: break
        case .number(let n)?:
            guard let ts = Int64(exactly: n) else { throw CLIError("Invalid JSON envelope: bad ts") }
            input.timestamp = ts
        default: throw CLIError("Invalid JSON envelope: ts must be a number")
        }
        switch field("headers") {
        case nil, .null?: break
        case .array(let items)?:
            guard items.count % 2 == 0 else {
                throw CLIError("Invalid JSON envelope: headers must be a flat [name, value, …] array")
            }
            for i in stride(from: 0, to: items.count, by: 2) {
                guard case .string(let name) = items[i] else {
                    throw CLIError("Invalid JSON envelope: header names must be strings")
                }
                input.headers.append(
                    CLIHeader(
                        key: String(decoding: name, as: UTF8.self),
                        value: try bytesField(items[i + 1], "header value")
                    )
                )
            }
        case .object(let pairs)?:
            for (name, value) in pairs {
                input.headers.append(CLIHeader(key: name, value: try bytesField(value, "header value")))
            }
        default: throw CLIError("Invalid JSON envelope: headers must be an array or an object")
        }
        return input
    }
}

/// A JSON value whose strings stay bytes, so kcat envelopes holding raw non-UTF-8 bytes still parse.
indirect enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string([UInt8])
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }
}

struct JSONParser {
    let bytes: [UInt8]
    var i = 0
    var depth = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws(CLIError) -> JSONValue {
        let value = try self.parseValue()
        self.skipSpace()
        guard self.i == self.bytes.count else { throw self.error("trailing characters") }
        return value
    }

    func error(_ what: String) -> CLIError { CLIError("\(what) at byte \(self.i)") }

    mutating func skipSpace() {
        while self.i < self.bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(self.bytes[self.i]) { self.i += 1 }
    }

    mutating func expect(_ literal: String) throws(CLIError) {
        let l = Array(literal.utf8)
        guard self.i + l.count <= self.bytes.count, Array(self.bytes[self.i..<self.i + l.count]) == l else {
            throw self.error("expected \(literal)")
        }
        self.i += l.count
    }

    mutating func parseValue() throws(CLIError) -> JSONValue {
        self.skipSpace()
        guard self.i < self.bytes.count else { throw self.error("unexpected end") }
        switch self.bytes[self.i] {
        case UInt8(ascii: "n"):
            try self.expect("null")
            return .null
        case UInt8(ascii: "t"):
            try self.expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expect("false")
            return .bool(false)
        case UInt8(ascii: "\""): return .string(try self.parseString())
        case UInt8(ascii: "["):
            self.depth += 1
            guard self.depth < 64 else { throw self.error("nested too deeply") }
            defer { self.depth -= 1 }
            self.i += 1
            var items: [JSONValue] = []
            self.skipSpace()
            if self.i < self.bytes.count, self.bytes[self.i] == UInt8(ascii: "]") {
                self.i += 1
                return .array(items)
            }
            while true {
                items.append(try self.parseValue())
                self.skipSpace()
                guard self.i < self.bytes.count else { throw self.error("unterminated array") }
                if self.bytes[self.i] == UInt8(ascii: ",") {
                    self.i += 1
                } else if self.bytes[self.i] == UInt8(ascii: "]") {
                    self.i += 1
                    return .array(items)
                } else {
                    throw self.error("expected , or ]")
                }
            }
        case UInt8(ascii: "{"):
            self.depth += 1
            guard self.depth < 64 else { throw self.error("nested too deeply") }
            defer { self.depth -= 1 }
            self.i += 1
            var pairs: [(String, JSONValue)] = []
            self.skipSpace()
            if self.i < self.bytes.count, self.bytes[self.i] == UInt8(ascii: "}") {
                self.i += 1
                return .object(pairs)
            }
            while true {
                self.skipSpace()
                guard self.i < self.bytes.count, self.bytes[self.i] == UInt8(ascii: "\"") else {
                    throw self.error("expected a field name")
                }
                let name = String(decoding: try self.parseString(), as: UTF8.self)
                self.skipSpace()
                try self.expect(":")
                pairs.append((name, try self.parseValue()))
                self.skipSpace()
                guard self.i < self.bytes.count else { throw self.error("unterminated object") }
                if self.bytes[self.i] == UInt8(ascii: ",") {
                    self.i += 1
                } else if self.bytes[self.i] == UInt8(ascii: "}") {
                    self.i += 1
                    return .object(pairs)
                } else {
                    throw self.error("expected , or }")
                }
            }
        default:
            let start = self.i
            while self.i < self.bytes.count, Array("+-0123456789.eE".utf8).contains(self.bytes[self.i]) { self.i += 1 }
            guard self.i > start, let n = Double(String(decoding: self.bytes[start..<self.i], as: UTF8.self)) else {
                throw self.error("unexpected character")
            }
            return .number(n)
        }
    }

    mutating func parseString() throws(CLIError) -> [UInt8] {
        self.i += 1
        var out: [UInt8] = []
        while self.i < self.bytes.count {
            let byte = self.bytes[self.i]
            self.i += 1
            if byte == UInt8(ascii: "\"") { return out }
            guard byte == 0x5C else {
                out.append(byte)
                continue
            }
            guard self.i < self.bytes.count else { break }
            let escape = self.bytes[self.i]
            self.i += 1
            switch escape {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(escape)
            case UInt8(ascii: "u"):
                var scalar = try self.hex4()
                if (0xD800..<0xDC00).contains(scalar), self.i + 1 < self.bytes.count, self.bytes[self.i] == 0x5C,
                    self.bytes[self.i + 1] == UInt8(ascii: "u")
                {
                    self.i += 2
                    let low = try self.hex4()
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                // \u00XX below 0x80 is a raw byte (what kcat's escaping of control bytes means).
                if scalar < 0x80 {
                    out.append(UInt8(scalar))
                } else if let s = Unicode.Scalar(scalar) {
                    out += Array(String(Character(s)).utf8)
                } else {
                    throw self.error("invalid \\u escape")
                }
            default: throw self.error("invalid escape")
            }
        }
        throw self.error("unterminated string")
    }

    mutating func hex4() throws(CLIError) -> UInt32 {
        guard self.i + 4 <= self.bytes.count else { throw self.error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let d = Escapes.hexValue(self.bytes[self.i]) else { throw self.error("bad \\u escape") }
            value = value * 16 + UInt32(d)
            self.i += 1
        }
        return value
    }
}

public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [
                alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)],
            ]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return out
    }

    /// Standard alphabet, padding optional; nil for anything else.
    public static func decode(_ text: [UInt8]) -> [UInt8]? {
        var values: [UInt8] = []
        values.reserveCapacity(text.count)
        var padding = 0
        for c in text {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0 else { return nil }
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "/"), UInt8(ascii: "_"): values.append(63)
            default: return nil
            }
        }
        guard values.count % 4 != 1, padding <= 2 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var i = 0
        while i < values.count {
            let chunk = values[i..<min(i + 4, values.count)]
            var n: UInt32 = 0
            for (k, v) in chunk.enumerated() { n |= UInt32(v) << (18 - 6 * k) }
            out.append(UInt8(n >> 16 & 0xFF))
            if chunk.count > 2 { out.append(UInt8(n >> 8 & 0xFF)) }
            if chunk.count > 3 { out.append(UInt8(n & 0xFF)) }
            i += 4
        }
        return out
    }
}
