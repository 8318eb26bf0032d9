/// A webhook's `statusCard` and `statusCardOnly` as a create or update body gives them (README
/// "A status card per server"), checked against the webhook as the update leaves it: booleans;
/// only for Discord, whose webhooks can edit their messages (a new provider must turn it off, as
/// for `threadPerServer`); not with `threadPerServer` yet (a card in a forum would need a thread
/// of its own); and `statusCardOnly` only with `statusCard`.
struct StatusCardInput: Equatable {
    /// Absent: leave as is.
    var statusCard: Bool?
    /// Absent: leave as is.
    var statusCardOnly: Bool?

    /// The options of `body`, nil where absent or refused. `provider` is the webhook's after the
    /// update (nil when unknown: its URL is refused, that is the 400), `threadPerServer` its
    /// option after the update, `current` its record before it (nil for a create).
    static func parse(
        _ body: JSONValue, provider: DeliveryProvider?, threadPerServer: Bool, current: Webhook?,
        validation: inout Validation
    ) -> StatusCardInput {
        var input = StatusCardInput()
        var readable = true
        for field in ["statusCard", "statusCardOnly"] {
            switch validation.field(field, in: body, .boolean) {
            case .value(let value):
                if field == "statusCard" { input.statusCard = value } else { input.statusCardOnly = value }
            case .invalid: readable = false
            case .absent, .null: break
            }
        }
        guard readable else { return StatusCardInput() }
        let card = input.statusCard ?? current?.statusCard ?? false
        let only = input.statusCardOnly ?? current?.statusCardOnly ?? false
        if card, let provider, !(provider is DiscordProvider) {
            validation.fail(
                "statusCard", code: "invalid_type",
                input.statusCard == nil
                    ? "The webhook has statusCard, which is for discord webhooks: with a new provider, send \"statusCard\": false"
                    : "statusCard is for discord webhooks")
            return StatusCardInput()
        }
        if card, threadPerServer {
            validation.fail("statusCard", code: "invalid_type", "statusCard and threadPerServer cannot be combined yet")
            return StatusCardInput()
        }
        if only, !card {
            validation.fail(
                "statusCardOnly", code: "invalid_type",
                input.statusCardOnly == nil
                    ? "The webhook has statusCardOnly, which needs statusCard: send \"statusCardOnly\": false too"
                    : "statusCardOnly needs \"statusCard\": true")
            return StatusCardInput()
        }
        return input
    }
}
