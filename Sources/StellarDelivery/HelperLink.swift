import CSystem
import FoundationEssentials
import Glibc
import WebhooksCore

/// How workers and the CLI reach the delivery helper: one `HelperCommand` line per connection to
/// `data_dir/deliver.sock`.
public struct HelperLink: DeliveryDispatch {
    public let socketPath: String

    public init(dataDir: String) {
        socketPath = StoreLayout(root: dataDir).helperSocket
    }

    public func wake() {
        guard let fd = connectToHelper() else { return }
        _ = Self.writeLine(HelperCommand.wake.line, to: fd)
        close(fd)
    }

    public func sendNow(deliveryId: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        // The helper may be restarting: try again until the deadline.
        while Date() < deadline {
            if let fd = connectToHelper() {
                defer { close(fd) }
                if Self.writeLine(HelperCommand.send(deliveryId: deliveryId).line, to: fd),
                    Self.readLine(from: fd, until: deadline) == HelperCommand.doneLine
                {
                    return true
                }
            }
            usleep(100_000)
        }
        return false
    }

    private func connectToHelper() -> Int32? {
        let fd = stellar_unix_socket(0)
        guard fd >= 0 else { return nil }
        guard stellar_unix_connect(fd, socketPath) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    static func writeLine(_ line: String, to fd: Int32) -> Bool {
        let bytes = Array((line + "\n").utf8)
        return bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// One line, without its newline; nil on EOF, error or deadline.
    static func readLine(from fd: Int32, until deadline: Date) -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < HelperCommand.maxLineLength {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            guard poll(&poller, 1, milliseconds) > 0, recv(fd, &byte, 1, 0) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return nil
    }
}
