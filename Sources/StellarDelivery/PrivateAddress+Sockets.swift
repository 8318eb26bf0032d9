import FoundationEssentials
import Glibc
import WebhooksCore

/// The helper's half of `PrivateAddress`: the socket addresses libcurl is about to connect to.
extension PrivateAddress {
    /// For a socket address about to be connected: is it in one of the refused ranges?
    static func isPrivate(_ address: UnsafePointer<sockaddr>) -> Bool {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                var raw = $0.pointee.sin_addr
                return isPrivate(ipv4: withUnsafeBytes(of: &raw) { Array($0) })
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                var raw = $0.pointee.sin6_addr
                return isPrivate(ipv6: withUnsafeBytes(of: &raw) { Array($0) })
            }
        default:
            return true
        }
    }

    /// "127.0.0.1" or "::1", for error messages.
    static func describe(_ address: UnsafePointer<sockaddr>) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                var raw = $0.pointee.sin_addr
                _ = inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count))
            }
        case AF_INET6:
            address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                var raw = $0.pointee.sin6_addr
                _ = inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
            }
        default:
            return "an address of family \(address.pointee.sa_family)"
        }
        return String(cString: buffer)
    }
}
