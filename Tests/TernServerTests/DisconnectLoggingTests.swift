import Foundation
import NIOCore
import TernWire
import Testing

@testable import TernServer

/// Ordinary disconnects are logged at debug, so a busy broker's info log is not one line per client
/// exit; refused frames stay at info.
@Suite struct DisconnectLoggingTests {
    @Test(
        arguments: [
            (ChannelError.ioOnClosedChannel as any Error, true),
            (ChannelError.eof, true),
            (ChannelError.alreadyClosed, true),
            (IOError(errnoCode: ECONNRESET, reason: "read"), true),
            (IOError(errnoCode: EPIPE, reason: "write"), true),
            (IOError(errnoCode: EACCES, reason: "read"), false),
            (WireError(.frameTooLarge, "frame of 2 GiB"), false),
            (ChannelError.connectPending, false),
        ] as [(any Error, Bool)]
    )
    func classifiesDisconnects(error: any Error, ordinary: Bool) {
        #expect(KafkaServer.isOrdinaryDisconnect(error) == ordinary, "\(error)")
    }
}
