import FoundationEssentials
import Glibc

/// Addresses the helper must never connect to (docs/architecture.md: "A delivery"): loopback,
/// private, link-local, CGNAT, multicast, unspecified, reserved and documentation ranges, and the
/// IPv6 forms that carry such an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo).
public enum PrivateAddress {
    /// `a.b.c.d` as four bytes.
    public static func isPrivate(ipv4 bytes: [UInt8]) -> Bool {
        guard bytes.count == 4 else { return true }
        let (a, b, c) = (bytes[0], bytes[1], bytes[2])
        switch a {
        case 0, 10, 127: return true  // this network, private, loopback
        case 100 where (64...127).contains(b): return true  // CGNAT 100.64/10
        case 169 where b == 254: return true  // link-local
        case 172 where (16...31).contains(b): return true  // private
        case 192 where b == 168: return true  // private
        case 192 where b == 0 && (c == 0 || c == 2): return true  // IETF protocol, TEST-NET-1
        case 198 where b == 18 || b == 19: return true  // benchmarking
        case 198 where b == 51 && c == 100: return true  // TEST-NET-2
        case 203 where b == 0 && c == 113: return true  // TEST-NET-3
        case 224...255: return true  // multicast, reserved, broadcast
        default: return false
        }
    }

    /// An IPv6 address as sixteen bytes.
    public static func isPrivate(ipv6 bytes: [UInt8]) -> Bool {
        guard bytes.count == 16 else { return true }
        let head = bytes.prefix(10)
        if head.allSatisfy({ $0 == 0 }) {
            if bytes[10] == 0xff && bytes[11] == 0xff { return isPrivate(ipv4: Array(bytes[12...])) }  // ::ffff:a.b.c.d
            if bytes[10] == 0 && bytes[11] == 0 { return true }  // ::, ::1 and IPv4-compatible ::a.b.c.d
        }
        switch (bytes[0], bytes[1]) {
        case (0x00, 0x64) where bytes[2] == 0xff && bytes[3] == 0x9b:
            // NAT64 64:ff9b::/96, 64:ff9b:1::/48
            return bytes[4] != 0 || bytes[5] != 0 || isPrivate(ipv4: Array(bytes[12...]))
        case (0x01, 0x00) where bytes[2...7].allSatisfy({ $0 == 0 }):
            return true  // discard 100::/64
        case (0x20, 0x01) where bytes[2] == 0 && bytes[3] == 0:
            return true  // Teredo 2001::/32 hides an IPv4 address
        case (0x20, 0x01) where bytes[2] == 0x0d && bytes[3] == 0xb8:
            return true  // documentation 2001:db8::/32
        case (0x20, 0x02):
            return isPrivate(ipv4: Array(bytes[2...5]))  // 6to4 2002:a.b.c.d::/48
        case (0xfc...0xfd, _):
            return true  // unique local fc00::/7
        case (0xfe, 0x80...0xff):
            return true  // link-local fe80::/10, site-local fec0::/10
        case (0xff, _):
            return true  // multicast
        default:
            return false
        }
    }

    /// A URL host written as an address literal, in any form the resolver accepts: `127.0.0.1`,
    /// `2130706433`, `0x7f000001`, `0177.0.0.1`, `[::ffff:127.0.0.1]`. Returns whether it is
    /// private; nil when the host is a name, not a literal.
    public static func literalIsPrivate(host: String) -> Bool? {
        if host.hasPrefix("[") && host.hasSuffix("]") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, String(host.dropFirst().dropLast()), &address) == 1 else { return true }
            return isPrivate(ipv6: withUnsafeBytes(of: &address) { Array($0) })
        }
        // inet_aton takes every legacy IPv4 form (decimal, hex, octal, short), as getaddrinfo does.
        var address = in_addr()
        guard inet_aton(host, &address) != 0 else { return nil }
        return isPrivate(ipv4: withUnsafeBytes(of: &address) { Array($0) })
    }
}
