import CTernFuzzDriver
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

// TERN_FUZZ_WRITE_SEEDS=DIR writes the segment target's seeds instead of fuzzing (tools/fuzz.sh).
if let directory = getenv("TERN_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) {
    writeSegmentSeeds(to: directory)
    exit(0)
}
let name = getenv("TERN_FUZZ_TARGET").map { String(cString: $0) } ?? ""
guard let target = targets[name] else {
    printError("TERN_FUZZ_TARGET must be one of: \(targets.keys.sorted().joined(separator: ", ")) (got '\(name)')")
    exit(2)
}
selectedTarget = target
exit(tern_fuzz_run_driver(CommandLine.argc, CommandLine.unsafeArgv, fuzzTestOneInput))
