import Glibc
import NIOCore
import TernStorage
import Testing

@Suite struct FileSystemTests {
    /// Runs `body` against the POSIX file system in a fresh temporary directory and in memory.
    static func withEachFileSystem(_ body: (any FileSystem, String) throws -> Void) throws {
        var template = Array("/tmp/tern-fs-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        defer { try? PosixFileSystem().removeRecursively(atPath: directory) }
        try body(PosixFileSystem(), directory)
        try body(InMemoryFileSystem(), "/tmp/test")
    }

    @Test func filesReadWriteTruncateAndRename() throws {
        try Self.withEachFileSystem { fileSystem, directory in
            try fileSystem.makeDirectory(atPath: directory + "/a/b")
            let file = try fileSystem.openFile(atPath: directory + "/a/b/f", create: true)
            try file.write(ByteBuffer(string: "hello"), at: 0)
            try file.append(ByteBuffer(string: " world"))
            #expect(try file.size() == 11)
            #expect(String(buffer: try file.read(at: 6, count: 100)) == "world")
            try file.write(ByteBuffer(string: "J"), at: 6)
            try file.truncate(toSize: 9)
            #expect(String(buffer: try file.read(at: 0, count: 100)) == "hello Jor")
            try file.fsync()
            try file.close()
            #expect(throws: StorageError(.closed)) { try file.size() }
            try fileSystem.rename(atPath: directory + "/a/b/f", toPath: directory + "/a/g")
            #expect(try fileSystem.listDirectory(atPath: directory + "/a").sorted() == ["b", "g"])
            #expect(throws: StorageError(.io)) { try fileSystem.openFile(atPath: directory + "/a/b/f", create: false) }
            #expect(throws: StorageError(.io)) { try fileSystem.remove(atPath: directory + "/a") }
            try fileSystem.writeFileAtomically(atPath: directory + "/a/g", bytes: ByteBuffer(string: "new"))
            #expect(try fileSystem.readWholeFile(atPath: directory + "/a/g").map { String(buffer: $0) } == "new")
            try fileSystem.fsyncDirectory(atPath: directory + "/a")
            try fileSystem.removeRecursively(atPath: directory + "/a")
            #expect(!fileSystem.fileExists(atPath: directory + "/a"))
        }
    }

    @Test func crashDropsWhatWasNotSynced() throws {
        let fileSystem = InMemoryFileSystem()
        try fileSystem.makeDirectory(atPath: "/d")
        try fileSystem.fsyncDirectory(atPath: "/")
        let synced = try fileSystem.openFile(atPath: "/d/synced", create: true)
        try synced.write(ByteBuffer(string: "durable"), at: 0)
        try synced.fsync()
        try fileSystem.fsyncDirectory(atPath: "/d")
        try synced.append(ByteBuffer(string: " lost"))
        let unlinked = try fileSystem.openFile(atPath: "/d/new", create: true)
        try unlinked.write(ByteBuffer(string: "x"), at: 0)
        try unlinked.fsync()  // Data synced, but the directory entry never was.

        fileSystem.simulateCrash()

        #expect(fileSystem.contents(ofPath: "/d/synced") == Array("durable".utf8))
        #expect(!fileSystem.fileExists(atPath: "/d/new"))
        #expect(throws: StorageError(.closed)) { try synced.size() }
    }

    @Test func injectedWriteFaultsFailOrTearTheChosenWrite() throws {
        let fileSystem = InMemoryFileSystem()
        let file = try fileSystem.openFile(atPath: "/f", create: true)
        fileSystem.injectWriteFault(.fail(errno: ENOSPC), afterWrites: 1)
        try file.append(ByteBuffer(string: "one"))
        #expect(throws: StorageError(.diskFull)) { try file.append(ByteBuffer(string: "two")) }
        fileSystem.injectWriteFault(.torn(keepingBytes: 2, errno: EIO))
        #expect(throws: StorageError(.io)) { try file.append(ByteBuffer(string: "three")) }
        #expect(fileSystem.contents(ofPath: "/f") == Array("oneth".utf8))
        fileSystem.injectFsyncFault(errno: EIO)
        #expect(throws: StorageError(.io)) { try file.fsync() }
        try file.fsync()
        #expect(fileSystem.fileFsyncCount == 1)
    }

    @Test func posixErrorsCarryTheSystemCall() throws {
        do {
            _ = try PosixFileSystem().openFile(atPath: "/nonexistent-dir/x", create: true)
            Issue.record("open succeeded")
        } catch {
            #expect(error.code == .io)
            #expect((error.cause as? SystemCallError) == SystemCallError(systemCall: "open", errnoCode: ENOENT))
        }
    }
}
