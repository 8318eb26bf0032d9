import COpenSSL
import FoundationEssentials
import Glibc

/// The server secret that keys are HMAC'd with: `data_dir/secret.key`, 32 random bytes stored as
/// hex, 0600, made once by whichever process needs it first.
public enum ServerSecret {
    public static func path(in dataDir: String) -> String { StoreLayout(root: dataDir).secretKey }

    /// Loads the secret, creating it if there is none yet. Creation links a finished temp file into
    /// place, so racing processes agree on one secret and nobody ever reads half of one.
    public static func loadOrCreate(in dataDir: String) throws -> [UInt8] {
        let path = path(in: dataDir)
        if let secret = try load(path) { return secret }
        let temp = "\(dataDir)/\(FileSystem.tempPrefix)secret.\(getpid())"
        try FileSystem.writeAtomically(Array(try Random.bytes(32).hexString.utf8), to: temp)
        let linked = link(temp, path)
        let linkError = errno
        unlink(temp)
        if linked < 0 && linkError != EEXIST {
            throw FileSystem.Failure(operation: "link", path: path, code: linkError)
        }
        try FileSystem.syncFolder(dataDir)
        guard let secret = try load(path) else {
            throw FileSystem.Failure(operation: "read", path: path, code: ENOENT)
        }
        return secret
    }

    private static func load(_ path: String) throws -> [UInt8]? {
        guard let text = try FileSystem.read(path) else { return nil }
        let hex = String(decoding: text, as: UTF8.self).trimmed
        guard hex.utf8.count == 64, let bytes = [UInt8](hex: hex) else {
            throw FileSystem.Failure(operation: "parse", path: path, code: EINVAL)
        }
        return bytes
    }
}

/// The OS random source, through OpenSSL.
public enum Random {
    public struct Failure: Error {}

    public static func bytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else { throw Failure() }
        return bytes
    }
}
