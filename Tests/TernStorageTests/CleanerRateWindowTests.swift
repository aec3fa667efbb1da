import Testing

@testable import TernStorage

/// `log.cleaner.io.max.bytes.per.second`: the throttle's arithmetic, on a clock the test moves.
@Suite struct CleanerRateWindowTests {
    /// (seconds since the start, bytes charged, seconds to sleep) at 1,000 bytes/s, in order.
    @Test func chargesOverTheRateSleepUntilTheWindowIsBackUnderIt() {
        let steps: [(now: Double, bytes: Int, sleep: Double)] = [
            (0, 500, 0.5),  // half a second's worth at once
            (0.5, 500, 0.5),  // after that sleep: a second's worth in half a second
            (1.0, 100, 0.1),  // a second old but over the rate: the window goes on
            (1.1, 0, 0),  // back under the rate and over a second old: a fresh window
            (1.1, 1000, 1.0),  // so the next second's worth counts from here
            (2.1, 0, 0),
            // Idle for ten seconds: the first charge goes through and starts a fresh window…
            (12.1, 5000, 0),
            // …so the idle time is not a credit for the next one.
            (12.1, 5000, 5.0),
        ]
        var window = CleanerRateWindow(bytesPerSecond: 1000, startSeconds: 0)
        for (index, step) in steps.enumerated() {
            let sleep = window.charge(bytes: step.bytes, nowSeconds: step.now)
            #expect(abs(sleep - step.sleep) < 1e-9, "step \(index) at \(step.now) s: slept \(sleep), not \(step.sleep)")
        }
    }

    /// A pass charging small reads and writes as fast as it can (each costing 1 ms of work) and
    /// sleeping as told moves bytes at the cap, not above it.
    @Test(arguments: [1_000.0, 64_000.0, 1_000_000.0])
    func aPassThatSleepsAsToldKeepsToTheRate(bytesPerSecond: Double) {
        var window = CleanerRateWindow(bytesPerSecond: bytesPerSecond, startSeconds: 0)
        var now = 0.0
        var moved = 0
        let chargeBytes = max(1, Int(bytesPerSecond / 50))
        while moved < Int(bytesPerSecond * 30) {
            now += 0.001 + window.charge(bytes: chargeBytes, nowSeconds: now)
            moved += chargeBytes
        }
        let rate = Double(moved) / now
        #expect(rate <= bytesPerSecond * 1.01, "\(rate) bytes/s over a cap of \(bytesPerSecond)")
        #expect(rate >= bytesPerSecond * 0.9, "\(rate) bytes/s, far under a cap of \(bytesPerSecond)")
    }
}
