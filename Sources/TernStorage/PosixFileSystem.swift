import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The real file system through POSIX calls (`open`, `pread`, `pwrite`, `fsync`, `ftruncate`,
/// `rename`). Every call is retried on EINTR, writes loop over short writes, and ENOSPC/EDQUOT
/// surface as `.diskFull`, every other failure as `.io` with a `SystemCallError` cause.
public struct PosixFileSystem: FileSystem {
    public init() {}

    public func openFile(atPath path: String, create: Bool) throws(StorageError) -> any StorageFile {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let descriptor = try retryingEINTR("open", path) { open(path, flags, 0o644) }
        return PosixFile(path: path, descriptor: descriptor)
    }

    public func fileExists(atPath path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0
    }

    public func isDirectory(atPath path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    public func listDirectory(atPath path: String) throws(StorageError) -> [String] {
        guard let directory = opendir(path) else { throw posixError("opendir", path, errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func makeDirectory(atPath path: String) throws(StorageError) {
        if self.isDirectory(atPath: path) { return }
        let parent = parentDirectory(of: path)
        if parent != path && !self.fileExists(atPath: parent) { try self.makeDirectory(atPath: parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw posixError("mkdir", path, errno) }
    }

    public func rename(atPath source: String, toPath destination: String) throws(StorageError) {
        _ = try retryingEINTR("rename", source) { systemRename(source, destination) }
    }

    public func remove(atPath path: String) throws(StorageError) {
        if self.isDirectory(atPath: path) {
            _ = try retryingEINTR("rmdir", path) { rmdir(path) }
        } else {
            _ = try retryingEINTR("unlink", path) { unlink(path) }
        }
    }

    public func absolutePath(_ path: String) -> String {
        guard !path.hasPrefix("/") else { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let directory = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let relative = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        return directory == "/" ? "/" + relative : directory + "/" + relative
    }

    public func volumeSpace(atPath path: String) -> VolumeSpace? {
        var status = statvfs()
        guard statvfs(path, &status) == 0 else { return nil }
        // f_bavail, not f_bfree: blocks reserved for root are not usable by the broker.
        let blockSize = Int64(status.f_frsize)
        return VolumeSpace(
            totalBytes: Int64(status.f_blocks) * blockSize,
            usableBytes: Int64(status.f_bavail) * blockSize
        )
    }

    public func openFileLocked(atPath path: String) throws(StorageError) -> (any StorageFile)? {
        let descriptor = try retryingEINTR("open", path) { open(path, O_RDWR | O_CLOEXEC | O_CREAT, 0o644) }
        // flock, not fcntl: an fcntl lock belongs to the process and is dropped when any of its
        // descriptors for the file closes (reading the lock file would release it), and two opens
        // in one process never conflict. A flock belongs to this open file description only.
        while systemFlock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            _ = systemClose(descriptor)
            if code == EWOULDBLOCK { return nil }
            throw posixError("flock", path, code)
        }
        return PosixFile(path: path, descriptor: descriptor)
    }

    public func fsyncDirectory(atPath path: String) throws(StorageError) {
        let descriptor = try retryingEINTR("open", path) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { _ = systemClose(descriptor) }
        _ = try retryingEINTR("fsync", path) { systemFsync(descriptor) }
    }
}

/// A POSIX file descriptor. The descriptor is closed by `close()` or, failing that, when the
/// last reference goes away — so a segment dropped by retention while the flusher still fsyncs it
/// keeps a valid descriptor until the fsync returns.
final class PosixFile: StorageFile {
    let path: String
    private let descriptor: Int32
    private let isClosed = Atomic<Bool>(false)

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        if !self.isClosed.exchange(true, ordering: .acquiringAndReleasing) { _ = systemClose(self.descriptor) }
    }

    private func checkOpen() throws(StorageError) {
        if self.isClosed.load(ordering: .acquiring) { throw StorageError(.closed, "\(self.path) is closed") }
    }

    func size() throws(StorageError) -> Int64 {
        try self.checkOpen()
        var status = stat()
        _ = try retryingEINTR("fstat", self.path) { fstat(self.descriptor, &status) }
        return Int64(status.st_size)
    }

    func read(at position: Int64, count: Int) throws(StorageError) -> ByteBuffer {
        try self.checkOpen()
        precondition(position >= 0 && count >= 0, "reads are at non-negative positions")
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var failure: StorageError?
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
            var doneBytes = 0
            while doneBytes < count {
                let result = pread(
                    self.descriptor,
                    raw.baseAddress! + doneBytes,
                    count - doneBytes,
                    off_t(position) + off_t(doneBytes)
                )
                if result > 0 {
                    doneBytes += result
                } else if result == 0 {
                    break  // End of file.
                } else if errno != EINTR {
                    failure = posixError("pread", self.path, errno)
                    break
                }
            }
            return doneBytes
        }
        if let failure { throw failure }
        return buffer
    }

    func write(_ bytes: ByteBuffer, at position: Int64) throws(StorageError) {
        try self.checkOpen()
        precondition(position >= 0, "writes are at non-negative positions")
        var failure: StorageError?
        bytes.withUnsafeReadableBytes { raw in
            var doneBytes = 0
            while doneBytes < raw.count {
                let result = pwrite(
                    self.descriptor,
                    raw.baseAddress! + doneBytes,
                    raw.count - doneBytes,
                    off_t(position) + off_t(doneBytes)
                )
                if result >= 0 {
                    doneBytes += result
                } else if errno != EINTR {
                    failure = posixError("pwrite", self.path, errno)
                    return
                }
            }
        }
        if let failure { throw failure }
    }

    func append(_ bytes: ByteBuffer) throws(StorageError) {
        try self.write(bytes, at: try self.size())
    }

    func truncate(toSize sizeBytes: Int64) throws(StorageError) {
        try self.checkOpen()
        _ = try retryingEINTR("ftruncate", self.path) { ftruncate(self.descriptor, off_t(sizeBytes)) }
    }

    func fsync() throws(StorageError) {
        try self.checkOpen()
        _ = try retryingEINTR("fsync", self.path) { systemFsync(self.descriptor) }
    }

    func close() throws(StorageError) {
        guard !self.isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // POSIX leaves the descriptor's state unspecified after EINTR from close; Linux always
        // releases it, so close is never retried.
        if systemClose(self.descriptor) != 0 && errno != EINTR { throw posixError("close", self.path, errno) }
    }
}

/// Runs a system call until it stops failing with EINTR; throws the mapped error for any other
/// failure (a negative result).
private func retryingEINTR(_ name: String, _ path: String, _ call: () -> Int32) throws(StorageError) -> Int32 {
    while true {
        let result = call()
        if result >= 0 { return result }
        let code = errno
        if code != EINTR { throw posixError(name, path, code) }
    }
}

func posixError(_ name: String, _ path: String, _ code: Int32) -> StorageError {
    let cause = SystemCallError(systemCall: name, errnoCode: code)
    let text = "\(name)(\(path)): \(String(cString: strerror(code)))"
    return StorageError(code == ENOSPC || code == EDQUOT ? .diskFull : .io, text, cause: cause)
}

// Free functions so the calls resolve to the C library rather than to same-named methods.
private func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
private func systemFsync(_ descriptor: Int32) -> Int32 { fsync(descriptor) }
private func systemFlock(_ descriptor: Int32, _ operation: Int32) -> Int32 { flock(descriptor, operation) }
private func systemRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }
