import CStore
import FoundationEssentials
import Glibc

/// The server secret that keys are HMAC'd with: `secret_file` (default `data_dir/secret.key`),
/// 32 random bytes stored as hex, 0600, made once by whichever process needs it first. It never
/// goes into a database: hosts that share one share this file.
public enum ServerSecret {
    /// Loads the secret, creating it if there is none yet. Creation links a finished temp file into
    /// place, so racing processes agree on one secret and nobody ever reads half of one.
    public static func loadOrCreate(at path: String) throws -> [UInt8] {
        if let secret = try load(path) { return secret }
        let folder = Path.parent(of: path)
        try FileSystem.makeFolder(folder)
        let temp = "\(folder)/\(FileSystem.tempPrefix)\(Path.name(of: path)).\(getpid())"
        try FileSystem.writeAtomically(Array(try Random.bytes(32).hexString.utf8), to: temp)
        let linked = link(temp, path)
        let linkError = errno
        unlink(temp)
        if linked < 0 && linkError != EEXIST {
            throw FileSystem.Failure(operation: "link", path: path, code: linkError)
        }
        try FileSystem.syncFolder(folder)
        guard let secret = try load(path) else {
            throw FileSystem.Failure(operation: "read", path: path, code: ENOENT)
        }
        return secret
    }

    /// The secret, or nil when the file does not exist (a bad one throws).
    public static func load(_ path: String) throws -> [UInt8]? {
        guard let text = try FileSystem.read(path) else { return nil }
        let hex = String(decoding: text, as: UTF8.self).trimmed
        guard hex.utf8.count == 64, let bytes = [UInt8](hex: hex) else {
            throw FileSystem.Failure(operation: "parse", path: path, code: EINVAL)
        }
        return bytes
    }

    /// What a database keeps to tell whether a host has the same secret, without the secret:
    /// an HMAC of a fixed text under it.
    public static func fingerprint(of secret: [UInt8]) -> String {
        HMACSHA256(key: secret).digest(Array("stellar-webhooks secret fingerprint".utf8)).hexString
    }
}

/// The OS random source (getrandom(2), the kernel's CSPRNG, which OpenSSL's own generator is
/// seeded from). Read directly, so a process that only makes ids and secrets never initializes
/// OpenSSL: the master would otherwise keep ~1.5 MB of it resident for one decoy key.
public enum Random {
    public struct Failure: Error {}

    public static func bytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes[filled...].withUnsafeMutableBytes { stellar_getrandom($0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw Failure()
            }
            filled += got
        }
        return bytes
    }
}
