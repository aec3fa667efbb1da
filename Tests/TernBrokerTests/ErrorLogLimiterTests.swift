import TernWire
import Testing

@testable import TernBroker

/// The error log's rate limit: first occurrence, then one line per interval per (client, API,
/// error) carrying how many were left out.
@Suite struct ErrorLogLimiterTests {
    let second: UInt64 = 1_000_000_000
    let missingTopic = ErrorLogKey(clientId: "billing", apiKey: .produce, errorCode: .unknownTopicOrPartition)

    @Test func firstThenOnePerIntervalWithTheSuppressedCount() {
        var limiter = ErrorLogLimiter(intervalNs: 10 * second)
        #expect(limiter.admit(missingTopic, nowNs: 0) == 0)
        for t in 1...5 { #expect(limiter.admit(missingTopic, nowNs: UInt64(t) * second) == nil) }
        #expect(limiter.admit(missingTopic, nowNs: 10 * second - 1) == nil)
        #expect(limiter.admit(missingTopic, nowNs: 10 * second) == 6)
        // The count starts again after each line.
        #expect(limiter.admit(missingTopic, nowNs: 11 * second) == nil)
        #expect(limiter.admit(missingTopic, nowNs: 25 * second) == 1)
    }

    @Test func clientsApisAndCodesAreLimitedApart() {
        var limiter = ErrorLogLimiter(intervalNs: 10 * second)
        #expect(limiter.admit(missingTopic, nowNs: 0) != nil)
        var otherClient = missingTopic
        otherClient.clientId = "mailer"
        var otherApi = missingTopic
        otherApi.apiKey = .fetch
        var otherCode = missingTopic
        otherCode.errorCode = .messageTooLarge
        for key in [otherClient, otherApi, otherCode] { #expect(limiter.admit(key, nowNs: 1) != nil) }
        #expect(limiter.admit(missingTopic, nowNs: 2) == nil)
    }

    /// Full of keys: quiet ones are forgotten; if none is quiet, lines are logged untracked
    /// rather than the table growing.
    @Test func staysBounded() {
        var limiter = ErrorLogLimiter(intervalNs: 10 * second, capacity: 2)
        let keys = (0..<3).map { ErrorLogKey(clientId: "c\($0)", apiKey: .fetch, errorCode: .offsetOutOfRange) }
        #expect(limiter.admit(keys[0], nowNs: 0) != nil)
        #expect(limiter.admit(keys[1], nowNs: 1) != nil)
        #expect(limiter.admit(keys[2], nowNs: 2) != nil)  // untracked: both others are active
        #expect(limiter.admit(keys[2], nowNs: 3) != nil)  // so not limited yet
        #expect(limiter.admit(keys[0], nowNs: 4) == nil)
        // keys[0] and [1] quiet for an interval: forgotten, so keys[2] is tracked from now on.
        #expect(limiter.admit(keys[2], nowNs: 20 * second) != nil)
        #expect(limiter.admit(keys[2], nowNs: 20 * second + 1) == nil)
    }
}
