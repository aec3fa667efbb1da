/// A consumed message as the output formats see it: plain bytes, no client types, so the formats
/// are testable without a broker.
public struct CLIRecord: Sendable, Equatable {
    public enum TimestampType: Sendable, Equatable {
        case createTime, logAppendTime
    }

    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the epoch; nil when the message carries none.
    public var timestamp: Int64?
    public var timestampType: TimestampType
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [CLIHeader]
    /// The broker the message was fetched from (kcat's `"broker"`).
    public var broker: Int32

    public init(
        topic: String,
        partition: Int32,
        offset: Int64,
        timestamp: Int64?,
        timestampType: TimestampType = .createTime,
        key: [UInt8]?,
        value: [UInt8]?,
        headers: [CLIHeader] = [],
        broker: Int32 = 0
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.timestampType = timestampType
        self.key = key
        self.value = value
        self.headers = headers
        self.broker = broker
    }
}

public struct CLIHeader: Sendable, Equatable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// An error the CLI reports as one line on stderr before exiting non-zero.
public struct CLIError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    /// Exit status; kcat exits 1 on every fatal error.
    public var status: Int32

    public init(_ message: String, status: Int32 = 1) {
        self.message = message
        self.status = status
    }

    public var description: String { self.message }
}
