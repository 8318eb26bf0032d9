/// A webhook's `threadPerServer` as a create or update body gives it (README "A thread per
/// server"), checked against the webhook as the update leaves it: a boolean; only for Discord,
/// whose forum channels have threads; and not with a URL that names one thread (`?thread_id=`),
/// which it would contradict. A new provider takes the option along only when it is Discord:
/// else the body must turn it off, as it must send new `mentions`.
enum ThreadPerServerInput {
    /// `threadPerServer` of `body`: nil when absent or refused. `provider` and `url` are the
    /// webhook's after the update (`provider` nil when unknown: its URL is refused, that is the
    /// 400); `current` its record before it (nil for a create). Every refusal is at
    /// `["threadPerServer"]`, even when the URL is what changed: the URL itself is a good one.
    static func parse(
        _ body: JSONValue, provider: DeliveryProvider?, url: String?, current: Webhook?, config: Config,
        validation: inout Validation
    ) -> Bool? {
        var given: Bool?
        switch validation.field("threadPerServer", in: body, .boolean) {
        case .value(let value): given = value
        case .invalid: return nil
        case .absent, .null: break
        }
        guard let provider, given ?? current?.threadPerServer ?? false else { return given }
        guard provider is DiscordProvider else {
            let message =
                given == nil
                ? "The webhook has threadPerServer, which is for discord webhooks: with a new provider, send \"threadPerServer\": false"
                : "threadPerServer is for discord webhooks (of a forum channel)"
            validation.fail("threadPerServer", code: "invalid_type", message)
            return nil
        }
        let discordURL = url.flatMap {
            DiscordWebhookURL($0, allowedHosts: config.discordHosts, allowInsecure: config.allowInsecureTargets)
        }
        if discordURL?.threadId != nil {
            validation.fail(
                "threadPerServer", code: "invalid_string",
                "A URL with ?thread_id= posts to that one thread: it cannot have threadPerServer (one thread per server)"
            )
            return nil
        }
        return given
    }
}
