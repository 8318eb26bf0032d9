import CSystem
import FoundationEssentials
import Glibc
import WebhooksCore

/// The FastCGI listening socket: handed over by systemd's socket activation (`LISTEN_FDS`, fd 3)
/// or as fd 0 (spawn-fcgi, mod_fcgid, systemd `StandardInput=socket`), else a unix socket the
/// master creates with the configured mode and group, or a TCP listener. A socket handed over
/// belongs to whoever made it: it is never unlinked, chmodded or bound again.
public enum ListenSocket {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A listening socket handed over, and by whom.
    public struct Inherited {
        public var fd: Int32
        /// "systemd" or "fd 0".
        public var from: String
    }

    /// systemd's first socket (sd_listen_fds(3): `LISTEN_PID` is this process, `LISTEN_FDS` ≥ 1,
    /// the sockets from fd 3 on), else fd 0 when it is a listening socket. systemd's variables are
    /// taken out of the environment and its sockets marked close-on-exec: a worker gets the socket
    /// as its fd 0, and the delivery helper none.
    public static func inherited() -> Inherited? {
        let pid = getenv("LISTEN_PID").flatMap { Int32(String(cString: $0)) }
        let count = getenv("LISTEN_FDS").flatMap { Int32(String(cString: $0)) } ?? 0
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        if pid == getpid(), count >= 1 {
            for fd in 3..<(3 + count) { _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC) }
            if isListening(3) { return Inherited(fd: 3, from: "systemd") }
        }
        return isListening(0) ? Inherited(fd: 0, from: "fd 0") : nil
    }

    private static func isListening(_ fd: Int32) -> Bool {
        var accepting: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) == 0 && accepting == 1
    }

    /// What `fd` listens on: a path, or HOST:PORT.
    public static func name(of fd: Int32) -> String {
        var text = [CChar](repeating: 0, count: 256)
        guard stellar_socket_name(fd, &text, text.count) == 0 else { return "fd \(fd)" }
        return String(cString: text)
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
