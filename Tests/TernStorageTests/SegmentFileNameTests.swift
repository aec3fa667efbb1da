import TernStorage
import Testing

@Suite struct SegmentFileNameTests {
    @Test func namesAreTwentyDigitsAndRoundTrip() {
        let name = SegmentFileName(baseOffset: 12_345, kind: .log)
        #expect(name.fileName == "00000000000000012345.log")
        #expect(SegmentFileName(parsing: "00000000000000012345.log") == name)
        #expect(SegmentFileName(baseOffset: .max, kind: .timeIndex).fileName == "09223372036854775807.timeindex")
        #expect(SegmentFileName(parsing: "00000000000000000000.index")?.kind == .offsetIndex)
    }

    @Test(arguments: [
        "12345.log", "0000000000000001234x.log", "00000000000000012345.txt", "00000000000000012345", ".log",
        "00000000000000012345.log.deleted", "99999999999999999999.log",
    ])
    func rejectsOtherNames(name: String) {
        #expect(SegmentFileName(parsing: name) == nil)
    }

    @Test func lexicalOrderIsOffsetOrder() {
        let offsets: [Int64] = [0, 9, 10, 100, 1_000_000_000_000]
        let names = offsets.map { SegmentFileName(baseOffset: $0, kind: .log).fileName }
        #expect(names.sorted() == names)
    }
}
