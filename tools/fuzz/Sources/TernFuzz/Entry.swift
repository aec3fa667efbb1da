import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The fuzz targets, by the name `tools/fuzz.sh` and `TERN_FUZZ_TARGET` use.
let targets: [String: @Sendable (ByteBuffer) -> Void] = [
    "frame": fuzzFrame,
    "request": fuzzRequest,
    "batch": fuzzBatch,
    "legacy": fuzzLegacy,
    "decompress": fuzzDecompress,
    "offsets": fuzzOffsets,
    "segment": fuzzSegment,
]

/// Set by main before the driver starts; read for every input.
nonisolated(unsafe) var selectedTarget: (@Sendable (ByteBuffer) -> Void)?

/// libFuzzer's callback, one input at a time.
func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { UnsafeBufferPointer(start: $0, count: size) } ?? UnsafeBufferPointer(start: nil, count: 0)
    selectedTarget!(ByteBuffer(bytes: bytes))
    return 0
}

/// A failed property of the code under test (not a thrown decode error, which is the expected
/// answer to bad bytes): libFuzzer reports the abort with its input.
func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        printError("fuzz property failed: \(message())")
        abort()
    }
}

/// Splits fuzz input into a control byte and the rest.
extension ByteBuffer {
    mutating func readControlByte() -> UInt8 {
        self.readInteger(as: UInt8.self) ?? 0
    }
}

/// The segment target's seeds: every file of the template data directory, as is and with the clean
/// shutdown marker removed, each behind the control byte that selects it.
func writeSegmentSeeds(to directory: String) {
    let files = DataDirectoryTemplate.shared.files
    // The control byte's low 7 bits select the file.
    check(files.count <= 128, "\(files.count) template files: more than the control byte can select")
    for (index, file) in files.enumerated() {
        for flag: UInt8 in [0, 0x80] {
            let path =
                "\(directory)/\(flag == 0 ? "" : "recover-")\(file.path.split(separator: "/").joined(separator: "_"))"
            guard let handle = fopen(path, "wb") else {
                printError("cannot write \(path)")
                exit(1)
            }
            let bytes = [UInt8(index) | flag] + file.bytes
            check(fwrite(bytes, 1, bytes.count, handle) == bytes.count, "short write to \(path)")
            fclose(handle)
        }
    }
    print("\(files.count * 2) segment seeds in \(directory)")
}

/// Writes a line to standard error (file descriptor 2: the C `stderr` global is not concurrency-safe).
func printError(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
