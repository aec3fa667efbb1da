// Measures what a test pays for its own broker: from `TestBroker.start()` to the first produce
// acknowledged (acks=all, topic auto-created), then stops the broker; repeated, with the first
// (cold: NIO threads, lazy globals) run reported apart. Usage: tern-testkit-startup [runs]
import TernClient
import TernTestKit

let runs = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 50
guard runs >= 1 else { fatalError("runs must be at least 1") }
let clock = ContinuousClock()
var durations: [Duration] = []
for _ in 0..<runs {
    let started = clock.now
    let broker = try await TestBroker.start()
    try await broker.produce(topic: "startup", value: "first")
    durations.append(clock.now - started)
    try await broker.stop()
}

/// `12.34 ms`.
func milliseconds(_ duration: Duration) -> String {
    let hundredths = duration.components.seconds * 100_000 + duration.components.attoseconds / 10_000_000_000_000
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) ms"
}

print("TestBroker.start() to first produce acknowledged, \(runs) runs")
print("cold (first run): \(milliseconds(durations[0]))")
let warm = durations.dropFirst().sorted()
if !warm.isEmpty {
    let percentile = { (p: Double) in warm[min(warm.count - 1, Int(Double(warm.count - 1) * p))] }
    print(
        "warm: min \(milliseconds(warm[0])), median \(milliseconds(percentile(0.5))), "
            + "p90 \(milliseconds(percentile(0.9))), max \(milliseconds(warm[warm.count - 1]))"
    )
}
