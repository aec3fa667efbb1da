/// Splits producer input into messages at a (possibly multi-byte) delimiter as bytes arrive, so
/// an interactive producer sends each line as soon as it is typed (kcat 1.7.1 waits for EOF).
/// Semantics are kcat's `inbuf_read_to_delimeter`: the delimiter is not part of the message, the
/// bytes after the last delimiter are a message at EOF, and a message longer than `maxSize` is an
/// error.
public struct DelimiterSplitter: Sendable {
    public let delimiter: [UInt8]
    public let maxSize: Int
    private var buffer: [UInt8] = []
    /// Where the next delimiter search starts (everything before it holds no delimiter start).
    private var scanFrom = 0

    public init(delimiter: [UInt8], maxSize: Int) {
        precondition(!delimiter.isEmpty, "checked by option parsing")
        self.delimiter = delimiter
        self.maxSize = maxSize
    }

    /// Adds bytes and returns every message they complete (empty ones included; kcat skips them).
    public mutating func push(_ bytes: some Collection<UInt8>) throws(CLIError) -> [[UInt8]] {
        self.buffer.append(contentsOf: bytes)
        var messages: [[UInt8]] = []
        var start = 0
        let d = self.delimiter
        let last = d[d.count - 1]
        var i = max(self.scanFrom, start + d.count - 1)
        while i < self.buffer.count {
            if self.buffer[i] == last, i + 1 >= start + d.count,
                d.count == 1 || self.buffer[(i + 1 - d.count)...i].elementsEqual(d)
            {
                messages.append(Array(self.buffer[start..<(i + 1 - d.count)]))
                start = i + 1
                i = start + d.count - 1
                continue
            }
            i += 1
        }
        if start > 0 { self.buffer.removeSubrange(0..<start) }
        self.scanFrom = max(0, self.buffer.count - d.count + 1)
        if self.buffer.count > self.maxSize + d.count {
            throw CLIError("Input is too large, maximum size is \(self.maxSize + d.count)")
        }
        return messages
    }

    /// The bytes after the last delimiter, at end of input.
    public mutating func finish() -> [UInt8]? {
        defer {
            self.buffer = []
            self.scanFrom = 0
        }
        return self.buffer.isEmpty ? nil : self.buffer
    }
}

/// One message to produce, before it meets the client.
public struct ProducerMessage: Sendable, Equatable {
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [CLIHeader]
    public var partition: Int32?
    public var timestamp: Int64?

    public init(
        key: [UInt8]?,
        value: [UInt8]?,
        headers: [CLIHeader] = [],
        partition: Int32? = nil,
        timestamp: Int64? = nil
    ) {
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
        self.timestamp = timestamp
    }

    /// kcat's split of an input message: at the first `-K` delimiter into key and value (with `-Z`
    /// empty parts become NULL), else the whole message is the value and the key is `-k`'s, if any.
    public static func split(
        _ message: [UInt8],
        keyDelimiter: [UInt8]?,
        nullEmpty: Bool,
        fixedKey: [UInt8]?
    ) -> ProducerMessage {
        var key: [UInt8]?
        var value: [UInt8]? = message
        if let d = keyDelimiter, !d.isEmpty, let at = firstIndex(of: d, in: message) {
            key = Array(message[..<at])
            value = Array(message[(at + d.count)...])
            if nullEmpty {
                if value!.isEmpty { value = nil }
                if key!.isEmpty { key = nil }
            }
        }
        if key == nil, let fixedKey { key = fixedKey }
        return ProducerMessage(key: key, value: value)
    }

    static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = 0
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0], haystack[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
