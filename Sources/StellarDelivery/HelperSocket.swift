import CSystem
import FoundationEssentials
import Glibc
import WebhooksCore

/// The helper's end of `HelperLink`: a non-blocking unix socket whose clients send one
/// `HelperCommand` line.
final class HelperSocket {
    /// A command, and for a `send` the client waiting for `done` (a `wake` needs no answer).
    struct Received: Equatable {
        var command: HelperCommand
        var waitingClient: Int32?
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
        fd = stellar_unix_socket(1)
        guard fd >= 0 else { throw HelperError(description: "socket: \(String(cString: strerror(errno)))") }
        let previous = umask(0o177)
        let bound = stellar_unix_bind(fd, path)
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
    func commands(ready: Set<Int32>) -> [Received] {
        if ready.contains(fd) { acceptAll() }
        var commands: [Received] = []
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
                if received.count > HelperCommand.maxLineLength { drop(client) }
                continue
            }
            let line = String(decoding: received[..<newline], as: UTF8.self)
            clients.removeValue(forKey: client)  // one line per connection
            switch HelperCommand(line: line) {
            case .send(let deliveryId)?:
                commands.append(Received(command: .send(deliveryId: deliveryId), waitingClient: client))
            case .wake?:
                commands.append(Received(command: .wake, waitingClient: nil))
                close(client)
            case nil:
                close(client)
            }
        }
        return commands
    }

    /// Tells a `send` client its delivery is finished.
    func answerDone(_ client: Int32) {
        let line = Array((HelperCommand.doneLine + "\n").utf8)
        _ = line.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
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
