import FoundationEssentials
import Glibc
import Synchronization

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
        self.init(bytes: Array(text.utf8)[...])
    }

    /// The key in an `Authorization` value: `Bearer`, in any case (RFC 7235), then the key, with
    /// any spaces around it; nil for another scheme or a malformed key.
    init?(authorization value: String) {
        let bytes = Array(value.utf8)
        let scheme = "bearer ".utf8
        let lowercased: (UInt8) -> UInt8 = { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ lowercased($0) == $1 }) else { return nil }
        let isSpace: (UInt8) -> Bool = { $0 == 32 || (9...13).contains($0) }
        var key = bytes[scheme.count...]
        while let first = key.first, isSpace(first) { key.removeFirst() }
        while let last = key.last, isSpace(last) { key.removeLast() }
        self.init(bytes: key)
    }

    private init?(bytes: ArraySlice<UInt8>) {
        let idStart = bytes.startIndex + Self.prefix.utf8.count
        let idEnd = idStart + 16
        guard bytes.count == Self.prefix.utf8.count + 16 + 1 + 43, bytes.starts(with: Self.prefix.utf8),
            bytes[idEnd] == UInt8(ascii: "_")
        else { return nil }
        let id = bytes[idStart..<idEnd]
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
}

/// Verifies presented keys against the stored digests with OpenSSL.
public struct KeyVerifier: Sendable {
    private let mac: HMACSHA256
    private let store: Store
    private let verified = VerifiedSecrets()

    public init(secret: [UInt8], store: Store) {
        self.mac = HMACSHA256(key: secret)
        self.store = store
    }

    public func digest(of key: APIKey) -> [UInt8] {
        mac.digest(Array(key.secret.utf8))
    }

    /// The principal for an `Authorization` header value, or nil for a missing, malformed, unknown
    /// or revoked key. An unknown key id costs the same file read, decode, HMAC and compare as a
    /// known one with a wrong secret (the store's decoy record stands in), so timing reveals no
    /// key ids; only a secret already verified here skips the HMAC.
    /// `readAhead`: what the request reads next (its route's), which the store may fetch with the key.
    public func principal(forAuthorization header: String?, readAhead: ReadAhead = .nothing) throws -> Principal? {
        guard let header, let key = APIKey(authorization: header) else { return nil }
        let record = try store.key(id: key.id, readAhead: readAhead)
        let compared = try record ?? store.keyDecoy()
        let secret = Array(key.secret.utf8)
        var matches = compared.map { verified.contains(keyId: key.id, secret: secret, digest: $0.digest) } ?? false
        if !matches {
            let expected = compared.flatMap { [UInt8](hex: $0.digest) } ?? Self.unknownKeyDigest
            matches = Crypto.equal(expected, mac.digest(secret))
            if matches, let record { verified.insert(keyId: key.id, secret: secret, digest: record.digest) }
        }
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

/// The secrets a process has already verified, each with the stored digest it matched, by key id:
/// the same secret presented again for the same record needs no HMAC (a worker sees one client's
/// key on request after request). Only secrets that matched are kept, never a guess, and they
/// are compared in constant time. Revocation still applies: the record is read on every request.
final class VerifiedSecrets: Sendable {
    /// Past this many keys the table starts over, so a worker stays small.
    static let maxKeys = 1024

    private let table = Mutex<[String: (digest: String, secret: [UInt8])]>([:])

    func contains(keyId: String, secret: [UInt8], digest: String) -> Bool {
        table.withLock { table in
            guard let entry = table[keyId], entry.digest == digest else { return false }
            return Crypto.equal(entry.secret, secret)
        }
    }

    func insert(keyId: String, secret: [UInt8], digest: String) {
        table.withLock { table in
            if table.count >= Self.maxKeys { table.removeAll() }
            table[keyId] = (digest, secret)
        }
    }
}
