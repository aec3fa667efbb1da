import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The exclusive lock a `LogManager` holds on its data directory, so two brokers never open the
/// same logs (each would truncate and overwrite what the other appends).
///
/// File: `<data>/.lock`, the name Kafka uses. It is locked with `FileSystem.openFileLocked`
/// (`flock(LOCK_EX | LOCK_NB)`) before anything in the directory is read, and its contents are
/// then replaced by the holder's process id in decimal and a newline (`4242\n`), which is only
/// there to name the holder in the error a second process gets. The file itself is never
/// removed: the lock, not the file's existence, is what counts, and the kernel drops it when the
/// holder closes it or dies (SIGKILL included), so there is no stale lock to clean up.
///
/// Thread-safety: `release()` may be called from any thread, more than once.
struct DataDirectoryLock: Sendable {
    static let fileName = ".lock"

    private let file: any StorageFile

    private init(file: any StorageFile) {
        self.file = file
    }

    /// Takes the lock, or throws `.dataDirectoryLocked` naming the directory and, when the lock
    /// file says, the holder's process id.
    static func acquire(
        dataDirectory: String,
        fileSystem: any FileSystem,
        processId: Int32 = getpid()
    ) throws(StorageError) -> DataDirectoryLock {
        let path = dataDirectory + "/" + Self.fileName
        guard let file = try fileSystem.openFileLocked(atPath: path) else {
            let holder = Self.holderProcessId(fileSystem: fileSystem, path: path)
            throw StorageError(
                .dataDirectoryLocked,
                "data directory \(dataDirectory) is in use by another process"
                    + (holder.map { " (pid \($0))" } ?? "")
                    + ": \(path) is locked; stop that process or choose another data directory"
            )
        }
        do {
            try file.truncate(toSize: 0)
            try file.write(ByteBuffer(string: "\(processId)\n"), at: 0)
        } catch {
            try? file.close()
            throw error
        }
        return DataDirectoryLock(file: file)
    }

    /// The process id the holder wrote, if the file has one yet (a holder that has only just
    /// taken the lock may not have written it).
    static func holderProcessId(fileSystem: any FileSystem, path: String) -> Int32? {
        guard let bytes = try? fileSystem.readWholeFile(atPath: path) else { return nil }
        let text = String(buffer: bytes)
        return Int32(text.split(whereSeparator: \.isWhitespace).first ?? "")
    }

    func release() {
        try? self.file.close()
    }
}
