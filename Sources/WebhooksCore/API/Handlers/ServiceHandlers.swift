/// The service endpoints (design §5), for service keys only: the panel keeps servers in sync and
/// posts events.
struct ServiceHandlers {
    let context: HandlerContext

    private var store: Store { context.store }

    func putServer(_ id: String, _ body: JSONValue) throws -> Response {
        var validation = Validation()
        if !Identifier.isExternalID(id) {
            validation.fail("id", code: "invalid_string", "Server id must be 1-128 of A-Z a-z 0-9 . _ - (not starting with .)")
        }
        let name = requiredString("name", in: body, maxLength: 256, validation: &validation)
        let ownerId = requiredString("ownerId", in: body, maxLength: 128, validation: &validation)
        if let ownerId, !Identifier.isExternalID(ownerId) {
            validation.fail("ownerId", code: "invalid_string", "User id must be 1-128 of A-Z a-z 0-9 . _ - (not starting with .)")
        }
        var status: String?
        switch body["status"] {
        case nil, .null?: break
        case .string(let text)?: status = text
        case let other?: validation.wrongType("status", expected: "string", got: other)
        }
        if let failure = validation.response { return failure }
        let server = try store.putServer(id: id, name: name!, ownerId: ownerId!, status: status, now: context.timestamp)
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
        let eventName = requiredString("event", in: body, maxLength: 128, validation: &validation)
        let serverId = requiredString("serverId", in: body, maxLength: 128, validation: &validation)
        var data: [String: JSONValue] = [:]
        switch body["data"] {
        case nil, .null?: break
        case .object(let members)?: data = members
        case let other?: validation.wrongType("data", expected: "object", got: other)
        }
        if let failure = validation.response { return failure }
        guard let event = EventCatalogue.canonical(eventName!) else {
            return .error(400, "Invalid events", extras: ["invalidEvents": .array([.string(eventName!)])])
        }

        let emit = { () throws -> StoredAnswer in
            guard Identifier.isExternalID(serverId!), let server = try store.server(id: serverId!) else {
                return StoredAnswer(status: 404, body: .object(["error": .string("Server not found")]), createdAt: context.timestamp)
            }
            let emitted = try EventEmitter(store: store).emit(event, server: server, data: data, now: context.now)
            if emitted.deliveries > 0 { context.dispatch.wake() }
            return StoredAnswer(
                status: 202,
                body: .object(["id": .string(emitted.eventId), "event": .string(event), "deliveries": .int(emitted.deliveries)]),
                createdAt: context.timestamp)
        }
        let answer = try idempotencyKey.map {
            try store.idempotent(scope: service, key: $0, now: context.now, produce: emit)
        } ?? emit()
        return .json(answer.status, answer.body)
    }

    private func requiredString(_ field: String, in body: JSONValue, maxLength: Int, validation: inout Validation) -> String? {
        switch body[field] {
        case nil:
            validation.required(field)
        case .string(let text)?:
            if text.isEmpty {
                validation.fail(field, code: "too_small", "\(field) must not be empty")
            } else if text.count > maxLength {
                validation.fail(field, code: "too_big", "\(field) must be at most \(maxLength) characters")
            } else {
                return text
            }
        case let other?:
            validation.wrongType(field, expected: "string", got: other)
        }
        return nil
    }
}
