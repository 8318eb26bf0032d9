import FoundationEssentials

/// The Standard Webhooks signature (its specification, "Signature scheme"): a secret is `whsec_`
/// + base64 of random bytes (24 to 64; we make 32), and a request carries `webhook-signature:
/// v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one such signature per secret in force,
/// separated by spaces.
public enum SigningSecret {
    static let prefix = "whsec_"
    static let keyLength = 32

    /// A new secret, as shown to its owner.
    public static func generate() throws -> String {
        prefix + Data(try Random.bytes(keyLength)).base64EncodedString()
    }

    /// The HMAC key a secret stands for; nil for text that is not one.
    public static func key(of secret: String) -> [UInt8]? {
        guard secret.hasPrefix(prefix), let data = Data(base64Encoded: String(secret.dropFirst(prefix.count))),
            (24...64).contains(data.count)
        else { return nil }
        return [UInt8](data)
    }

    /// The `webhook-signature` value for a message signed with each of `keys`.
    public static func signature(id: String, timestamp: Int, body: [UInt8], keys: [[UInt8]]) -> String {
        let signed = Array("\(id).\(timestamp).".utf8) + body
        return keys.map { "v1," + Data(HMACSHA256(key: $0).digest(signed)).base64EncodedString() }
            .joined(separator: " ")
    }
}

extension SigningSecrets {
    /// New secrets for the webhook `webhookId`, and the secret in the clear to show once.
    public static func generate(for webhookId: String, box: SecretBox) throws -> (SigningSecrets, shown: String) {
        let secret = try SigningSecret.generate()
        return (SigningSecrets(current: try box.seal(Array(secret.utf8), context: webhookId)), secret)
    }

    /// These secrets after a rotation at `now`: a new current one; the old one signs for a day more.
    public func rotated(for webhookId: String, box: SecretBox, now: Date) throws -> (SigningSecrets, shown: String) {
        var (rotated, shown) = try Self.generate(for: webhookId, box: box)
        rotated.previous = current
        rotated.previousExpiresAt = Timestamp.format(now.addingTimeInterval(Self.overlap))
        return (rotated, shown)
    }

    /// The current secret in the clear; nil when it cannot be opened (sealed under another
    /// server secret).
    public func currentSecret(for webhookId: String, box: SecretBox) -> String? {
        box.open(current, context: webhookId).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The HMAC keys that sign at `now`, current first; nil when one cannot be opened.
    public func keys(for webhookId: String, box: SecretBox, now: Date) -> [[UInt8]]? {
        var sealed = [current]
        if let previous, let expires = previousExpiresAt.flatMap(Timestamp.parse), expires > now {
            sealed.append(previous)
        }
        var keys: [[UInt8]] = []
        for value in sealed {
            guard let opened = box.open(value, context: webhookId),
                let key = SigningSecret.key(of: String(decoding: opened, as: UTF8.self))
            else { return nil }
            keys.append(key)
        }
        return keys
    }
}
