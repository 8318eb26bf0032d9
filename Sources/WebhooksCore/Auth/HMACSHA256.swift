import COpenSSL

/// HMAC-SHA256 under one key, with OpenSSL. The MAC is fetched and keyed once; each digest runs on
/// a copy of that keyed context, so a request pays for a copy, not for a provider lookup and a key
/// schedule (OpenSSL 3's one-shot `HMAC()` does both on every call).
final class HMACSHA256: @unchecked Sendable {  // `keyed` is only read (copied) after init
    private let keyed: OpaquePointer

    init(key: [UInt8]) {
        // Without its error strings: they are for messages this service never prints, and not
        // loading them keeps ~0.5 MB of libcrypto out of every worker. (OpenSSL runs its
        // initialization once; the delivery helper, which never gets here, keeps them for
        // libcurl's TLS errors.)
        OPENSSL_init_crypto(UInt64(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS), nil)
        // Neither can fail with the default provider present; if it were missing, nothing works.
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil), let context = EVP_MAC_CTX_new(mac) else {
            fatalError("OpenSSL has no HMAC")
        }
        EVP_MAC_free(mac)
        let initialized = "SHA256".withCString { name in
            var params = [
                OSSL_PARAM_construct_utf8_string("digest", UnsafeMutablePointer(mutating: name), 0),
                OSSL_PARAM_construct_end(),
            ]
            return EVP_MAC_init(context, key, key.count, &params)
        }
        guard initialized == 1 else { fatalError("OpenSSL refused an HMAC-SHA256 key") }
        keyed = context
    }

    deinit { EVP_MAC_CTX_free(keyed) }

    func digest(_ message: [UInt8]) -> [UInt8] {
        guard let context = EVP_MAC_CTX_dup(keyed) else { fatalError("out of memory") }
        defer { EVP_MAC_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: 32)
        var length = 0
        guard EVP_MAC_update(context, message, message.count) == 1,
            EVP_MAC_final(context, &out, &length, out.count) == 1, length == 32
        else { fatalError("HMAC-SHA256 failed") }
        return out
    }
}
