import FoundationEssentials
import Glibc

/// API keys (docs/architecture.md: "A request"): `swh_<key id>_<secret>`. The prefix lets secret
/// scanners spot leaked keys; the key id (16 hex) names the stored record, so lookup is O(1); the
/// secret is 32 bytes from the OS random source (base64url, 43 characters) and is stored only as
/// HMAC-SHA256 under the server secret.
public struct APIKey: Equatable, Sendable {
    public static let prefix = "swh_"
    public let id: String
    public let secret: String

    public var text: String { "\(Self.prefix)\(id)_\(secret)" }

    public static func generate() throws -> APIKey {
        let id = try Random.bytes(8).hexString
        let secret = Data(try Random.bytes(32)).base64EncodedString()
            .replacing("+", with: "-")
            .replacing("/", with: "_")
            .replacing("=", with: "")
        return APIKey(id: id, secret: secret)
    }

    /// Splits a presented key; nil when it is not of our form.
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        let idEnd = Self.prefix.utf8.count + 16
        guard bytes.count == idEnd + 1 + 43, text.hasPrefix(Self.prefix), bytes[idEnd] == UInt8(ascii: "_")
        else { return nil }
        let id = bytes[Self.prefix.utf8.count..<idEnd]
        let secret = bytes[(idEnd + 1)...]
        guard id.allSatisfy(Self.isLowerHex), secret.allSatisfy(Self.isBase64URL) else { return nil }
        self.init(id: String(decoding: id, as: UTF8.self), secret: String(decoding: secret, as: UTF8.self))
    }

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "_")
    }
}

/// Who a request acts as, once its key checks out.
public enum Principal: Equatable, Sendable {
    case user(id: String)
    case service(name: String)

    public var isService: Bool {
        if case .service = self { return true }
        return false
    }
}

/// Verifies presented keys against the stored digests with OpenSSL.
public struct KeyVerifier: Sendable {
    private let mac: HMACSHA256
    private let store: Store

    public init(secret: [UInt8], store: Store) {
        self.mac = HMACSHA256(key: secret)
        self.store = store
    }

    public func digest(of key: APIKey) -> [UInt8] {
        mac.digest(Array(key.secret.utf8))
    }

    /// The principal for an `Authorization` header value, or nil for a missing, malformed, unknown
    /// or revoked key. An unknown key id costs the same file read, decode, HMAC and compare as a
    /// known one (the store's decoy record stands in), so timing reveals no key ids.
    public func principal(forAuthorization header: String?) throws -> Principal? {
        // The scheme name is case-insensitive (RFC 7235).
        guard let header, header.prefix(7).lowercased() == "bearer ",
            let key = APIKey(parsing: String(header.dropFirst(7)).trimmed)
        else { return nil }
        let record = try store.key(id: key.id)
        let compared = try record ?? store.keyDecoy()
        let expected = compared.flatMap { [UInt8](hex: $0.digest) } ?? Self.unknownKeyDigest
        let presented = digest(of: key)
        let matches = Crypto.equal(expected, presented)
        guard matches, let record, record.revokedAt == nil else { return nil }
        switch record.kind {
        case .user: return .user(id: record.subject)
        case .service: return .service(name: record.subject)
        }
    }

    private static let unknownKeyDigest = [UInt8](repeating: 0, count: 32)

    /// Makes and stores a new key; returns it (the only time its secret exists outside the caller).
    public func issue(kind: APIKeyKind, subject: String, label: String?, now: String) throws -> APIKey {
        let key = try APIKey.generate()
        try store.saveKey(
            APIKeyRecord(
                id: key.id, kind: kind, subject: subject, label: label,
                digest: digest(of: key).hexString, createdAt: now, revokedAt: nil))
        return key
    }
}
