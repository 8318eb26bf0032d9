import CSystem
import FoundationEssentials
import Glibc
import WebhooksCore

/// The FastCGI listening socket: inherited as fd 0 (spawn-fcgi, systemd `StandardInput=socket`),
/// a unix socket the master creates with the configured mode and group, or a TCP listener.
public enum ListenSocket {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// True when fd 0 is already a listening socket handed to us.
    public static var inheritedOnStandardInput: Bool {
        var accepting: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) == 0 && accepting == 1
    }

    /// Creates, binds and listens on the configured address; returns its fd (close-on-exec).
    public static func open(_ address: ListenAddress, mode: UInt32, group: String?) throws -> Int32 {
        switch address {
        case .unix(let path):
            return try open(path: path, mode: mode, group: group)
        case .tcp(let host, let port):
            var resolveError: Int32 = 0
            let fd = stellar_tcp_listen(host, String(port), 1024, &resolveError)
            if fd == -2 {
                throw Failure(description: "socket \(host):\(port): \(String(cString: gai_strerror(resolveError)))")
            }
            guard fd >= 0 else { throw failure("listen on", "\(host):\(port)") }
            return fd
        }
    }

    /// Creates, binds and listens on a unix socket at `path`; returns its fd (close-on-exec).
    static func open(path: String, mode: UInt32, group: String?) throws -> Int32 {
        try removeStale(path)
        let fd = stellar_unix_socket(0)
        guard fd >= 0 else { throw failure("socket", path) }
        guard stellar_unix_bind(fd, path) == 0 else {
            close(fd)
            throw failure("bind", path)
        }
        if let group {
            guard let entry = getgrnam(group) else {
                close(fd)
                throw Failure(description: "socket_group \(group): no such group")
            }
            guard chown(path, uid_t.max, entry.pointee.gr_gid) == 0 else {
                close(fd)
                throw failure("chown", path)
            }
        }
        guard chmod(path, mode_t(mode)) == 0, listen(fd, 1024) == 0 else {
            close(fd)
            throw failure("listen", path)
        }
        return fd
    }

    /// A socket file left by a dead master is removed; a live one (something accepts on it) is an
    /// error, so two services never fight over one path.
    private static func removeStale(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw Failure(description: "\(path) exists and is not a socket")
        }
        let probe = stellar_unix_socket(0)
        defer { close(probe) }
        if stellar_unix_connect(probe, path) == 0 {
            throw Failure(description: "\(path) is in use by another running service")
        }
        unlink(path)
    }

    private static func failure(_ operation: String, _ path: String) -> Failure {
        Failure(description: "\(operation) \(path): \(String(cString: strerror(errno)))")
    }
}
