/// A create's fields, checked: the URL and events it must have, as values rather than optionals.
struct NewWebhookInput {
    var url: String
    var provider: DeliveryProvider
    var events: [String]
    var serverId: String?
    var enabled: Bool
    var mentions: [Mention]?
    var threadPerServer: Bool
    var statusCard: Bool
    var statusCardOnly: Bool
    var collapse: Collapse?

    /// The input, or the 400 to answer (`WebhookInput.parse` names every problem at once).
    static func parse(_ body: JSONValue, config: Config) -> Checked<NewWebhookInput> {
        let input: WebhookInput
        switch WebhookInput.parse(body, current: nil, config: config) {
        case .rejected(let response): return .rejected(response)
        case .valid(let parsed): input = parsed
        }
        // Creating, a missing url or events is one of those problems: both are here.
        guard let destination = input.destination, let events = input.events else {
            var missing = Validation()
            if input.destination == nil { missing.required("url") }
            if input.events == nil { missing.required("events") }
            return .rejected(missing.response(extras: [:]))
        }
        return .valid(
            NewWebhookInput(
                url: destination.url, provider: destination.provider, events: events, serverId: input.serverId ?? nil,
                enabled: input.enabled ?? true, mentions: input.mentions ?? nil,
                threadPerServer: input.threadPerServer ?? false, statusCard: input.statusCard.statusCard ?? false,
                statusCardOnly: input.statusCard.statusCardOnly ?? false, collapse: input.collapse ?? nil))
    }
}
