/// The service endpoints, for service keys only: the panel keeps servers in sync and
/// posts events.
struct ServiceHandlers {
    let context: HandlerContext

    private var store: Store { context.store }

    func putServer(_ id: String, _ body: JSONValue) throws -> Response {
        var validation = Validation()
        if !Identifier.isExternalID(id) {
            validation.fail("id", code: "invalid_string", "Server id must be \(Identifier.externalIDRule)")
        }
        let name = validation.requiredString("name", in: body, maxLength: 256)
        let ownerId = validation.requiredString("ownerId", in: body, maxLength: 128)
        if let ownerId, !Identifier.isExternalID(ownerId) {
            validation.fail("ownerId", code: "invalid_string", "User id must be \(Identifier.externalIDRule)")
        }
        var status: String?
        if case .value(let text) = validation.field("status", in: body, .string, nullable: true) { status = text }
        // A missing field is an issue, so all are here when there is none.
        guard validation.isEmpty, let name, let ownerId else { return validation.response(extras: [:]) }
        let server = try store.putServer(id: id, name: name, ownerId: ownerId, status: status, now: context.timestamp)
        return .json(200, Rendering.server(server))
    }

    func deleteServer(_ id: String) throws -> Response {
        guard Identifier.isExternalID(id), try store.removeServer(id: id) else {
            return .error(404, "Server not found")
        }
        return .json(200, .object(["success": .bool(true)]))
    }

    func postEvent(_ body: JSONValue, idempotencyKey: String?, service: String) throws -> Response {
        var validation = Validation()
        let eventName = validation.requiredString("event", in: body, maxLength: 128)
        let serverId = validation.requiredString("serverId", in: body, maxLength: 128)
        var data: [String: JSONValue] = [:]
        if case .value(let members) = validation.field("data", in: body, .object, nullable: true) { data = members }
        guard validation.isEmpty, let eventName, let serverId else { return validation.response(extras: [:]) }
        guard let event = EventCatalogue.canonical(eventName) else {
            return .error(400, "Invalid events", extras: ["invalidEvents": .array([.string(eventName)])])
        }

        let emit = { () throws -> StoredAnswer in
            guard Identifier.isExternalID(serverId), let server = try store.server(id: serverId) else {
                return StoredAnswer(
                    status: 404, body: .object(["error": .string("Server not found")]), createdAt: context.timestamp)
            }
            let emitted = try EventEmitter(store: store).emit(event, server: server, data: data, now: context.now)
            if emitted.deliveries > 0 { context.dispatch.wake() }
            context.scoreboard?.eventReceived(event)
            return StoredAnswer(
                status: 202,
                body: .object([
                    "id": .string(emitted.eventId), "event": .string(event), "deliveries": .int(emitted.deliveries),
                ]),
                createdAt: context.timestamp)
        }
        var replayed = idempotencyKey != nil
        let answer =
            try idempotencyKey.map {
                try store.idempotent(scope: service, key: $0, now: context.now) {
                    replayed = false
                    return try emit()
                }
            } ?? emit()
        // Stripe's header: a client can tell the first answer from its replay.
        return .json(answer.status, answer.body, headers: replayed ? [("Idempotent-Replayed", "true")] : [])
    }
}
