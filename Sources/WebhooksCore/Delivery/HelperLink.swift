import Foundation

/// How workers and the CLI reach the delivery helper: a unix stream socket at
/// `data_dir/deliver.sock`, one line per connection.
///
///     wake\n            new deliveries are in the outbox (no answer)
///     send {id}\n       send this pending delivery now; the helper answers "done\n" once it
///                       is recorded as sent or failed
///
/// The outbox stays the source of truth: if the helper is down, a wake is simply lost and its
/// timer finds the work anyway.
public protocol DeliveryDispatch: Sendable {
    /// New deliveries are queued. Best effort.
    func wake()
    /// Waits until the helper has finished with a queued delivery; false if it did not say so
    /// before `timeout` (the delivery then stays queued).
    func sendNow(deliveryId: String, timeout: TimeInterval) -> Bool
}

public struct HelperLink: DeliveryDispatch {
    public let socketPath: String

    public init(dataDir: String) {
        socketPath = Self.socketPath(dataDir: dataDir)
    }

    public static func socketPath(dataDir: String) -> String { "\(dataDir)/deliver.sock" }

    public func wake() {
        guard let fd = connectToHelper() else { return }
        _ = Self.writeLine("wake", to: fd)
        close(fd)
    }

    public func sendNow(deliveryId: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        // The helper may be restarting: try again until the deadline.
        while Date() < deadline {
            if let fd = connectToHelper() {
                defer { close(fd) }
                if Self.writeLine("send \(deliveryId)", to: fd),
                    Self.readLine(from: fd, until: deadline) == "done"
                {
                    return true
                }
            }
            usleep(100_000)
        }
        return false
    }

    private func connectToHelper() -> Int32? {
        let fd = UnixSocket.open()
        guard fd >= 0 else { return nil }
        guard UnixSocket.withAddress(socketPath, { connect(fd, $0, $1) }) == 0 else {
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
        while line.count < 256 {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            guard poll(&poller, 1, milliseconds) > 0, recv(fd, &byte, 1, 0) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return nil
    }
}
