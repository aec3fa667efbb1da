import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// Buffered writes to a file descriptor with `write(2)`: no stdio, so the bytes are exactly
/// what the formats produced, and `-u` (unbuffered) flushes after every message.
final class OutputStream: @unchecked Sendable {
    // Written by one task at a time (the consumer loop or the producer's tee); the lock is for
    // the interrupt handler's final flush.
    private let lock = NIOLock()
    private var buffer: [UInt8] = []
    private let fd: Int32
    var unbuffered = false
    private(set) var failed = false

    init(fd: Int32) {
        self.fd = fd
        self.buffer.reserveCapacity(64 * 1024)
    }

    func write(_ bytes: [UInt8]) {
        self.lock.withLock {
            self.buffer += bytes
            if self.unbuffered || self.buffer.count >= 64 * 1024 { self.flushLocked() }
        }
    }

    func write(_ text: String) { self.write(Array(text.utf8)) }

    func flush() { self.lock.withLock { self.flushLocked() } }

    private func flushLocked() {
        var offset = 0
        while offset < self.buffer.count {
            let n = self.buffer.withUnsafeBytes { raw in
                Glibc.write(self.fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                // EPIPE (reader went away, e.g. `| head`): stop quietly like kcat on SIGPIPE.
                self.failed = true
                break
            }
            offset += n
        }
        self.buffer.removeAll(keepingCapacity: true)
    }

    static let standardOutput = OutputStream(fd: 1)
}

/// One line on stderr.
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress!, $0.count) }
}

/// Text on stderr without a newline (progress lines).
func writeStderr(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress!, $0.count) }
}

func stdinIsTerminal() -> Bool { isatty(0) == 1 }
func stdoutIsTerminal() -> Bool { isatty(1) == 1 }
func stderrIsTerminal() -> Bool { isatty(2) == 1 }

/// Reads a whole file; nil if it cannot be opened or read.
func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if n == 0 { return result }
        result += chunk[0..<n]
    }
}

func errnoDescription() -> String { String(cString: strerror(errno)) }

/// Ctrl-C and SIGTERM: run `handler` (flush what is buffered, let a producer deliver what it has),
/// then exit 0 as kcat does. A second signal exits at once.
enum Interrupts {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let fired = NIOLockedValueBox(false)

    static func install(_ handler: @escaping @Sendable () async -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                let again = Self.fired.withLockedValue { fired -> Bool in
                    defer { fired = true }
                    return fired
                }
                if again {
                    OutputStream.standardOutput.flush()
                    _exit(1)
                }
                Task {
                    await handler()
                    OutputStream.standardOutput.flush()
                    _exit(0)
                }
            }
            source.resume()
            Self.sources.append(source)
        }
    }
}
