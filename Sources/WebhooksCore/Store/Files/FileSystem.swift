import CStore
import FoundationEssentials
import Glibc

/// How the flat-file store touches the disk: whole-file atomic replacement, batches committed
/// together, exclusive locks, plain reads, and the shared mappings every process counts in
/// (`Generations`, `Scoreboard`); a user's webhook log appends through `WebhookLog`. Everything is
/// created 0700 (folders) or 0600 (files).
public enum FileSystem {
    public struct Failure: StorageFailure, CustomStringConvertible {
        public var operation: String
        public var path: String
        public var code: Int32
        public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }

        /// The disk is full, over quota, read-only or failing: nothing the client did, and it may
        /// pass by itself, so the API answers 503 rather than 500.
        public var isStorageUnavailable: Bool {
            [ENOSPC, EDQUOT, EIO, EROFS].contains(code)
        }
    }

    static func check<Result: BinaryInteger>(_ result: Result, _ operation: String, _ path: String) throws {
        if result < 0 { throw Failure(operation: operation, path: path, code: errno) }
    }

    /// Maps `size` bytes of the open file `fd` shared between processes (the change counters, the
    /// scoreboard), growing it first with its blocks allocated: a mapped page of a sparse file
    /// that is first written while the disk is full would kill the process with SIGBUS.
    static func mapShared(_ fd: Int32, size: Int, writable: Bool, path: String) throws -> UnsafeMutableRawPointer {
        if writable {
            var info = stat()
            try check(fstat(fd, &info), "stat", path)
            if Int(info.st_size) < size {
                let result = posix_fallocate(fd, 0, off_t(size))
                if result != 0 { throw Failure(operation: "fallocate", path: path, code: result) }
            }
        }
        let protection = writable ? PROT_READ | PROT_WRITE : PROT_READ
        guard let mapping = mmap(nil, size, protection, MAP_SHARED, fd, 0), mapping != MAP_FAILED else {
            throw Failure(operation: "mmap", path: path, code: errno)
        }
        return mapping
    }

    /// Temp files and folders carry this prefix; start-up recovery removes them and nothing else.
    public static let tempPrefix = ".tmp-"

    /// Writes `bytes` so that `path` holds either its old content or all of the new one, and the new
    /// one survives a crash once this returns: temp file, fsync, rename, fsync the folder.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let folder = Path.parent(of: path)
        let name = Path.name(of: path)
        let temp = "\(folder)/\(tempPrefix)\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        try writeNew(bytes, to: temp, sync: true)
        do {
            try check(rename(temp, path), "rename", temp)
        } catch {
            unlink(temp)
            throw error
        }
        try syncFolder(folder)
    }

    /// Many new files at once (a fan-out), committed together: every temp file is written, one
    /// syncfs makes their content durable, they are renamed into place, and `beforeCommit` runs
    /// (appends that belong to the same commit) before a second syncfs makes all of it durable.
    /// Two syncs for the batch instead of two fsyncs per file; once this returns, all of it
    /// survives a crash. On failure it throws with the temp files removed; paths already renamed
    /// are the caller's to remove.
    public static func writeBatch(
        _ files: [(path: String, bytes: [UInt8])], in root: String, beforeCommit: () throws -> Void
    ) throws {
        var temps: [(temp: String, path: String)] = []
        var renamed = 0
        do {
            for file in files {
                let temp = "\(Path.parent(of: file.path))/\(tempPrefix)\(Path.name(of: file.path)).\(getpid())"
                try writeNew(file.bytes, to: temp)
                temps.append((temp, file.path))
            }
            try syncFilesystem(of: root)
            for (temp, path) in temps {
                try check(rename(temp, path), "rename", temp)
                renamed += 1
            }
            try beforeCommit()
            try syncFilesystem(of: root)
        } catch {
            for (temp, _) in temps.dropFirst(renamed) { unlink(temp) }
            throw error
        }
    }

    /// A new file with `bytes`, its content durable when `sync` (its name is the caller's to sync),
    /// else not yet durable at all. Removed again if the write fails.
    static func writeNew(_ bytes: [UInt8], to path: String, sync: Bool = false) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try check(fd, "create", path)
        defer { close(fd) }
        do {
            try writeAll(fd, bytes, path)
            if sync { try check(fsync(fd), "fsync", path) }
        } catch {
            unlink(path)
            throw error
        }
    }

    static func syncFilesystem(of path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(fd, "open", path)
        defer { close(fd) }
        try check(stellar_syncfs(fd), "syncfs", path)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "write", path: path, code: errno)
            }
            offset += written
        }
    }

    /// Makes a rename, create or unlink inside `folder` durable.
    public static func syncFolder(_ folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(fd, "open", folder)
        defer { close(fd) }
        try check(fsync(fd), "fsync", folder)
    }

    /// The whole file, or nil when it does not exist.
    public static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw Failure(operation: "open", path: path, code: errno)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "read", path: path, code: errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// Creates `path` and any missing parents, 0700, syncing each new entry into its parent unless
    /// the caller makes them durable another way (`sync: false`, a batch's syncfs).
    public static func makeFolder(_ path: String, sync: Bool = true) throws {
        if mkdir(path, 0o700) == 0 {
            if sync { try syncFolder(Path.parent(of: path)) }
            return
        }
        switch errno {
        case EEXIST:
            return
        case ENOENT:
            try makeFolder(Path.parent(of: path), sync: sync)
            try makeFolder(path, sync: sync)
        default:
            throw Failure(operation: "mkdir", path: path, code: errno)
        }
    }

    /// Names in a folder (no dot entries); empty when the folder does not exist.
    public static func list(_ folder: String) throws -> [String] {
        guard let dir = opendir(folder) else {
            if errno == ENOENT { return [] }
            throw Failure(operation: "opendir", path: folder, code: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Size in bytes, or nil when missing.
    public static func size(_ path: String) throws -> Int? {
        var info = stat()
        if stat(path, &info) < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw Failure(operation: "stat", path: path, code: errno)
        }
        return Int(info.st_size)
    }

    public static func remove(_ path: String) throws {
        if unlink(path) < 0 && errno != ENOENT {
            throw Failure(operation: "unlink", path: path, code: errno)
        }
    }

    /// Removes a file or a whole folder tree.
    public static func removeTree(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in try list(path) { try removeTree("\(path)/\(name)") }
            try check(rmdir(path), "rmdir", path)
        } else {
            try remove(path)
        }
    }
}

/// An exclusive `flock` on a lock file, held until `unlock` (or the process dies: the kernel
/// drops flocks of dead processes, so a kill -9 never leaves a lock behind).
public struct FileLock {
    private let fd: Int32

    /// Waits for the lock.
    public init(_ path: String) throws {
        guard let lock = try FileLock(path, wait: true) else {
            throw FileSystem.Failure(operation: "flock", path: path, code: EWOULDBLOCK)
        }
        self = lock
    }

    /// Takes the lock if it is free; nil when another process holds it.
    public init?(trying path: String) throws {
        guard let lock = try FileLock(path, wait: false) else { return nil }
        self = lock
    }

    private init?(_ path: String, wait: Bool) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        try FileSystem.check(fd, "open", path)
        while flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) < 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK && !wait { return nil }
            throw FileSystem.Failure(operation: "flock", path: path, code: code)
        }
    }

    public func unlock() {
        close(fd)  // closing the only descriptor releases the flock
    }

    /// Runs `body` holding the lock at `path`.
    public static func withLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let lock = try FileLock(path)
        defer { lock.unlock() }
        return try body()
    }
}
