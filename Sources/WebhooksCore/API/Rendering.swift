/// The API's JSON shapes for stored records (docs/architecture.md: "A request"). Optional fields
/// are always present, as null when unset; a webhook's options (`mentions`, `threadPerServer`,
/// `statusCard`, `statusCardOnly`, `collapse`) only when set, so a webhook that sets none reads
/// as it did before them. The threads, cards and collapse windows a webhook keeps are the
/// helper's bookkeeping, not shown: each delivery names the thread it went to and the message it
/// posted or edited.
enum Rendering {
    static func webhook(_ webhook: Webhook, store: Store) throws -> [String: JSONValue] {
        try self.webhook(
            webhook, deliveryCount: try store.deliveryCount(userId: webhook.userId, webhookId: webhook.id), store: store
        )
    }

    static func webhook(_ webhook: Webhook, deliveryCount count: Int, store: Store) throws -> [String: JSONValue] {
        var server = JSONValue.null
        if let serverId = webhook.serverId, let found = try store.server(id: serverId) {
            server = .object(["id": .string(found.id), "name": .string(found.name)])
        }
        var object: [String: JSONValue] = [
            "id": .string(webhook.id),
            "userId": .string(webhook.userId),
            "url": .string(webhook.url),
            "events": .array(webhook.events.map { .string($0) }),
            "serverId": .string(webhook.serverId),
            "enabled": .bool(webhook.enabled),
            "disabledReason": .string(webhook.disabledReason),
            "provider": .string(webhook.provider),
            "server": server,
            "_count": .object(["deliveries": .int(count)]),
            "createdAt": .string(webhook.createdAt),
            "updatedAt": .string(webhook.updatedAt),
        ]
        if let mentions = webhook.mentions { object["mentions"] = .array(mentions.map(self.mention)) }
        if webhook.threadPerServer == true { object["threadPerServer"] = .bool(true) }
        if webhook.statusCard == true { object["statusCard"] = .bool(true) }
        if webhook.statusCardOnly == true { object["statusCardOnly"] = .bool(true) }
        if let collapse = webhook.collapse {
            object["collapse"] = .object([
                "events": .array(collapse.events.map { .string($0) }),
                "windowSeconds": .int(Int64(collapse.windowSeconds)),
            ])
        }
        return object
    }

    static func mention(_ mention: Mention) -> JSONValue {
        .object([
            "events": .array(mention.events.map { .string($0) }),
            "roles": .array(mention.roles.map { .string($0) }),
            "users": .array(mention.users.map { .string($0) }),
        ])
    }

    static func delivery(_ delivery: Delivery) -> JSONValue {
        .object([
            "id": .string(delivery.id),
            "webhookId": .string(delivery.webhookId),
            "event": .string(delivery.event),
            "payload": delivery.payload,
            "status": .string(delivery.status.rawValue),
            "statusCode": .int(delivery.statusCode),
            "response": .string(delivery.response),
            "error": .string(delivery.error),
            "attempts": .int(delivery.attempts),
            "nextAttemptAt": .string(delivery.nextAttemptAt),
            "deliveredAt": .string(delivery.deliveredAt),
            "retryOf": .string(delivery.retryOf),
            "threadId": .string(delivery.threadId),
            "card": .bool(delivery.card == true),
            "action": .string((delivery.action ?? .post).rawValue),
            "messageId": .string(delivery.sentMessageId),
            "createdAt": .string(delivery.createdAt),
        ])
    }

    static func deliverySummary(_ delivery: Delivery) -> JSONValue {
        .object([
            "id": .string(delivery.id),
            "event": .string(delivery.event),
            "status": .string(delivery.status.rawValue),
            "statusCode": .int(delivery.statusCode),
            "attempts": .int(delivery.attempts),
            "deliveredAt": .string(delivery.deliveredAt),
            "createdAt": .string(delivery.createdAt),
        ])
    }

    static func server(_ server: Server) -> JSONValue {
        .object([
            "id": .string(server.id),
            "name": .string(server.name),
            "ownerId": .string(server.ownerId),
            "status": .string(server.status),
            "createdAt": .string(server.createdAt),
            "updatedAt": .string(server.updatedAt),
        ])
    }
}
