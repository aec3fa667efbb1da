#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process figures Prometheus' client libraries export under `process_*`, read from /proc
/// on Linux (zero elsewhere).
public struct ProcessStatistics: Sendable, Hashable {
    public var residentMemoryBytes: Int64 = 0
    public var virtualMemoryBytes: Int64 = 0
    public var openFileDescriptors: Int64 = 0
    public var maximumFileDescriptors: Int64 = 0
    public var cpuSeconds: Double = 0
    public var startTimeSeconds: Double = 0
    public var threads: Int64 = 0

    public init() {}

    public static func current() -> ProcessStatistics {
        var statistics = ProcessStatistics()
        #if os(Linux)
            let pageSize = Int64(sysconf(Int32(_SC_PAGESIZE)))
            let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
            // /proc/self/stat: fields after the parenthesised command name, which may hold spaces.
            if let stat = readSmallFile("/proc/self/stat"), let close = stat.lastIndex(of: ")") {
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                // fields[0] is field 3 (state): utime 14, stime 15, num_threads 20, starttime 22,
                // vsize 23, rss 24.
                func field(_ number: Int) -> Double { fields.count > number - 3 ? Double(fields[number - 3]) ?? 0 : 0 }
                statistics.cpuSeconds = (field(14) + field(15)) / ticks
                statistics.threads = Int64(field(20))
                statistics.virtualMemoryBytes = Int64(field(23))
                statistics.residentMemoryBytes = Int64(field(24)) * pageSize
                if let uptime = readSmallFile("/proc/uptime")?.split(separator: " ").first.flatMap({ Double($0) }) {
                    var now = timespec()
                    clock_gettime(CLOCK_REALTIME, &now)
                    let bootTime = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 - uptime
                    statistics.startTimeSeconds = bootTime + field(22) / ticks
                }
            }
            statistics.openFileDescriptors = countDirectoryEntries("/proc/self/fd")
            var limit = rlimit()
            if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
                statistics.maximumFileDescriptors = Int64(clamping: limit.rlim_cur)
            }
        #endif
        return statistics
    }

    private static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }

    private static func countDirectoryEntries(_ path: String) -> Int64 {
        guard let directory = opendir(path) else { return 0 }
        defer { closedir(directory) }
        var count: Int64 = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0))
            }
            if !isDot { count += 1 }
        }
        // The descriptor opendir itself holds.
        return max(0, count - 1)
    }
}
