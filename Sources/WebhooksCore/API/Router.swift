/// Where a request goes: every route of the API, matched on path segments. A matched path with the
/// wrong method is a 405 listing the allowed ones; anything else is a 404.
public enum Route: Equatable, Sendable {
    case listEvents
    case listWebhooks
    case createWebhook
    case getWebhook(id: String)
    case updateWebhook(id: String)
    case deleteWebhook(id: String)
    case listDeliveries(webhookId: String)
    case getDelivery(webhookId: String, deliveryId: String)
    case retryDelivery(webhookId: String, deliveryId: String)
    case testWebhook(id: String)
    case putServer(id: String)
    case deleteServer(id: String)
    case postEvent

    /// Which kind of key may call it (design §3, §5).
    public var isServiceRoute: Bool {
        switch self {
        case .putServer, .deleteServer, .postEvent: return true
        default: return false
        }
    }

    /// Routes that take a JSON body.
    public var takesBody: Bool {
        switch self {
        case .createWebhook, .updateWebhook, .putServer, .postEvent: return true
        default: return false
        }
    }
}

public enum RouteMatch: Equatable, Sendable {
    case found(Route)
    case methodNotAllowed(allowed: [String])
    case notFound
}

public enum Router {
    public static func match(method: String, path: String) -> RouteMatch {
        let segments = path.split(separator: "/").map(String.init)
        let methods: [String: Route]
        switch segments.count {
        case 2 where segments == ["webhooks", "events"]:
            methods = ["GET": .listEvents]
        case 1 where segments[0] == "webhooks":
            methods = ["GET": .listWebhooks, "POST": .createWebhook]
        case 2 where segments[0] == "webhooks":
            let id = segments[1]
            methods = ["GET": .getWebhook(id: id), "PATCH": .updateWebhook(id: id), "DELETE": .deleteWebhook(id: id)]
        case 3 where segments[0] == "webhooks" && segments[2] == "deliveries":
            methods = ["GET": .listDeliveries(webhookId: segments[1])]
        case 3 where segments[0] == "webhooks" && segments[2] == "test":
            methods = ["POST": .testWebhook(id: segments[1])]
        case 4 where segments[0] == "webhooks" && segments[2] == "deliveries":
            methods = ["GET": .getDelivery(webhookId: segments[1], deliveryId: segments[3])]
        case 5 where segments[0] == "webhooks" && segments[2] == "deliveries" && segments[4] == "retry":
            methods = ["POST": .retryDelivery(webhookId: segments[1], deliveryId: segments[3])]
        case 2 where segments[0] == "servers":
            methods = ["PUT": .putServer(id: segments[1]), "DELETE": .deleteServer(id: segments[1])]
        case 1 where segments[0] == "events":
            methods = ["POST": .postEvent]
        default:
            return .notFound
        }
        if let route = methods[method] { return .found(route) }
        return .methodNotAllowed(allowed: methods.keys.sorted())
    }
}
