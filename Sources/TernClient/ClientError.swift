public import TernWire

/// An error from the Tern client. `description` is one line, fit for a command line tool's stderr.
public struct TernClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The broker answered with a Kafka error code.
        case kafka(KafkaErrorCode)
        /// No TCP connection could be made.
        case unreachable
        /// The peer does not speak the Kafka protocol (it sent something that is not a Kafka frame).
        case notKafka
        /// The request got no answer in time; the connection is closed, as Kafka clients do.
        case timeout
        /// The connection closed while requests were waiting for answers.
        case connectionClosed
        /// The broker does not support a version of an API this client needs.
        case unsupportedVersion
        /// The client or producer/consumer is closed.
        case closed
        /// A configuration value is invalid.
        case invalidConfiguration
        /// A topic or partition the caller named does not exist.
        case unknownTopicOrPartition
        /// A response could not be decoded or made no sense.
        case protocolError
        /// A record could not be read (bad batch, decompression limit).
        case corruptRecord
        /// The call is not allowed now (a transaction call out of order, such as a send with no
        /// transaction open).
        case illegalState
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func kafka(_ code: KafkaErrorCode, _ context: String) -> Self {
        Self(.kafka(code), "\(context): \(code)")
    }

    public var description: String { self.message }

    /// The Kafka error code, if the broker sent one.
    public var kafkaErrorCode: KafkaErrorCode? {
        if case .kafka(let code) = self.kind { return code }
        return nil
    }

    /// Whether retrying the same request later may succeed (network trouble, leadership or
    /// coordinator moves, timeouts).
    public var isRetriable: Bool {
        switch self.kind {
        case .kafka(let code): code.isRetriable
        case .unreachable, .timeout, .connectionClosed: true
        default: false
        }
    }
}
