import Foundation
import Testing

@Suite struct LifecycleTests {
    /// A SIGTERM right after the listener comes up (or earlier, while the logs open) still ends in
    /// a clean shutdown: exit status 0 and the marker that spares the next start a recovery scan.
    @Test func sigtermRightAfterStartShutsDownCleanly() async throws {
        for _ in 0..<5 {
            let ternd = try await TerndProcess.start()
            try await ternd.stop()
            let marker = ternd.dataDirectory.appendingPathComponent(".tern_cleanshutdown").path
            #expect(FileManager.default.fileExists(atPath: marker), "no clean-shutdown marker; log:\n\(ternd.log)")
        }
    }
}
