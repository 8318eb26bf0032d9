import CFastCGI
import CPages
import CReadWatchdog
import CSystem
import FoundationEssentials
import Glibc
import Logging
import WebhooksCore

/// A worker process: libfcgi's accept loop, one request at a time, on the listening socket the
/// master handed over as fd 0 (the FastCGI convention).
public struct FastCGIWorker {
    let app: App
    let maxRequests: Int
    let logger: Logger

    public init(app: App, maxRequests: Int, logger: Logger) {
        self.app = app
        self.maxRequests = maxRequests
        self.logger = logger
    }

    /// Serves until SIGTERM or `maxRequests`; the request in hand always finishes first.
    public func run() {
        // libfcgi reads it in FCGX_Init and refuses TCP connections from anyone else (unix
        // sockets are governed by their file mode instead).
        setenv("FCGI_WEB_SERVER_ADDRS", app.config.allowedClients.joined(separator: ","), 1)
        guard FCGX_Init() == 0 else {
            logger.critical("FCGX_Init failed")
            return
        }
        WorkerSignals.install()
        // libfcgi's streams point back into the request, so it lives at one fixed heap address.
        let request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { request.deallocate() }
        FCGX_InitRequest(request, 0, FCGI_FAIL_ACCEPT_ON_INTR)
        // Idle workers wait in a blocking accept(): the kernel wakes one of them a connection.
        _ = fcntl(0, F_SETFL, fcntl(0, F_GETFL) & ~O_NONBLOCK)
        if let failure = ReadWatchdog.start(watching: request) {
            logger.critical("the read watchdog did not start", metadata: ["errno": "\(failure)"])
            return
        }

        let onUnixSocket = Self.listensOnUnixSocket()

        // Idle or busy on the host's scoreboard, and every answer counted there.
        let board = app.scoreboard
        let slot = board?.claimWorkerSlot(pid: getpid())
        var served = 0
        var pageDrops = stellar_page_drops()
        while served < maxRequests && !WorkerSignals.stopRequested {
            ReadWatchdog.reading()
            let accepted = FCGX_Accept_r(request)
            if accepted < 0 {
                ReadWatchdog.done()
                // SIGTERM interrupted the wait.
                if accepted == -EINTR && !WorkerSignals.stopRequested { continue }
                if !WorkerSignals.stopRequested {
                    logger.error("FCGX_Accept_r failed", metadata: ["code": "\(accepted)"])
                }
                break
            }
            let started = Self.monotonicSeconds()
            slot?.busy()
            let read = FastCGIRequestReader.read(
                request.pointee, maxBodyBytes: app.config.maxBodyBytes, cutOff: ReadWatchdog.cutOff)
            // Closing at once needs the whole request read, up to the empty record that ends its
            // stdin: nginx sends it with the params, Apache in a write of its own, which fails
            // (and Apache answers 503) when the connection is already closed.
            let closeAtOnce =
                onUnixSocket && read.isRequest && FastCGIRequestReader.readToEnd(request.pointee.in)
            ReadWatchdog.done()
            let (response, route) = respond(to: read)
            FastCGIResponseWriter.write(response, to: request.pointee.out)
            // Counted before the answer leaves (it is flushed by FCGX_Finish_r): a client that
            // reads the metrics after its answer finds it counted.
            board?.requestAnswered(route: route, status: response.status, seconds: Self.monotonicSeconds() - started)
            // libfcgi closes a connection by shutting down its sending side and waiting until the
            // web server closes its own (a poll, a read and a context switch a request), so that
            // no unread byte makes the connection reset before the answer is read. With the whole
            // request read, a unix socket has none: the answer stays queued for the web server.
            if closeAtOnce { _ = FCGX_Detach(request) }
            FCGX_Finish_r(request)
            slot?.idle()
            served += 1
            // What start-up and first uses touched (a library loaded for this request included),
            // and each minute what the worker ran since, stops counting in its memory; what
            // requests run comes back (stellar_pages.h).
            stellar_drop_read_only_pages(&pageDrops, 60)
        }
        FCGX_Free(request, 1)
        logger.info(
            "worker exiting",
            metadata: ["served": "\(served)", "reason": "\(WorkerSignals.stopRequested ? "SIGTERM" : "max_requests")"])
    }

    /// Whether the listening socket (fd 0) is a unix socket rather than TCP (several hosts).
    private static func listensOnUnixSocket() -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(0, $0, &length) }
        }
        return named == 0 && address.ss_family == sa_family_t(AF_UNIX)
    }

    /// The answer, and the route it came from (nil: none, or the request was not read whole).
    private func respond(to read: FastCGIRequestReader.Outcome) -> (Response, Int?) {
        switch read {
        case .tooLarge:
            return (.error(413, "Request body too large"), nil)
        case .timedOut:
            return (.error(408, "Request timeout"), nil)
        case .unreadable(let reason):
            return (.error(400, reason), nil)
        case .request(let value):
            return app.handle(value, now: Date())
        }
    }

    private static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// Cuts off a connection that has been read for more than `seconds` (stellar_read_watchdog.h):
/// libfcgi then takes what it read of the params for all of them, and the reader answers 408.
enum ReadWatchdog {
    static let seconds: Int32 = 5

    /// Watches the connection libfcgi reads `request` from; nil, or the errno it failed with.
    static func start(watching request: UnsafePointer<FCGX_Request>) -> Int32? {
        let status = stellar_read_watchdog_start(request, seconds)
        return status == 0 ? nil : status
    }

    static func reading() { stellar_read_watchdog_reading() }
    static func done() { stellar_read_watchdog_done() }
    static var cutOff: Bool { stellar_read_watchdog_cut() != 0 }
}

/// SIGTERM handling for workers: a sigaction handler (no SA_RESTART) so a blocked accept returns
/// EINTR, plus libfcgi's own shutdown flag. A DispatchSource would not interrupt the accept.
enum WorkerSignals {
    nonisolated(unsafe) private static var stopFlag: sig_atomic_t = 0

    static var stopRequested: Bool { stopFlag != 0 }

    static func install() {
        // A master killed outright must not leave workers serving: they get SIGTERM too.
        _ = stellar_set_parent_death_signal(SIGTERM)

        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            WorkerSignals.stopFlag = 1
            FCGX_ShutdownPending()
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGTERM, &action, nil)
        sigaction(SIGINT, &action, nil)

        signal(SIGPIPE, SIG_IGN)  // nginx closing early must not kill the worker
    }
}
