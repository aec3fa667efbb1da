import ArgumentParser
import NIOCore
import TernCLICore

struct DumpLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-log",
        abstract: "Print the batches of a segment (.log) or the entries of an index (.index, .timeindex) file.",
        discussion: """
            Reads the files offline (the broker may be running or not) and checks them: batch framing, \
            CRC-32C, offsets increasing and not below the segment's base offset, index entries \
            increasing. Exits 1 if a problem was found, 2 if a file could not be read.
            """
    )

    @Argument(help: "Files to dump (.log, .index, .timeindex).")
    var files: [String]

    @Flag(name: [.customLong("records"), .customLong("deep-iteration")], help: "Print every record of every batch.")
    var records = false

    @Flag(
        name: [.customLong("print-data"), .customLong("print-data-log")],
        help: "With --records, print keys and values too."
    )
    var printData = false

    @Flag(help: "One JSON object per line instead of text.")
    var json = false

    func run() throws {
        var status: Int32 = 0
        let out = OutputStream.standardOutput
        for path in self.files {
            guard DumpLog.kind(of: path) != nil else {
                printError("tern dump-log: \(path): not a .log, .index or .timeindex file")
                status = 2
                continue
            }
            guard let bytes = readWholeFile(path) else {
                printError("tern dump-log: \(path): \(errnoDescription())")
                status = 2
                continue
            }
            let options = DumpLog.Options(
                records: self.records || self.printData,
                printData: self.printData,
                json: self.json
            )
            let result = DumpLog.dump(fileName: path, bytes: ByteBuffer(bytes: bytes), options: options)!
            out.write(result.output)
            if !result.sound, status == 0 { status = 1 }
        }
        out.flush()
        if status != 0 { throw ExitCode(status) }
    }
}
