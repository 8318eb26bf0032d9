import FoundationEssentials
import Glibc

/// Ids: ours are lowercase UUIDs; users and servers come from the panel and are checked before
/// they ever become part of a path in the store.
public enum Identifier {
    /// A random (version 4) UUID. Its 122 random bits come from the standard library's system
    /// generator (getrandom(2)): FoundationEssentials' `UUID()` opens, reads and closes
    /// /dev/urandom for each one, and a fan-out makes one per delivery.
    public static func newUUID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: generator.next() as UInt64, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: generator.next() as UInt64, toByteOffset: 8, as: UInt64.self)
        }
        bytes[6] = bytes[6] & 0x0f | 0x40  // version 4
        bytes[8] = bytes[8] & 0x3f | 0x80  // the RFC 4122 variant
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }

    public static func isUUID(_ text: String) -> Bool {
        text.utf8.count == 36 && UUID(uuidString: text) != nil && text == text.lowercased()
    }

    /// The rule `isExternalID` checks, for messages.
    public static let externalIDRule = "1-128 of A-Z a-z 0-9 . _ - (not starting with .)"

    /// User and server ids: 1–128 of `[A-Za-z0-9._-]`, not starting with a dot.
    public static func isExternalID(_ text: String) -> Bool {
        guard let first = text.utf8.first, first != UInt8(ascii: "."), text.utf8.count <= 128 else {
            return false
        }
        return text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}
