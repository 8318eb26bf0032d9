import CCrypto

/// OpenSSL's libcrypto, loaded by the first process-wide use (`CCrypto` says why not linked).
enum Crypto {
    private static let loaded: Void = {
        var error = [CChar](repeating: 0, count: 256)
        // A host without libcrypto 3 can check no key at all: say so and stop.
        guard stellar_crypto_load(&error, UInt(error.count)) == 0 else {
            fatalError("cannot load OpenSSL: \(String(cString: error))")
        }
    }()

    static func load() { loaded }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        load()
        var digest = [UInt8](repeating: 0, count: 32)
        guard stellar_sha256(bytes, bytes.count, &digest) == 0 else { fatalError("SHA-256 failed") }
        return digest
    }

    /// Compares two digests in constant time (OpenSSL's CRYPTO_memcmp).
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        load()
        return a.count == b.count && stellar_crypto_memcmp(a, b, a.count) == 0
    }
}

/// HMAC-SHA256 under one key, with OpenSSL. The MAC is keyed once; each digest runs on a copy of
/// the keyed context, so a request pays for a copy, not for a provider lookup and a key schedule
/// (OpenSSL 3's one-shot `HMAC()` does both on every call).
final class HMACSHA256: @unchecked Sendable {  // `keyed` is only read (copied) after init
    private let keyed: UnsafeMutableRawPointer

    init(key: [UInt8]) {
        Crypto.load()
        guard let keyed = stellar_hmac_sha256_new(key, key.count) else {
            fatalError("OpenSSL refused an HMAC-SHA256 key")
        }
        self.keyed = keyed
    }

    deinit { stellar_hmac_sha256_free(keyed) }

    func digest(_ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        guard stellar_hmac_sha256(keyed, message, message.count, &out) == 0 else { fatalError("HMAC-SHA256 failed") }
        return out
    }
}
