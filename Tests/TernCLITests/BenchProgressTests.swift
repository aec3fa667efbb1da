import Testing

@testable import TernCLICore

@Suite struct BenchProgressTests {
    @Test func terminalLineHasBarPercentRateAndETA() {
        let p = BenchProgress(name: "produce", done: 250, total: 1000, bytes: 25_000, seconds: 2, p99Milliseconds: 1.5)
        #expect(p.fraction == 0.25)
        #expect(p.etaSeconds == 6)
        #expect(
            p.terminalLine
                == "produce  [██████░░░░░░░░░░░░░░░░░░]  25.0%  250/1000  125 rec/s  0.01 MB/s  p99 1.50 ms  ETA 6s"
        )
        #expect(p.plainLine == "produce: 250/1000 records (25.0%), 125 records/s, 0.01 MB/s, p99 1.50 ms, ETA 6s")
    }

    @Test func withoutTotalOrLatency() {
        let p = BenchProgress(name: "consume", done: 10, total: nil, bytes: 1_000_000, seconds: 0.5)
        #expect(p.fraction == nil && p.etaSeconds == nil)
        #expect(p.terminalLine == "consume  10 records  20 rec/s  2.00 MB/s")
        #expect(p.plainLine == "consume: 10 records, 20 records/s, 2.00 MB/s")
        // Nothing done yet: no rate, no ETA; more than the total: a full bar.
        #expect(BenchProgress(name: "e2e", done: 0, total: 5, bytes: 0, seconds: 0).etaSeconds == nil)
        #expect(BenchProgress(name: "e2e", done: 9, total: 5, bytes: 0, seconds: 1).fraction == 1)
    }

    @Test func barsAndDurations() {
        #expect(BenchProgress.bar(0, width: 4) == "[░░░░]")
        #expect(BenchProgress.bar(0.5, width: 4) == "[██░░]")
        #expect(BenchProgress.bar(1, width: 4) == "[████]")
        #expect(BenchProgress.duration(0.2) == "1s")
        #expect(BenchProgress.duration(59) == "59s")
        #expect(BenchProgress.duration(187) == "3m07s")
        #expect(BenchProgress.duration(7500) == "2h05m")
    }

    @Test func summaryTableAlignsValues() {
        let rows = [("records", "2000"), ("records_per_sec", "998.8"), ("p99_ms", "1.250")]
        let table = BenchProgress.table(title: "produce summary", rows: rows.map { (BenchProgress.label($0), $1) })
        #expect(
            table == """
                produce summary
                  records           2000
                  records/s         998.8
                  latency p99 (ms)  1.250

                """
        )
    }
}
