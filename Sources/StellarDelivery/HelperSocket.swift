import Foundation
import WebhooksCore

/// The helper's end of `HelperLink`: a non-blocking unix socket whose clients send one line.
final class HelperSocket {
    enum Command: Equatable {
        case wake
        /// Send this delivery now and answer the client `done` when it is finished.
        case send(deliveryId: String, client: Int32)
    }

    let fd: Int32
    private let path: String
    /// Connected clients: what each has sent so far, and since when it is connected.
    private var clients: [Int32: (line: [UInt8], since: Date)] = [:]
    /// A client gets this long to send its line.
    static let lineTimeout: TimeInterval = 5

    /// Listens at `path`, replacing a stale socket (the caller holds the helper lock, so no other
    /// helper is using it). Mode 0600: only the service's own user may connect.
    init(path: String) throws {
        self.path = path
        unlink(path)
        fd = UnixSocket.open(nonBlocking: true)
        guard fd >= 0 else { throw HelperError(description: "socket: \(String(cString: strerror(errno)))") }
        let previous = umask(0o177)
        let bound = UnixSocket.withAddress(path, { bind(fd, $0, $1) })
        umask(previous)
        guard bound == 0, listen(fd, 128) == 0 else {
            throw HelperError(description: "cannot listen on \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Stops listening and removes the socket file. Called before the helper lock is released,
    /// so it can never remove a successor's socket.
    func shutdown() {
        for client in clients.keys { close(client) }
        clients.removeAll()
        close(fd)
        unlink(path)
    }

    /// Descriptors to watch for input: the listening socket and every client.
    var watched: [Int32] { [fd] + clients.keys }

    /// Accepts new clients and reads from the ready ones; returns the complete commands.
    func commands(ready: Set<Int32>) -> [Command] {
        if ready.contains(fd) { acceptAll() }
        var commands: [Command] = []
        for client in ready where client != fd && clients[client] != nil {
            var chunk = [UInt8](repeating: 0, count: 256)
            let got = recv(client, &chunk, chunk.count, Int32(MSG_DONTWAIT))
            if got <= 0 {
                if got == 0 || (errno != EAGAIN && errno != EINTR) { drop(client) }
                continue
            }
            clients[client]!.line += chunk[0..<got]
            let received = clients[client]!.line
            guard let newline = received.firstIndex(of: UInt8(ascii: "\n")) else {
                if received.count > 256 { drop(client) }
                continue
            }
            let line = String(decoding: received[..<newline], as: UTF8.self)
            clients.removeValue(forKey: client)  // one line per connection
            let words = line.split(separator: " ")
            if words.count == 2, words[0] == "send", Identifier.isUUID(String(words[1])) {
                commands.append(.send(deliveryId: String(words[1]), client: client))
            } else {
                if words == ["wake"] { commands.append(.wake) }
                close(client)
            }
        }
        return commands
    }

    /// Tells a `send` client its delivery is finished.
    func answerDone(_ client: Int32) {
        _ = "done\n".utf8CString.withUnsafeBytes { send(client, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        close(client)
    }

    private func acceptAll() {
        while true {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            _ = fcntl(client, F_SETFL, O_NONBLOCK)
            clients[client] = ([], Date())
        }
    }

    /// Hangs up on clients that connected but have not sent their line in time.
    func dropSilentClients(now: Date) {
        for (client, state) in clients where now.timeIntervalSince(state.since) > Self.lineTimeout {
            drop(client)
        }
    }

    private func drop(_ client: Int32) {
        clients.removeValue(forKey: client)
        close(client)
    }
}
