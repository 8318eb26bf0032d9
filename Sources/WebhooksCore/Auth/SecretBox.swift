import CCrypto
import FoundationEssentials

/// Seals the secrets the service must be able to read back (a webhook's signing secret), so a
/// copied `data_dir` or database alone does not reveal them: AES-256-GCM under a key derived from
/// the server secret, which stays in its own file (`ServerSecret`). The key is HMAC-SHA256(server
/// secret, a fixed label): the server secret is already 32 uniformly random bytes, so a PRF keyed
/// with it is a sound derivation (HKDF's expand step, one block). Each sealed value is bound to a
/// context (the webhook's id), so it cannot be moved to another record.
public struct SecretBox: Sendable {
    private let key: [UInt8]
    static let nonceLength = 12
    static let tagLength = 16
    /// What a sealed value starts with: the scheme, so another can follow.
    static let prefix = "v1."

    public init(serverSecret: [UInt8]) {
        key = HMACSHA256(key: serverSecret).digest(Array("stellar-webhooks sealed secrets v1".utf8))
    }

    /// "v1." + base64(nonce, ciphertext, tag).
    public func seal(_ plain: [UInt8], context: String) throws -> String {
        let nonce = try Random.bytes(Self.nonceLength)
        let aad = Array(context.utf8)
        var sealed = [UInt8](repeating: 0, count: plain.count)
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        Crypto.load()
        guard stellar_aes256gcm_seal(key, nonce, aad, aad.count, plain, plain.count, &sealed, &tag) == 0 else {
            throw SealFailure()
        }
        return Self.prefix + Data(nonce + sealed + tag).base64EncodedString()
    }

    /// The plaintext; nil when the value was not sealed by this server secret for this context
    /// (or is damaged).
    public func open(_ text: String, context: String) -> [UInt8]? {
        guard text.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))),
            data.count >= Self.nonceLength + Self.tagLength
        else { return nil }
        let bytes = [UInt8](data)
        let nonce = Array(bytes.prefix(Self.nonceLength))
        let tag = Array(bytes.suffix(Self.tagLength))
        let sealed = Array(bytes.dropFirst(Self.nonceLength).dropLast(Self.tagLength))
        let aad = Array(context.utf8)
        var plain = [UInt8](repeating: 0, count: sealed.count)
        Crypto.load()
        guard stellar_aes256gcm_open(key, nonce, aad, aad.count, sealed, sealed.count, tag, &plain) == 0 else {
            return nil
        }
        return plain
    }

    struct SealFailure: Error, CustomStringConvertible {
        var description: String { "OpenSSL could not seal a secret" }
    }
}
