import FoundationEssentials

/// An `http` webhook's signing secret (docs/architecture.md: "Signed HTTPS endpoints"): read by
/// its owner, and rotated. After a rotation the old secret signs too, for `SigningSecrets.overlap`,
/// so receivers can switch without losing a message. Other providers do not sign: their webhooks
/// have no secret, which is a 404 of its own.
extension WebhookHandlers {
    static let noSecret = Response.error(404, "Webhook has no signing secret: only http webhooks are signed")

    func secret(_ id: String) throws -> Response {
        guard let webhook = try store.webhook(userId: userId, id: id) else { return Self.notFound }
        guard let signing = webhook.signing else { return Self.noSecret }
        guard let secret = signing.currentSecret(for: id, box: context.secrets) else {
            throw SecretUnreadable(webhookId: id)
        }
        return .json(200, Self.secretJSON(secret, signing, now: context.now))
    }

    func rotateSecret(_ id: String) throws -> Response {
        guard let webhook = try store.webhook(userId: userId, id: id) else { return Self.notFound }
        guard webhook.signing != nil else { return Self.noSecret }
        var shown: String?
        let updated = try store.updateWebhook(userId: userId, id: id) { webhook in
            guard let signing = webhook.signing else { return }  // stopped signing meanwhile
            (webhook.signing, shown) = try signing.rotated(for: id, box: context.secrets, now: context.now)
            webhook.updatedAt = context.timestamp
        }
        guard updated != nil else { return Self.notFound }
        guard let shown, let signing = updated?.signing else { return Self.noSecret }
        return .json(200, Self.secretJSON(shown, signing, now: context.now))
    }

    /// `secret`, and until when the one it replaced still signs (null when none does).
    private static func secretJSON(_ secret: String, _ signing: SigningSecrets, now: Date) -> JSONValue {
        let overlapping = signing.previousExpiresAt.flatMap(Timestamp.parse).map { $0 > now } ?? false
        return .object([
            "secret": .string(secret),
            "previousSecretExpiresAt": .string(overlapping ? signing.previousExpiresAt : nil),
        ])
    }
}

/// A signing secret sealed under another server secret (`secret.key` replaced or lost): the
/// service's fault, not the client's, so a 500 whose cause is logged.
struct SecretUnreadable: Error, CustomStringConvertible {
    var webhookId: String
    var description: String {
        "the signing secret of webhook \(webhookId) cannot be opened: was secret.key replaced?"
    }
}
