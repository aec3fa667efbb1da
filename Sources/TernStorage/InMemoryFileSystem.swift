import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file system in memory for tests, with a crash model and fault injection.
///
/// Crash model: each file keeps the bytes it had at its last `fsync`, and each directory keeps the
/// entries it had at its last `fsyncDirectory`. `simulateCrash()` rolls everything back to that
/// durable state and invalidates every open handle, which is what a power cut does to a POSIX file
/// system that honours fsync.
///
/// Faults: `injectWriteFault(_:afterWrites:)` makes a chosen later write fail (ENOSPC, EIO, or a
/// torn write that lands a prefix first); `injectFsyncFault` fails the next fsync and
/// `injectReadFault` the next read; `setReadOnly(true)` is a read-only remount (as ext4's
/// `errors=remount-ro` does after an error): every change fails with EROFS, and so does an fsync
/// of a file with unsynced bytes. Counters
/// (`fileFsyncCount`, `writeCount`) let tests measure group commit.
///
/// Locks (`openFileLocked`) behave as `flock`: one holder per file, released by closing the handle
/// or by `simulateCrash()` (the process that held it is gone).
///
/// Thread-safety: all state sits behind one mutex; every method may be called from any thread.
public final class InMemoryFileSystem: FileSystem {
    /// What a faulty write does.
    public enum WriteFault: Sendable, Hashable {
        /// Nothing is written; the write fails with this errno (e.g. `ENOSPC`, `EIO`).
        case fail(errno: Int32)
        /// The first `keepingBytes` bytes are written, then the write fails with `errno`.
        case torn(keepingBytes: Int, errno: Int32)
    }

    fileprivate enum Entry: Hashable {
        case file(inode: Int)
        case directory
    }

    fileprivate struct Inode {
        var bytes: [UInt8] = []
        var durableBytes: [UInt8] = []
    }

    fileprivate struct State {
        var entries: [String: Entry] = ["/": .directory]
        var durableEntries: [String: Entry] = ["/": .directory]
        var inodes: [Int: Inode] = [:]
        var nextInode = 0
        /// Bumped by a crash; handles from an older generation are dead.
        var generation = 0
        var pendingWriteFaults: [(remainingWrites: Int, fault: WriteFault)] = []
        var pendingFsyncFaultErrno: Int32?
        var pendingReadFaultErrno: Int32?
        /// Remounted read-only: every change fails with EROFS.
        var isReadOnly = false
        var fsyncsHeld = false
        var fileFsyncCount = 0
        var directoryFsyncCount = 0
        var writeCount = 0
        var readByteCount = 0
        /// Inode → the open handle holding its lock.
        var lockHolders: [Int: ObjectIdentifier] = [:]
    }

    fileprivate let state = Mutex(State())

    public init() {}

    // MARK: Test controls

    /// While held, file fsyncs block (on the thread that calls them) until `releaseFsyncs()`, so a
    /// test can pile appends up behind one fsync deterministically, as a slow disk would.
    public func holdFsyncs() {
        self.state.withLock { $0.fsyncsHeld = true }
    }

    public func releaseFsyncs() {
        self.state.withLock { $0.fsyncsHeld = false }
    }

    /// Number of successful `StorageFile.fsync()` calls so far.
    public var fileFsyncCount: Int { self.state.withLock { $0.fileFsyncCount } }
    /// Number of successful `fsyncDirectory` calls so far.
    public var directoryFsyncCount: Int { self.state.withLock { $0.directoryFsyncCount } }
    /// Number of `write`/`append` calls so far (failed ones included).
    public var writeCount: Int { self.state.withLock { $0.writeCount } }
    /// Bytes returned by file reads so far (to check that a clean open scans nothing).
    public var readByteCount: Int { self.state.withLock { $0.readByteCount } }

    /// Makes the write `afterWrites` writes from now fail as `fault` (0 = the next write).
    public func injectWriteFault(_ fault: WriteFault, afterWrites: Int = 0) {
        precondition(afterWrites >= 0)
        self.state.withLock { $0.pendingWriteFaults.append((afterWrites, fault)) }
    }

    /// Makes the next file fsync fail with `errno`.
    public func injectFsyncFault(errno code: Int32) {
        self.state.withLock { $0.pendingFsyncFaultErrno = code }
    }

    /// Makes the next file read fail with `errno`.
    public func injectReadFault(errno code: Int32) {
        self.state.withLock { $0.pendingReadFaultErrno = code }
    }

    /// Remounts read-only (or read-write again).
    public func setReadOnly(_ readOnly: Bool) {
        self.state.withLock { $0.isReadOnly = readOnly }
    }

    /// Rolls every file and directory back to its last fsync and kills all open handles.
    public func simulateCrash() {
        self.state.withLock { state in
            state.entries = state.durableEntries
            for inode in state.inodes.keys { state.inodes[inode]!.bytes = state.inodes[inode]!.durableBytes }
            state.generation += 1
            state.lockHolders.removeAll()
            state.pendingWriteFaults.removeAll()
            state.pendingFsyncFaultErrno = nil
            state.pendingReadFaultErrno = nil
        }
    }

    /// A file's current bytes, or nil when there is no file at `path`.
    public func contents(ofPath path: String) -> [UInt8]? {
        self.state.withLock { state in
            guard case .file(let inode) = state.entries[normalize(path)] else { return nil }
            return state.inodes[inode]!.bytes
        }
    }

    /// Overwrites a file's bytes, durably (as if written and fsynced), to corrupt it on purpose.
    public func setContents(ofPath path: String, to bytes: [UInt8]) {
        self.state.withLock { state in
            guard case .file(let inode) = state.entries[normalize(path)] else {
                preconditionFailure("no file at \(path)")
            }
            state.inodes[inode]!.bytes = bytes
            state.inodes[inode]!.durableBytes = bytes
        }
    }

    // MARK: FileSystem

    public func openFile(atPath path: String, create: Bool) throws(StorageError) -> any StorageFile {
        try self.openFile(atPath: path, create: create, process: nil)
    }

    fileprivate func openFile(atPath path: String, create: Bool, process: Int?) throws(StorageError) -> InMemoryFile {
        let path = normalize(path)
        return try self.state.withLock { state throws(StorageError) -> InMemoryFile in
            try Self.checkAlive(process, state, "open", path)
            switch state.entries[path] {
            case .file(let inode):
                return InMemoryFile(fileSystem: self, path: path, inode: inode, generation: state.generation)
            case .directory:
                throw posixError("open", path, EISDIR)
            case nil:
                guard create else { throw posixError("open", path, ENOENT) }
                if state.isReadOnly { throw posixError("open", path, EROFS) }
                guard state.entries[parentDirectory(of: path)] == .directory else {
                    throw posixError("open", path, ENOENT)
                }
                let inode = state.nextInode
                state.nextInode += 1
                state.inodes[inode] = Inode()
                state.entries[path] = .file(inode: inode)
                return InMemoryFile(fileSystem: self, path: path, inode: inode, generation: state.generation)
            }
        }
    }

    /// In-memory paths have no working directory: they are used as given.
    public func absolutePath(_ path: String) -> String { path }

    /// Memory is not a volume with a size.
    public func volumeSpace(atPath path: String) -> VolumeSpace? { nil }

    public func openFileLocked(atPath path: String) throws(StorageError) -> (any StorageFile)? {
        let path = normalize(path)
        let file = try self.openFile(atPath: path, create: true) as! InMemoryFile
        let locked = self.state.withLock { state in
            guard file.generation == state.generation, state.lockHolders[file.inode] == nil else { return false }
            state.lockHolders[file.inode] = ObjectIdentifier(file)
            return true
        }
        guard locked else {
            try? file.close()
            return nil
        }
        return file
    }

    public func fileExists(atPath path: String) -> Bool {
        self.state.withLock { $0.entries[normalize(path)] != nil }
    }

    public func isDirectory(atPath path: String) -> Bool {
        self.state.withLock { $0.entries[normalize(path)] == .directory }
    }

    public func listDirectory(atPath path: String) throws(StorageError) -> [String] {
        let path = normalize(path)
        return try self.state.withLock { state throws(StorageError) in
            guard state.entries[path] == .directory else { throw posixError("opendir", path, ENOENT) }
            return state.entries.keys.filter { $0 != path && parentDirectory(of: $0) == path }.map { name in
                String(name[name.index(after: name.lastIndex(of: "/")!)...])
            }
        }
    }

    public func makeDirectory(atPath path: String) throws(StorageError) {
        try self.makeDirectory(atPath: path, process: nil)
    }

    fileprivate func makeDirectory(atPath path: String, process: Int?) throws(StorageError) {
        let path = normalize(path)
        try self.state.withLock { state throws(StorageError) in
            try Self.checkAlive(process, state, "mkdir", path)
            var missing: [String] = []
            var current = path
            while state.entries[current] == nil {
                missing.append(current)
                current = parentDirectory(of: current)
            }
            if state.isReadOnly && !missing.isEmpty { throw posixError("mkdir", path, EROFS) }
            guard state.entries[current] == .directory else { throw posixError("mkdir", current, ENOTDIR) }
            for directory in missing { state.entries[directory] = .directory }
        }
    }

    public func rename(atPath source: String, toPath destination: String) throws(StorageError) {
        try self.rename(atPath: source, toPath: destination, process: nil)
    }

    fileprivate func rename(atPath source: String, toPath destination: String, process: Int?) throws(StorageError) {
        let (source, destination) = (normalize(source), normalize(destination))
        try self.state.withLock { state throws(StorageError) in
            try Self.checkAlive(process, state, "rename", source)
            guard case .file(let inode) = state.entries[source] else { throw posixError("rename", source, ENOENT) }
            if state.isReadOnly { throw posixError("rename", source, EROFS) }
            guard state.entries[parentDirectory(of: destination)] == .directory else {
                throw posixError("rename", destination, ENOENT)
            }
            state.entries[source] = nil
            state.entries[destination] = .file(inode: inode)
        }
    }

    public func remove(atPath path: String) throws(StorageError) {
        try self.remove(atPath: path, process: nil)
    }

    fileprivate func remove(atPath path: String, process: Int?) throws(StorageError) {
        let path = normalize(path)
        try self.state.withLock { state throws(StorageError) in
            try Self.checkAlive(process, state, "unlink", path)
            switch state.entries[path] {
            case nil: throw posixError("unlink", path, ENOENT)
            case .directory:
                if state.entries.keys.contains(where: { $0 != path && parentDirectory(of: $0) == path }) {
                    throw posixError("rmdir", path, ENOTEMPTY)
                }
            case .file: break
            }
            if state.isReadOnly { throw posixError("unlink", path, EROFS) }
            state.entries[path] = nil
        }
    }

    public func fsyncDirectory(atPath path: String) throws(StorageError) {
        try self.fsyncDirectory(atPath: path, process: nil)
    }

    fileprivate func fsyncDirectory(atPath path: String, process: Int?) throws(StorageError) {
        let path = normalize(path)
        try self.state.withLock { state throws(StorageError) in
            try Self.checkAlive(process, state, "fsync", path)
            guard state.entries[path] == .directory else { throw posixError("open", path, ENOENT) }
            for (name, _) in state.durableEntries where name != path && parentDirectory(of: name) == path {
                state.durableEntries[name] = nil
            }
            for (name, entry) in state.entries where name != path && parentDirectory(of: name) == path {
                state.durableEntries[name] = entry
            }
            state.directoryFsyncCount += 1
        }
    }

    /// A view of this file system for one simulated process: once `simulateCrash()` has run,
    /// everything it does fails, as a crashed process does nothing more (while the threads of a
    /// test's old LogManager may still be running). Tests open each "process" on a new view.
    public func process() -> any FileSystem {
        InMemoryProcessView(fileSystem: self, generation: self.state.withLock { $0.generation })
    }

    fileprivate var currentGeneration: Int { self.state.withLock { $0.generation } }

    private static func checkAlive(_ process: Int?, _ state: State, _ operation: String, _ path: String)
        throws(StorageError)
    {
        if let process, process != state.generation { throw posixError(operation, path, EIO) }
    }

    // MARK: File operations (called by InMemoryFile)

    fileprivate func withInode<Result>(
        _ file: InMemoryFile,
        _ body: (inout State, inout Inode) throws(StorageError) -> Result
    ) throws(StorageError) -> Result {
        try self.state.withLock { state throws(StorageError) -> Result in
            guard file.generation == state.generation else {
                throw StorageError(.closed, "\(file.path): handle from before a simulated crash")
            }
            var inode = state.inodes[file.inode]!
            defer { state.inodes[file.inode] = inode }
            return try body(&state, &inode)
        }
    }
}

/// A handle on an `InMemoryFileSystem` inode. Like a POSIX descriptor it keeps working after its
/// path is unlinked or renamed.
final class InMemoryFile: StorageFile {
    let path: String
    fileprivate let inode: Int
    fileprivate let generation: Int
    private let fileSystem: InMemoryFileSystem
    private let isClosed = Atomic<Bool>(false)

    fileprivate init(fileSystem: InMemoryFileSystem, path: String, inode: Int, generation: Int) {
        self.fileSystem = fileSystem
        self.path = path
        self.inode = inode
        self.generation = generation
    }

    private func checkOpen() throws(StorageError) {
        // Like redpanda's file sanitizer: an operation after close is a bug worth failing loudly on.
        if self.isClosed.load(ordering: .acquiring) { throw StorageError(.closed, "\(self.path) is closed") }
    }

    func size() throws(StorageError) -> Int64 {
        try self.checkOpen()
        return try self.fileSystem.withInode(self) { _, inode throws(StorageError) in Int64(inode.bytes.count) }
    }

    func read(at position: Int64, count: Int) throws(StorageError) -> ByteBuffer {
        try self.checkOpen()
        precondition(position >= 0 && count >= 0, "reads are at non-negative positions")
        return try self.fileSystem.withInode(self) { state, inode throws(StorageError) in
            if let code = state.pendingReadFaultErrno {
                state.pendingReadFaultErrno = nil
                throw posixError("pread", self.path, code)
            }
            let start = min(Int(position), inode.bytes.count)
            let end = min(start + count, inode.bytes.count)
            state.readByteCount += end - start
            return ByteBuffer(bytes: inode.bytes[start..<end])
        }
    }

    func write(_ bytes: ByteBuffer, at position: Int64) throws(StorageError) {
        try self.checkOpen()
        precondition(position >= 0, "writes are at non-negative positions")
        try self.fileSystem.withInode(self) { state, inode throws(StorageError) in
            state.writeCount += 1
            if state.isReadOnly { throw posixError("pwrite", self.path, EROFS) }
            var payload = Array(bytes.readableBytesView)
            var failure: StorageError?
            for index in state.pendingWriteFaults.indices.reversed() {
                if state.pendingWriteFaults[index].remainingWrites == 0 {
                    switch state.pendingWriteFaults[index].fault {
                    case .fail(let code):
                        payload = []
                        failure = posixError("pwrite", self.path, code)
                    case .torn(let keepingBytes, let code):
                        payload = Array(payload.prefix(keepingBytes))
                        failure = posixError("pwrite", self.path, code)
                    }
                    state.pendingWriteFaults.remove(at: index)
                } else {
                    state.pendingWriteFaults[index].remainingWrites -= 1
                }
            }
            let start = Int(position)
            if !payload.isEmpty {
                if inode.bytes.count < start + payload.count {
                    inode.bytes.append(contentsOf: repeatElement(0, count: start + payload.count - inode.bytes.count))
                }
                inode.bytes.replaceSubrange(start..<start + payload.count, with: payload)
            }
            if let failure { throw failure }
        }
    }

    func append(_ bytes: ByteBuffer) throws(StorageError) {
        try self.write(bytes, at: try self.size())
    }

    func truncate(toSize sizeBytes: Int64) throws(StorageError) {
        try self.checkOpen()
        try self.fileSystem.withInode(self) { state, inode throws(StorageError) in
            if state.isReadOnly { throw posixError("ftruncate", self.path, EROFS) }
            let newCount = Int(sizeBytes)
            if newCount < inode.bytes.count {
                inode.bytes.removeSubrange(newCount...)
            } else {
                inode.bytes.append(contentsOf: repeatElement(0, count: newCount - inode.bytes.count))
            }
        }
    }

    func fsync() throws(StorageError) {
        try self.checkOpen()
        while self.fileSystem.state.withLock({ $0.fsyncsHeld }) {
            usleep(1000)
        }
        try self.fileSystem.withInode(self) { state, inode throws(StorageError) in
            if let code = state.pendingFsyncFaultErrno {
                state.pendingFsyncFaultErrno = nil
                throw posixError("fsync", self.path, code)
            }
            if state.isReadOnly && inode.durableBytes != inode.bytes { throw posixError("fsync", self.path, EROFS) }
            inode.durableBytes = inode.bytes
            state.fileFsyncCount += 1
        }
    }

    func close() throws(StorageError) {
        guard !self.isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.releaseLock()
    }

    deinit {
        // As a POSIX descriptor closed when its last reference goes: the lock goes with it.
        if !self.isClosed.load(ordering: .acquiring) { self.releaseLock() }
    }

    private func releaseLock() {
        let identity = ObjectIdentifier(self)
        self.fileSystem.state.withLock { state in
            if state.lockHolders[self.inode] == identity { state.lockHolders[self.inode] = nil }
        }
    }
}

/// `a//b/` → `/a/b`-style canonical form: relative paths are taken from `/`.
private func normalize(_ path: String) -> String {
    let parts = path.split(separator: "/").filter { $0 != "." }
    return "/" + parts.joined(separator: "/")
}

/// `InMemoryFileSystem.process()`: the file system as one process sees it until a crash.
private struct InMemoryProcessView: FileSystem {
    let fileSystem: InMemoryFileSystem
    let generation: Int

    private var isAlive: Bool { self.fileSystem.currentGeneration == self.generation }

    func openFile(atPath path: String, create: Bool) throws(StorageError) -> any StorageFile {
        try self.fileSystem.openFile(atPath: path, create: create, process: self.generation)
    }

    func fileExists(atPath path: String) -> Bool { self.isAlive && self.fileSystem.fileExists(atPath: path) }

    func isDirectory(atPath path: String) -> Bool { self.isAlive && self.fileSystem.isDirectory(atPath: path) }

    func listDirectory(atPath path: String) throws(StorageError) -> [String] {
        guard self.isAlive else { throw posixError("opendir", path, EIO) }
        return try self.fileSystem.listDirectory(atPath: path)
    }

    func makeDirectory(atPath path: String) throws(StorageError) {
        try self.fileSystem.makeDirectory(atPath: path, process: self.generation)
    }

    func rename(atPath source: String, toPath destination: String) throws(StorageError) {
        try self.fileSystem.rename(atPath: source, toPath: destination, process: self.generation)
    }

    func remove(atPath path: String) throws(StorageError) {
        try self.fileSystem.remove(atPath: path, process: self.generation)
    }

    func fsyncDirectory(atPath path: String) throws(StorageError) {
        try self.fileSystem.fsyncDirectory(atPath: path, process: self.generation)
    }

    func openFileLocked(atPath path: String) throws(StorageError) -> (any StorageFile)? {
        guard self.isAlive else { throw posixError("open", path, EIO) }
        return try self.fileSystem.openFileLocked(atPath: path)
    }

    func absolutePath(_ path: String) -> String { self.fileSystem.absolutePath(path) }

    func volumeSpace(atPath path: String) -> VolumeSpace? { self.fileSystem.volumeSpace(atPath: path) }
}
