/// Where a request goes: every route of the API, each declared once with its method, path, the
/// kind of key that may call it, whether it takes a JSON body, and its handler. A path that
/// matches with the wrong method is a 405 listing the allowed ones; anything else is a 404.
/// A route's place in the table is its number in the metrics (`Scoreboard`).
public enum Router {
    public static let routes: [Route] = [
        Route("GET", "/webhooks/events", .user) { _ in WebhookHandlers.listEvents() },
        Route("GET", "/webhooks", .user, readAhead: .webhookList) { try $0.webhooks.list() },
        Route("POST", "/webhooks", .user, body: true) { try $0.webhooks.create($0.body) },
        Route("GET", "/webhooks/:id", .user) { try $0.webhooks.get($0["id"]) },
        Route("PATCH", "/webhooks/:id", .user, body: true) { try $0.webhooks.update($0["id"], $0.body) },
        Route("DELETE", "/webhooks/:id", .user) { try $0.webhooks.delete($0["id"]) },
        Route("GET", "/webhooks/:id/deliveries", .user) {
            try $0.webhooks.deliveries($0["id"], query: $0.request.query)
        },
        Route("GET", "/webhooks/:id/deliveries/:deliveryId", .user) {
            try $0.webhooks.delivery($0["id"], $0["deliveryId"])
        },
        Route("POST", "/webhooks/:id/deliveries/:deliveryId/retry", .user) {
            try $0.webhooks.retry($0["id"], $0["deliveryId"])
        },
        Route("POST", "/webhooks/:id/test", .user) { try $0.webhooks.test($0["id"]) },
        Route("GET", "/webhooks/:id/secret", .user) { try $0.webhooks.secret($0["id"]) },
        Route("POST", "/webhooks/:id/secret/rotate", .user) { try $0.webhooks.rotateSecret($0["id"]) },
        Route("POST", "/webhooks/:id/recover", .user, body: true) { try $0.webhooks.recover($0["id"], $0.body) },
        Route("PUT", "/servers/:id", .service, body: true) { try $0.service.putServer($0["id"], $0.body) },
        Route("DELETE", "/servers/:id", .service) { try $0.service.deleteServer($0["id"]) },
        Route("POST", "/events", .service, body: true) {
            try $0.service.postEvent($0.body, idempotencyKey: $0.request.headers["idempotency-key"], service: $0.caller)
        },
        Route("GET", "/metrics", .none) { try MonitoringHandlers.metrics($0.context) },
    ]

    public enum Match {
        /// `index`: the route's place in `routes`.
        case found(Route, index: Int, parameters: [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    /// A literal segment beats a parameter: `/webhooks/events` is not webhook `events`.
    public static func match(method: String, path: String) -> Match {
        let segments = path.split(separator: "/")
        var specificity = -1  // of the most specific routes that fit
        var found: (route: Route, index: Int)?
        for (index, route) in routes.enumerated() where route.fits(segments) {
            if route.literalCount > specificity { (specificity, found) = (route.literalCount, nil) }
            if route.literalCount == specificity, found == nil, route.method == method { found = (route, index) }
        }
        guard specificity >= 0 else { return .notFound }
        guard let (found, index) = found else {
            let fitting = routes.filter { $0.literalCount == specificity && $0.fits(segments) }
            return .methodNotAllowed(allowed: fitting.map(\.method).sorted())
        }
        return .found(found, index: index, parameters: found.parameters(for: segments))
    }
}

/// The kind of API key a route is for; `none` for a route that takes no key (`GET /metrics`,
/// which the shipped web-server snippets let only loopback reach).
public enum KeyKind: Sendable {
    case user, service, none
}

/// One route: method, path pattern (`:name` segments are parameters), who may call it, whether
/// it takes a JSON body, what the store may read ahead with its key, and the handler.
public struct Route: Sendable {
    public let method: String
    public let path: String
    public let keyKind: KeyKind
    public let takesBody: Bool
    /// What its handler reads first after the key, which the store may fetch with it.
    public let readAhead: ReadAhead
    let handler: @Sendable (RouteCall) throws -> Response
    private let pattern: [Segment]
    /// How specific the pattern is: a literal segment beats a parameter.
    let literalCount: Int

    private enum Segment {
        case literal(Substring)
        case parameter(name: String)
    }

    init(
        _ method: String, _ path: String, _ keyKind: KeyKind, body: Bool = false, readAhead: ReadAhead = .nothing,
        _ handler: @escaping @Sendable (RouteCall) throws -> Response
    ) {
        self.method = method
        self.path = path
        self.keyKind = keyKind
        self.takesBody = body
        self.readAhead = readAhead
        self.handler = handler
        self.pattern = path.split(separator: "/").map {
            $0.hasPrefix(":") ? .parameter(name: String($0.dropFirst())) : .literal($0)
        }
        self.literalCount = pattern.filter { if case .literal = $0 { true } else { false } }.count
    }

    func fits(_ segments: [Substring]) -> Bool {
        segments.count == pattern.count
            && !zip(pattern, segments).contains { part, segment in
                if case .literal(let literal) = part { literal != segment } else { false }
            }
    }

    /// The `:name` parameters of `segments`, which fit the pattern.
    func parameters(for segments: [Substring]) -> [String: String] {
        var parameters: [String: String] = [:]
        for (part, segment) in zip(pattern, segments) {
            if case .parameter(let name) = part { parameters[name] = String(segment) }
        }
        return parameters
    }
}

/// What a handler gets from the pipeline: the path parameters, the request, its parsed body, the
/// caller (a user id or a service name, by the route's kind of key) and the context.
struct RouteCall {
    let parameters: [String: String]
    let request: Request
    let body: JSONValue
    let caller: String
    let context: HandlerContext

    /// A `:name` parameter of the route's pattern. A handler that reads one its pattern lacks is
    /// a mistake in the table, which APITests.testEveryRouteReadsOnlyItsPatternsParameters catches.
    subscript(name: String) -> String {
        guard let value = parameters[name] else { preconditionFailure("the route's pattern has no :\(name)") }
        return value
    }

    var webhooks: WebhookHandlers { WebhookHandlers(context: context, userId: caller) }
    var service: ServiceHandlers { ServiceHandlers(context: context) }
}
