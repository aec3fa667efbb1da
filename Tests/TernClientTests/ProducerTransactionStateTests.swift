import TernWire
import Testing

@testable import TernClient

/// The transactional producer's state: which calls each phase allows, and where failures lead.
@Suite struct ProducerTransactionStateTests {
    typealias Operation = ProducerTransactionState.Operation
    static let operations: [Operation] = [.initialize, .begin, .send, .sendOffsets, .commit, .abort]

    /// A state in each phase, reached through the transitions the producer makes.
    static func state(in phase: ProducerTransactionState.Phase) throws -> ProducerTransactionState {
        var state = ProducerTransactionState()
        if phase == .uninitialized { return state }
        state.initialized()
        switch phase {
        case .ready: break
        case .inTransaction: try state.begin()
        case .committing: try state.begin(); try state.beginEnding(commit: true)
        case .aborting: try state.begin(); try state.beginEnding(commit: false)
        case .abortable:
            try state.begin()
            state.failed(.kafka(.messageTooLarge, "produce"), sequenceGap: true)
        case .fatal:
            try state.begin()
            state.failed(.kafka(.producerFenced, "produce"), sequenceGap: false)
        case .uninitialized: break
        }
        #expect(state.phase == phase)
        return state
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var phase: ProducerTransactionState.Phase
        var allowed: [ProducerTransactionState.Operation]
        var testDescription: String { "\(self.phase)" }
    }

    static let cases: [Case] = [
        .init(phase: .uninitialized, allowed: [.initialize]),
        .init(phase: .ready, allowed: [.begin]),
        .init(phase: .inTransaction, allowed: [.send, .sendOffsets, .commit, .abort]),
        .init(phase: .committing, allowed: [.commit]),
        .init(phase: .aborting, allowed: [.abort]),
        .init(phase: .abortable, allowed: [.abort]),
        .init(phase: .fatal, allowed: []),
    ]

    @Test(arguments: cases)
    func eachPhaseAllowsExactlyItsCalls(_ test: Case) throws {
        let state = try Self.state(in: test.phase)
        for operation in Self.operations {
            let allowed = (try? state.check(operation)) != nil
            #expect(allowed == test.allowed.contains(operation), "\(operation) in \(test.phase)")
        }
    }

    @Test func aFailureOutsideATransactionChangesNoPhaseButAGapStillBumpsTheEpoch() throws {
        var state = try Self.state(in: .aborting)
        state.failed(.kafka(.messageTooLarge, "produce"), sequenceGap: true)
        #expect(state.phase == .aborting)
        #expect(state.needsEpochBump)
        state.ended()
        #expect(state.phase == .ready && state.needsEpochBump)
        state.epochBumped()
        #expect(!state.needsEpochBump)
    }

    @Test func fencingIsFatalAndKeepsItsError() throws {
        let state = try Self.state(in: .fatal)
        #expect(throws: TernClientError.kafka(.producerFenced, "produce")) { try state.check(.abort) }
    }

    @Test func addedPartitionsAreNotAddedAgainAndEndingForgetsThem() throws {
        var state = try Self.state(in: .inTransaction)
        let a = TopicPartition(topic: "t", partition: 0)
        let b = TopicPartition(topic: "t", partition: 1)
        #expect(state.missing([a, b]) == [a, b])
        state.added([a])
        #expect(state.missing([a, b]) == [b])
        #expect(state.coordinatorKnows)
        state.ended()
        #expect(state.missing([a]) == [a])
        #expect(!state.coordinatorKnows)
    }
}
