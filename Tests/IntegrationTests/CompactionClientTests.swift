import Foundation
import Testing

/// Log compaction on a real `ternd` with kafka-python (python/compaction.py): overwrites and
/// tombstones from an idempotent producer on a compacted topic with small segments, read back
/// from the beginning after the cleaner ran; keyless records refused; the cleaner's metrics.
@Suite struct CompactionClientTests {
    @Test func kafkaPythonReadsTheLatestValuePerKeyAfterCleaning() async throws {
        try await withTernd(environment: ["TERN_LOG_CLEANER_BACKOFF_MS": "200"]) { ternd in
            let result = try await runPython("compaction.py", [ternd.bootstrap], timeout: .seconds(150))
            let line = result.output.split(separator: "\n").last.map(String.init) ?? ""
            let summary = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            #expect(summary["ok"] as? Bool == true, "\(result.output)\n\(result.stderr)\n\(ternd.log.suffix(4000))")
            #expect(summary["keyless_refused"] as? Bool == true)
            // 20 keys + 2 roll markers survive of the 20 × 7 + 5 + 2 records written.
            #expect(summary["records_at_end"] as? Int == 22)
            #expect(summary["end_offset"] as? Int == 147)

            let metrics = try await httpGet(port: ternd.httpPort, path: "/metrics").body
            for name in ["tern_log_cleaner_runs_total", "tern_log_cleaner_bytes_cleaned_total"] {
                let sample = metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }
                let value = sample.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
                #expect(value > 0, "\(name) in:\n\(metrics)")
            }
            #expect(
                metrics.contains("tern_partition_cleaner_dirty_ratio{topic=\"__consumer_offsets\",partition=\"0\"}")
            )
        }
    }
}
