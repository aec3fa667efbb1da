import FoundationEssentials
import NIOCore
import Synchronization
import TernStorage
import TernWire

/// One small file in the data directory, read whole and replaced atomically (LogManager's data
/// files), as the security stores keep their state; nil in tests that keep it in memory.
struct DataFileAccess: Sendable {
    var read: @Sendable () throws -> [UInt8]?
    var write: @Sendable ([UInt8]) throws -> Void

    init(read: @escaping @Sendable () throws -> [UInt8]?, write: @escaping @Sendable ([UInt8]) throws -> Void) {
        self.read = read
        self.write = write
    }

    init(_ logs: LogManager, _ name: String) {
        self.read = { try logs.readDataFile(named: name).map { Array($0.readableBytesView) } }
        self.write = { try logs.writeDataFile(named: name, bytes: ByteBuffer(bytes: $0)) }
    }
}

/// The ACLs, persisted in the data directory (`acls`, JSON) before CreateAcls or DeleteAcls
/// answers, and loaded at start.
final class AclStore: Sendable {
    static let fileName = "acls"
    private let bindings: Mutex<[AclBinding]>
    private let files: DataFileAccess?

    init(files: DataFileAccess?) throws {
        self.files = files
        var loaded: [AclBinding] = []
        if let bytes = try files?.read() {
            do {
                loaded = try JSONDecoder().decode([AclBinding].self, from: Data(bytes))
            } catch {
                throw AclError("the data directory's \(Self.fileName) cannot be read: \(error)")
            }
        }
        self.bindings = Mutex(loaded)
    }

    var all: [AclBinding] { self.bindings.withLock { $0 } }

    /// Adds the bindings not already present; persists before returning (and changes nothing
    /// when the file cannot be written). Under the lock, so writes land in order.
    func add(_ new: [AclBinding]) throws {
        try self.bindings.withLock { bindings in
            var updated = bindings
            for binding in new where !updated.contains(binding) { updated.append(binding) }
            try self.persist(updated)
            bindings = updated
        }
    }

    /// Removes the bindings each filter matches and returns them, per filter; persisted as `add`.
    func remove(matching filters: [AclBindingFilter]) throws -> [[AclBinding]] {
        try self.bindings.withLock { bindings in
            let removed = filters.map { filter in bindings.filter { filter.matches($0) } }
            let gone = Set(removed.joined())
            let updated = bindings.filter { !gone.contains($0) }
            try self.persist(updated)
            bindings = updated
            return removed
        }
    }

    private func persist(_ snapshot: [AclBinding]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try self.files?.write(Array(try encoder.encode(snapshot)))
    }
}
