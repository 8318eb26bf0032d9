import CFastCGI
import CSystem
import Foundation
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
        guard FCGX_Init() == 0 else {
            logger.critical("FCGX_Init failed")
            return
        }
        WorkerSignals.install()
        // libfcgi's streams point back into the request, so it lives at one fixed heap address.
        let request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        defer { request.deallocate() }
        FCGX_InitRequest(request, 0, FCGI_FAIL_ACCEPT_ON_INTR)

        var served = 0
        while served < maxRequests && !WorkerSignals.stopRequested {
            let accepted = FCGX_Accept_r(request)
            if accepted < 0 {
                if !WorkerSignals.stopRequested {
                    logger.error("FCGX_Accept_r failed", metadata: ["code": "\(accepted)"])
                }
                break
            }
            let response = respond(to: request.pointee)
            FastCGIResponseWriter.write(response, to: request.pointee.out)
            FCGX_Finish_r(request)
            served += 1
        }
        FCGX_Free(request, 1)
        logger.info("worker exiting", metadata: ["served": "\(served)", "reason": "\(WorkerSignals.stopRequested ? "SIGTERM" : "max_requests")"])
    }

    private func respond(to request: FCGX_Request) -> Response {
        switch FastCGIRequestReader.read(request, maxBodyBytes: app.config.maxBodyBytes) {
        case .tooLarge:
            return .error(413, "Request body too large")
        case .unreadable(let reason):
            return .error(400, reason)
        case .request(let value):
            return app.handle(value, now: Date())
        }
    }
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
