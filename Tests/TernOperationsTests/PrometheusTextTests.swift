import Testing

@testable import TernOperations

@Suite struct PrometheusTextTests {
    @Test func placeholder() {
        #expect(PrometheusTextWriter.format(3) == "3")
    }
}
