/// The user endpoints under /webhooks (docs/architecture.md: "A request"). One user's view: every
/// lookup goes through that user's folder, so another user's webhook is simply not found.
struct WebhookHandlers {
    let context: HandlerContext
    let userId: String

    var store: Store { context.store }
    static let notFound = Response.error(404, "Webhook not found")

    static func listEvents() -> Response {
        .json(
            200,
            .object([
                "events": .array(EventCatalogue.all.map { .string($0) }),
                "categorized": .object(EventCatalogue.categorized.mapValues { .array($0.map { .string($0) }) }),
            ]))
    }

    func list() throws -> Response {
        let body = try store.webhookList(userId: userId) {
            let listed = try store.webhooksWithDeliveryCounts(userId: userId)
            return JSONValue.array(
                try listed.map {
                    .object(try Rendering.webhook($0.webhook, deliveryCount: $0.deliveries, store: store))
                }
            ).serialized()
        }
        return Response(status: 200, headers: [("Content-Type", Response.jsonContentType)], body: body)
    }

    func get(_ id: String) throws -> Response {
        guard let webhook = try store.webhook(userId: userId, id: id) else { return Self.notFound }
        var object = try Rendering.webhook(webhook, store: store)
        let recent = try store.deliveries(userId: userId, webhookId: id, offset: 0, limit: 10)
        object["deliveries"] = .array(recent.map(Rendering.deliverySummary))
        return .json(200, .object(object))
    }

    func create(_ body: JSONValue) throws -> Response {
        let input: NewWebhookInput
        switch NewWebhookInput.parse(body, config: context.config) {
        case .rejected(let response): return response
        case .valid(let parsed): input = parsed
        }
        if let serverId = input.serverId, !(try ownsServer(serverId)) { return Self.serverNotFound }
        var webhook = Webhook(
            id: Identifier.newUUID(), userId: userId, url: input.url, events: input.events,
            serverId: input.serverId, enabled: input.enabled, createdAt: context.timestamp)
        webhook.provider = input.provider.name
        webhook.mentions = input.mentions
        if input.threadPerServer { webhook.threadPerServer = true }
        if input.statusCard { webhook.statusCard = true }
        if input.statusCardOnly { webhook.statusCardOnly = true }
        webhook.collapse = input.collapse
        var shownSecret: String?
        if input.provider.signsRequests {
            (webhook.signing, shownSecret) = try SigningSecrets.generate(for: webhook.id, box: context.secrets)
        }
        let limit = context.config.maxWebhooksPerUser
        guard try store.createWebhook(webhook, limit: limit) else {
            return .error(400, "Webhook limit reached", extras: ["limit": .int(limit)])
        }
        var object = try Rendering.webhook(webhook, deliveryCount: 0, store: store)  // none yet
        if let shownSecret { object["secret"] = .string(shownSecret) }  // shown once here, and on request
        return .json(201, .object(object))
    }

    func update(_ id: String, _ body: JSONValue) throws -> Response {
        guard let current = try store.webhook(userId: userId, id: id) else { return Self.notFound }
        let input: WebhookInput
        switch WebhookInput.parse(body, current: current, config: context.config) {
        case .rejected(let response): return response
        case .valid(let parsed): input = parsed
        }
        if case .some(.some(let serverId)) = input.serverId, !(try ownsServer(serverId)) {
            return Self.serverNotFound
        }
        var shownSecret: String?
        let updated = try store.updateWebhook(userId: userId, id: id) { webhook in
            let url = webhook.url
            if let destination = input.destination {
                webhook.url = destination.url
                webhook.provider = destination.provider.name
                // A webhook that starts signing gets a secret; one that stops keeps none.
                if !destination.provider.signsRequests {
                    webhook.signing = nil
                } else if webhook.signing == nil {
                    (webhook.signing, shownSecret) = try SigningSecrets.generate(for: webhook.id, box: context.secrets)
                }
            }
            if let events = input.events { webhook.events = events }
            if let serverId = input.serverId { webhook.serverId = serverId }
            if let mentions = input.mentions { webhook.mentions = mentions }
            if let threadPerServer = input.threadPerServer { webhook.threadPerServer = threadPerServer ? true : nil }
            // Kept threads are the old forum's, and kept only while the option is on.
            if webhook.threadPerServer == nil || webhook.url != url { webhook.threads = nil }
            if let statusCard = input.statusCard.statusCard { webhook.statusCard = statusCard ? true : nil }
            if let only = input.statusCard.statusCardOnly { webhook.statusCardOnly = only ? true : nil }
            // Kept cards are messages of the old channel, and kept only while the option is on.
            if webhook.statusCard == nil || webhook.url != url { webhook.cards = nil }
            // Open windows are messages of the old channel, counted by the old option.
            if let collapse = input.collapse, collapse != webhook.collapse {
                webhook.collapse = collapse
                webhook.windows = nil
            }
            if webhook.collapse == nil || webhook.url != url { webhook.windows = nil }
            if let enabled = input.enabled {
                webhook.enabled = enabled
                // Re-enabling is the user's answer to a webhook we disabled.
                if enabled { webhook.disabledReason = nil }
            }
            webhook.updatedAt = context.timestamp
        }
        guard let updated else { return Self.notFound }
        var object = try Rendering.webhook(updated, store: store)
        if let shownSecret { object["secret"] = .string(shownSecret) }
        return .json(200, .object(object))
    }

    func delete(_ id: String) throws -> Response {
        guard try store.deleteWebhook(userId: userId, id: id) else { return Self.notFound }
        return .json(200, .object(["success": .bool(true)]))
    }

    func deliveries(_ id: String, query: [String: String]) throws -> Response {
        guard try store.webhook(userId: userId, id: id) != nil else { return Self.notFound }
        let page: Pagination
        switch Pagination.parse(query) {
        case .rejected(let response): return response
        case .valid(let parsed): page = parsed
        }
        let deliveries = try store.deliveries(userId: userId, webhookId: id, offset: page.offset, limit: page.limit)
        return .json(
            200,
            .object([
                "deliveries": .array(deliveries.map(Rendering.delivery)),
                "total": .int(try store.deliveryCount(userId: userId, webhookId: id)),
                "limit": .int(page.limit),
                "offset": .int(page.offset),
            ]))
    }

    func delivery(_ id: String, _ deliveryId: String) throws -> Response {
        guard try store.webhook(userId: userId, id: id) != nil else { return Self.notFound }
        guard let delivery = try store.delivery(userId: userId, webhookId: id, id: deliveryId) else {
            return .error(404, "Delivery not found")
        }
        return .json(200, Rendering.delivery(delivery))
    }

    private static let serverNotFound = Response.error(404, "Server not found or not owned by you")

    private func ownsServer(_ serverId: String) throws -> Bool {
        guard Identifier.isExternalID(serverId), let server = try store.server(id: serverId) else { return false }
        return server.ownerId == userId
    }
}

/// `limit` and `offset` of a deliveries page (docs/architecture.md: "A request").
struct Pagination: Equatable {
    static let defaultLimit = 50
    static let maxLimit = 100

    var limit: Int
    var offset: Int

    static func parse(_ query: [String: String]) -> Checked<Pagination> {
        var validation = Validation()
        var page = Pagination(limit: defaultLimit, offset: 0)
        if let text = query["limit"] {
            if let limit = Int(text), limit > 0 {
                page.limit = min(limit, maxLimit)
            } else {
                validation.fail("limit", code: "invalid_type", "limit must be a positive integer")
            }
        }
        if let text = query["offset"] {
            if let offset = Int(text), offset >= 0 {
                page.offset = offset
            } else {
                validation.fail("offset", code: "invalid_type", "offset must be a non-negative integer")
            }
        }
        return validation.response.map { .rejected($0) } ?? .valid(page)
    }
}
