import CSystem
import FoundationEssentials
import Glibc

/// systemd's readiness protocol (sd_notify(3)) spoken directly, so no libsystemd is needed: one
/// datagram per change to the socket named by `$NOTIFY_SOCKET`, which the master takes out of the
/// environment so that no child speaks for it. Without that variable nothing is sent.
public struct SystemdNotifier {
    let socket: String?

    /// Takes `NOTIFY_SOCKET` from this process's environment.
    public static func fromEnvironment() -> SystemdNotifier {
        let socket = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        unsetenv("NOTIFY_SOCKET")
        return SystemdNotifier(socket: socket?.isEmpty == false ? socket : nil)
    }

    public var isActive: Bool { socket != nil }

    /// `READY=1`, `RELOADING=1`, `STOPPING=1`, `STATUS=…`: lines of one message.
    func send(_ lines: [String]) {
        guard let socket else { return }
        let message = lines.joined(separator: "\n")
        _ = stellar_notify(socket, message, message.utf8.count)
    }
}
