import FoundationEssentials
import Glibc
import Logging

/// What every handler gets: the store, the configuration, the way to the delivery helper, the
/// host's scoreboard (none in unit tests that do not look at it) and the current time (passed in,
/// so handlers never read a clock).
public struct HandlerContext {
    public let store: Store
    public let config: Config
    public let dispatch: DeliveryDispatch
    public let scoreboard: Scoreboard?
    /// Seals and opens webhooks' signing secrets.
    public let secrets: SecretBox
    public let now: Date

    public var timestamp: String { Timestamp.format(now) }
}

/// The request pipeline: route → authenticate → authorise → read the body → handler. Errors of
/// ours become a 500 whose cause is logged, never shown.
public struct App {
    public let config: Config
    public let store: Store
    let dispatch: DeliveryDispatch
    public let scoreboard: Scoreboard?
    let verifier: KeyVerifier
    let secrets: SecretBox
    let logger: Logger

    public init(
        config: Config, store: Store, secret: [UInt8], dispatch: DeliveryDispatch, scoreboard: Scoreboard? = nil,
        logger: Logger
    ) {
        self.config = config
        self.store = store
        self.dispatch = dispatch
        self.scoreboard = scoreboard
        self.verifier = KeyVerifier(secret: secret, store: store)
        self.secrets = SecretBox(serverSecret: secret)
        self.logger = logger
    }

    /// The answer, and the route that gave it (its place in `Router.routes`; nil when none
    /// matched), which the worker counts it under.
    public func handle(_ request: Request, now: Date) -> (response: Response, route: Int?) {
        switch Router.match(method: request.method, path: request.path) {
        case .notFound:
            return (.error(404, "Not found"), nil)
        case .methodNotAllowed(let allowed):
            return (.error(405, "Method not allowed", headers: [("Allow", allowed.joined(separator: ", "))]), nil)
        case .found(let route, let index, let parameters):
            return (respond(request, route: route, parameters: parameters, now: now), index)
        }
    }

    private func respond(_ request: Request, route: Route, parameters: [String: String], now: Date) -> Response {
        do {
            return try call(route, parameters: parameters, request, now: now)
        } catch let failure as StorageFailure where failure.isStorageUnavailable {
            logger.error(
                "storage unavailable",
                metadata: ["method": "\(request.method)", "path": "\(request.path)", "cause": "\(failure)"])
            return Self.storageUnavailable
        } catch {
            logger.error(
                "request failed",
                metadata: ["method": "\(request.method)", "path": "\(request.path)", "cause": "\(error)"])
            return .error(500, "Internal server error")
        }
    }

    /// The disk is full or failing, or the database is down: nothing was changed, and the client
    /// may try again.
    static let storageUnavailable = Response.error(503, "Storage unavailable", headers: [("Retry-After", "5")])

    private func call(_ route: Route, parameters: [String: String], _ request: Request, now: Date) throws -> Response {
        var caller = ""
        if route.keyKind != .none {
            guard
                let principal = try verifier.principal(
                    forAuthorization: request.headers["authorization"], readAhead: route.readAhead)
            else {
                return .error(401, "Unauthorized", headers: [("WWW-Authenticate", "Bearer")])
            }
            switch (principal, route.keyKind) {
            case (.user(let userId), .user): caller = userId
            case (.service(let name), .service): caller = name
            default: return .error(403, "Forbidden")
            }
        }

        var body = JSONValue.null
        if route.takesBody {
            if request.body.count > config.maxBodyBytes {
                return .error(413, "Request body too large")
            }
            let contentType = request.headers["content-type"]?.lowercased() ?? ""
            guard contentType.split(separator: ";").first?.trimmed == "application/json" else {
                return .error(415, "Content-Type must be application/json")
            }
            guard let parsed = JSONValue.parse(request.body), case .object = parsed else {
                return .error(400, "Invalid JSON body")
            }
            body = parsed
        }

        let context = HandlerContext(
            store: store, config: config, dispatch: dispatch, scoreboard: scoreboard, secrets: secrets, now: now)
        return try route.handler(
            RouteCall(parameters: parameters, request: request, body: body, caller: caller, context: context))
    }
}
