public import NIOCore

/// An open file of the storage engine: positional reads and writes, size, truncate, fsync.
///
/// Thread-safety: every method may be called from any thread, concurrently with the others
/// (positional I/O has no shared cursor), except that nothing may be called after `close()`.
/// The log relies on this to fsync on its flusher while appends keep writing under its lock.
public protocol StorageFile: AnyObject, Sendable {
    /// The path the file was opened with.
    var path: String { get }

    /// The file's current size in bytes.
    func size() throws(StorageError) -> Int64

    /// Up to `count` bytes starting at `position`; fewer only when the file ends first.
    func read(at position: Int64, count: Int) throws(StorageError) -> ByteBuffer

    /// Writes all of `bytes` at `position`, retrying short writes. On error some prefix of the
    /// bytes may have reached the file.
    func write(_ bytes: ByteBuffer, at position: Int64) throws(StorageError)

    /// Writes all of `bytes` at the current end of the file.
    func append(_ bytes: ByteBuffer) throws(StorageError)

    /// Cuts (or extends with zeros) the file to `sizeBytes`.
    func truncate(toSize sizeBytes: Int64) throws(StorageError)

    /// Returns once the file's data and size are on stable storage (`fsync(2)`).
    func fsync() throws(StorageError)

    /// Releases the handle. Later calls throw `.closed`; closing twice is allowed.
    func close() throws(StorageError)
}

/// The directory operations the storage engine needs, and a way to open files. Paths are plain
/// strings joined with `/`.
///
/// Crash model (what `InMemoryFileSystem.simulateCrash()` reproduces): file contents are durable
/// only after `StorageFile.fsync()`; a created, renamed or removed directory entry is durable only
/// after `fsyncDirectory` on its parent directory.
public protocol FileSystem: Sendable {
    /// Opens a file for reading and writing; creates it (empty) when `create` is true and it is
    /// missing. Throws `.io` when it is missing and `create` is false.
    func openFile(atPath path: String, create: Bool) throws(StorageError) -> any StorageFile

    /// Whether a file or directory exists at `path`.
    func fileExists(atPath path: String) -> Bool

    /// Whether `path` is a directory.
    func isDirectory(atPath path: String) -> Bool

    /// The names (not paths) in a directory, without `.` and `..`, in no particular order.
    func listDirectory(atPath path: String) throws(StorageError) -> [String]

    /// Creates a directory and any missing parents; succeeds when it exists already.
    func makeDirectory(atPath path: String) throws(StorageError)

    /// Atomically replaces `destination` (if present) with `source` (`rename(2)`).
    func rename(atPath source: String, toPath destination: String) throws(StorageError)

    /// Removes a file or an empty directory.
    func remove(atPath path: String) throws(StorageError)

    /// Makes the directory's entries (creations, renames, removals) durable.
    func fsyncDirectory(atPath path: String) throws(StorageError)

    /// Opens the file at `path` (creating it if missing) and takes an exclusive lock on it without
    /// waiting (`flock(LOCK_EX | LOCK_NB)`, as Kafka locks its log directories). The lock is held
    /// for as long as the returned file is open: `close()` releases it, and so does the end of the
    /// process, a SIGKILL included, so a lock never outlives its holder. Returns nil when another
    /// open file holds the lock, in this process or another.
    func openFileLocked(atPath path: String) throws(StorageError) -> (any StorageFile)?

    /// `path` as an absolute path (relative paths are taken from the working directory), as
    /// Kafka names a log directory in DescribeLogDirs.
    func absolutePath(_ path: String) -> String

    /// The size and free space of the file system holding `path` (`statvfs`), or nil when it
    /// cannot tell.
    func volumeSpace(atPath path: String) -> VolumeSpace?
}

/// The size of a file system and the bytes an unprivileged process may still write to it.
public struct VolumeSpace: Hashable, Sendable {
    public var totalBytes: Int64
    public var usableBytes: Int64

    public init(totalBytes: Int64, usableBytes: Int64) {
        self.totalBytes = totalBytes
        self.usableBytes = usableBytes
    }
}

extension FileSystem {
    /// Replaces the file at `path` with `bytes` so that a crash leaves either the old or the new
    /// contents, never a mix: write `path.tmp`, fsync it, rename it over `path`, fsync the directory.
    public func writeFileAtomically(atPath path: String, bytes: ByteBuffer) throws(StorageError) {
        let temporaryPath = path + ".tmp"
        let file = try self.openFile(atPath: temporaryPath, create: true)
        do {
            try file.truncate(toSize: 0)
            try file.write(bytes, at: 0)
            try file.fsync()
            try file.close()
        } catch {
            try? file.close()
            try? self.remove(atPath: temporaryPath)
            throw error
        }
        try self.rename(atPath: temporaryPath, toPath: path)
        try self.fsyncDirectory(atPath: parentDirectory(of: path))
    }

    /// The whole file, or nil when it does not exist.
    public func readWholeFile(atPath path: String) throws(StorageError) -> ByteBuffer? {
        guard self.fileExists(atPath: path) else { return nil }
        let file = try self.openFile(atPath: path, create: false)
        defer { try? file.close() }
        let sizeBytes = try file.size()
        return try file.read(at: 0, count: Int(sizeBytes))
    }

    /// Removes a directory and everything below it.
    public func removeRecursively(atPath path: String) throws(StorageError) {
        guard self.fileExists(atPath: path) else { return }
        if self.isDirectory(atPath: path) {
            for name in try self.listDirectory(atPath: path) {
                try self.removeRecursively(atPath: path + "/" + name)
            }
        }
        try self.remove(atPath: path)
    }
}

/// `a/b/c` → `a/b`; a name without a slash is in `.`.
func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
}

/// The failed system call behind a `.io` or `.diskFull` `StorageError`, as its `cause`.
public struct SystemCallError: Error, Hashable, Sendable, CustomStringConvertible {
    public var systemCall: String
    public var errnoCode: Int32

    public init(systemCall: String, errnoCode: Int32) {
        self.systemCall = systemCall
        self.errnoCode = errnoCode
    }

    public var description: String { "\(self.systemCall) failed with errno \(self.errnoCode)" }
}
