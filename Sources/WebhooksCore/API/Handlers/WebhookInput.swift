/// The fields of a create or update body, checked. Unknown fields are ignored.
struct WebhookInput {
    var url: String?
    var events: [String]?
    /// Absent: leave as is. `.some(nil)`: no server (JSON null).
    var serverId: String??
    var enabled: Bool?

    /// The input, or the 400 to answer with every problem at once: `Invalid events` when the
    /// event names are all that is wrong, else `Validation failed`, whose details then name the
    /// unknown events too (with `invalidEvents`, as `Invalid events` would).
    static func parse(_ body: JSONValue, creating: Bool, config: Config) -> Checked<WebhookInput> {
        var input = WebhookInput()
        var validation = Validation()
        var names: [String]?

        switch validation.field("url", in: body, .string) {
        case .absent:
            if creating { validation.required("url") }
        case .value(let url):
            if url.utf8.count > DiscordWebhookURL.maxLength {
                validation.fail("url", code: "too_big", "URL must be at most \(DiscordWebhookURL.maxLength) characters")
            } else if Providers.discord.target(url, config: config) == nil {
                validation.fail(
                    "url", code: "invalid_string",
                    "Must be a Discord webhook URL (https://discord.com/api/webhooks/{id}/{token})")
            } else {
                input.url = url
            }
        case .null, .invalid:
            break
        }

        switch validation.field("events", in: body, .array) {
        case .absent:
            if creating { validation.required("events") }
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
