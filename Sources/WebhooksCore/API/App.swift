import Foundation
import Logging

/// What every handler gets: the store, the configuration, the way to the delivery helper and the
/// current time (passed in, so handlers never read a clock).
public struct HandlerContext {
    public let store: Store
    public let config: Config
    public let dispatch: DeliveryDispatch
    public let now: Date

    public var timestamp: String { Timestamp.format(now) }
}

/// The request pipeline: route → authenticate → authorise → read the body → handler. Errors of
/// ours become a 500 whose cause is logged, never shown.
public struct App {
    public let config: Config
    public let store: Store
    let dispatch: DeliveryDispatch
    let verifier: KeyVerifier
    let logger: Logger

    public init(config: Config, store: Store, secret: [UInt8], dispatch: DeliveryDispatch, logger: Logger) {
        self.config = config
        self.store = store
        self.dispatch = dispatch
        self.verifier = KeyVerifier(secret: secret, store: store)
        self.logger = logger
    }

    public func handle(_ request: Request, now: Date) -> Response {
        do {
            return try route(request, now: now)
        } catch let failure as FileSystem.Failure where failure.isStorageUnavailable {
            logger.error("storage unavailable", metadata: ["method": "\(request.method)", "path": "\(request.path)", "cause": "\(failure)"])
            return Self.storageUnavailable
        } catch {
            logger.error("request failed", metadata: ["method": "\(request.method)", "path": "\(request.path)", "cause": "\(error)"])
            return .error(500, "Internal server error")
        }
    }

    /// The disk is full or failing: nothing was changed, and the client may try again.
    static let storageUnavailable = Response.error(503, "Storage unavailable", headers: [("Retry-After", "5")])

    private func route(_ request: Request, now: Date) throws -> Response {
        let route: Route
        switch Router.match(method: request.method, path: request.path) {
        case .notFound:
            return .error(404, "Not found")
        case .methodNotAllowed(let allowed):
            return .error(405, "Method not allowed", headers: [("Allow", allowed.joined(separator: ", "))])
        case .found(let found):
            route = found
        }

        guard let principal = try verifier.principal(forAuthorization: request.headers["authorization"]) else {
            return .error(401, "Unauthorized", headers: [("WWW-Authenticate", "Bearer")])
        }
        guard principal.isService == route.isServiceRoute else {
            return .error(403, "Forbidden")
        }

        var body = JSONValue.null
        if route.takesBody {
            if request.body.count > config.maxBodyBytes {
                return .error(413, "Request body too large")
            }
            let contentType = request.headers["content-type"]?.lowercased() ?? ""
            guard contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) == "application/json" else {
                return .error(415, "Content-Type must be application/json")
            }
            guard let parsed = JSONValue.parse(request.body), case .object = parsed else {
                return .error(400, "Invalid JSON body")
            }
            body = parsed
        }

        let context = HandlerContext(store: store, config: config, dispatch: dispatch, now: now)
        switch principal {
        case .user(let userId):
            return try handleUserRoute(route, userId: userId, request: request, body: body, context: context)
        case .service(let service):
            return try handleServiceRoute(route, service: service, request: request, body: body, context: context)
        }
    }

    private func handleUserRoute(_ route: Route, userId: String, request: Request, body: JSONValue, context: HandlerContext) throws -> Response {
        let webhooks = WebhookHandlers(context: context, userId: userId)
        switch route {
        case .listEvents: return WebhookHandlers.listEvents()
        case .listWebhooks: return try webhooks.list()
        case .createWebhook: return try webhooks.create(body)
        case .getWebhook(let id): return try webhooks.get(id)
        case .updateWebhook(let id): return try webhooks.update(id, body)
        case .deleteWebhook(let id): return try webhooks.delete(id)
        case .listDeliveries(let id): return try webhooks.deliveries(id, query: request.query)
        case .getDelivery(let id, let deliveryId): return try webhooks.delivery(id, deliveryId)
        case .retryDelivery(let id, let deliveryId): return try webhooks.retry(id, deliveryId)
        case .testWebhook(let id): return try webhooks.test(id)
        case .putServer, .deleteServer, .postEvent: return .error(403, "Forbidden")
        }
    }

    private func handleServiceRoute(_ route: Route, service: String, request: Request, body: JSONValue, context: HandlerContext) throws -> Response {
        let handlers = ServiceHandlers(context: context)
        switch route {
        case .putServer(let id): return try handlers.putServer(id, body)
        case .deleteServer(let id): return try handlers.deleteServer(id)
        case .postEvent:
            return try handlers.postEvent(body, idempotencyKey: request.headers["idempotency-key"], service: service)
        default: return .error(403, "Forbidden")
        }
    }
}
