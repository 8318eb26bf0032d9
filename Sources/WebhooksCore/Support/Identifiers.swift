import FoundationEssentials
import Glibc

/// Ids: ours are lowercase UUIDs; users and servers come from the panel and are checked before
/// they ever become part of a path in the store.
public enum Identifier {
    public static func newUUID() -> String {
        UUID().uuidString.lowercased()
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
