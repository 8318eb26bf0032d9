import FoundationEssentials
import Glibc

/// Hex text for digests and secrets on disk.
extension Array where Element == UInt8 {
    var hexString: String {
        map { $0.hexPadded(2) }.joined()
    }

    /// nil for an odd count or anything but hex digits (either case). Runs for key checks (the
    /// stored digest), so by nibble, with no text made on the way.
    init?(hex: String) {
        var digits = hex.utf8.makeIterator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        while let high = digits.next() {
            guard let low = digits.next(), let a = Self.nibble(high), let b = Self.nibble(low) else { return nil }
            bytes.append(a << 4 | b)
        }
        self = bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
