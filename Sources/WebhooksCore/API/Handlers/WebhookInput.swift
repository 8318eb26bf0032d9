/// The fields of a create or update body, checked. Unknown fields are ignored.
struct WebhookInput {
    /// Where the webhook delivers, when the body changes it (its `url`, its `provider`, or both).
    var destination: Destination?
    var events: [String]?
    /// Absent: leave as is. `.some(nil)`: no server (JSON null).
    var serverId: String??
    var enabled: Bool?
    /// Absent: leave as is. `.some(nil)`: ping no one (JSON null or `[]`).
    var mentions: [Mention]??
    /// Absent: leave as is.
    var threadPerServer: Bool?
    var statusCard = StatusCardInput()
    /// Absent: leave as is. `.some(nil)`: collapse nothing (JSON null).
    var collapse: Collapse??

    /// A webhook's URL and the provider that delivers to it, checked together.
    struct Destination {
        var url: String
        var provider: DeliveryProvider
    }

    /// The input for a create (`current` nil) or for an update of `current`, or the 400 to answer
    /// with every problem at once: `Invalid events` when the event names are all that is wrong,
    /// else `Validation failed`, whose details then name the unknown events too (with
    /// `invalidEvents`, as `Invalid events` would).
    static func parse(_ body: JSONValue, current: Webhook?, config: Config) -> Checked<WebhookInput> {
        var input = WebhookInput()
        var validation = Validation()
        var names: [String]?

        var url: String?
        switch validation.field("url", in: body, .string) {
        case .absent:
            if current == nil { validation.required("url") }
        case .value(let text):
            if text.utf8.count > WebhookURLOrigin.maxLength {
                validation.fail("url", code: "too_big", "URL must be at most \(WebhookURLOrigin.maxLength) characters")
            } else {
                url = text
            }
        case .null, .invalid:
            break
        }
        var named: DeliveryProvider?
        if case .value(let name) = validation.field("provider", in: body, .string) {
            named = Providers.named(name)
            if named == nil {
                validation.fail(
                    "provider", code: "invalid_enum_value",
                    "Must be one of: \(Providers.all.map(\.name).joined(separator: ", "))")
            }
        }
        if url != nil || (named != nil && current != nil), validation.isEmpty {
            switch Destination.resolve(url: url, provider: named, current: current, config: config) {
            case .valid(let destination): input.destination = destination
            case .invalid(let message): validation.fail("url", code: "invalid_string", message)
            }
        }

        switch validation.field("events", in: body, .array) {
        case .absent:
            if current == nil { validation.required("events") }
        case .value(let items):
            let strings = items.compactMap(\.stringValue)
            if strings.count != items.count {
                validation.fail("events", code: "invalid_type", "Expected an array of strings")
            } else if strings.isEmpty {
                validation.fail("events", code: "too_small", "Array must contain at least 1 element(s)")
            } else {
                names = strings
            }
        case .null, .invalid:
            break
        }

        switch validation.field("serverId", in: body, .string, nullable: true) {
        case .null: input.serverId = .some(nil)
        case .value(let serverId): input.serverId = serverId
        case .absent, .invalid: break
        }

        if case .value(let enabled) = validation.field("enabled", in: body, .boolean) {
            input.enabled = enabled
        }

        // The provider after the update, which mentions are for; unknown when the URL is refused.
        let provider =
            input.destination?.provider ?? named
            ?? (body["url"] == nil ? current.flatMap { Providers.named($0.provider) } : nil)
        input.mentions = MentionsInput.parse(body, provider: provider, validation: &validation)
        // Ids of one provider are not another's: a new provider takes no stored mentions along.
        if body["mentions"] == nil, let current, current.mentions != nil, let provider,
            provider.name != current.provider
        {
            validation.fail(
                "mentions", code: "invalid_string",
                "The webhook's mentions are \(current.provider) ids: with a new provider, send its mentions (or [] for none)"
            )
        }

        input.threadPerServer = ThreadPerServerInput.parse(
            body, provider: provider, url: input.destination?.url ?? current?.url, current: current, config: config,
            validation: &validation)
        input.statusCard = StatusCardInput.parse(
            body, provider: provider, threadPerServer: input.threadPerServer ?? current?.threadPerServer ?? false,
            current: current, validation: &validation)
        input.collapse = CollapseInput.parse(
            body, statusCardOnly: input.statusCard.statusCardOnly ?? current?.statusCardOnly ?? false,
            current: current, validation: &validation)

        var invalidEvents: [String] = []
        if let names {
            switch EventSelection(names) {
            case .valid(let events): input.events = events
            case .invalid(let invalid): invalidEvents = invalid
            }
        }
        let unknown: [String: JSONValue] =
            invalidEvents.isEmpty ? [:] : ["invalidEvents": .array(invalidEvents.map { .string($0) })]
        if !validation.isEmpty {
            if !invalidEvents.isEmpty {
                validation.fail(
                    "events", code: "invalid_enum_value", "Unknown events: \(invalidEvents.joined(separator: ", "))")
            }
            return .rejected(validation.response(extras: unknown))
        }
        if !invalidEvents.isEmpty { return .rejected(.error(400, "Invalid events", extras: unknown)) }
        return .valid(input)
    }
}

extension WebhookInput.Destination {
    enum Resolution {
        case valid(WebhookInput.Destination)
        case invalid(String)
    }

    /// The provider is the one named; else, when only the URL changes, the webhook's own if it
    /// takes the new URL; else the one whose URLs it is (Discord's, Slack's). Any other URL is
    /// an `http` endpoint, which must be asked for by name: a typo in a Discord URL must not turn
    /// into a signed POST to some other host.
    static func resolve(url: String?, provider named: DeliveryProvider?, current: Webhook?, config: Config)
        -> Resolution
    {
        let url = url ?? current?.url ?? ""
        if let named {
            return named.target(url, config: config) == nil
                ? .invalid(named.urlRule) : .valid(.init(url: url, provider: named))
        }
        if let current, let own = Providers.named(current.provider), own.target(url, config: config) != nil {
            return .valid(.init(url: url, provider: own))
        }
        if let inferred = Providers.inferable.first(where: { $0.target(url, config: config) != nil }) {
            return .valid(.init(url: url, provider: inferred))
        }
        let rules = Providers.inferable.map(\.urlRule).joined(separator: "; or ")
        return .invalid(
            "\(rules); for any other HTTPS endpoint, set \"provider\": \"http\" (signed as Standard Webhooks)")
    }
}
