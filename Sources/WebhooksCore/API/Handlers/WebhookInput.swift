/// The fields of a create or update body, checked (design §3). Unknown fields are ignored.
struct WebhookInput {
    var url: String?
    var events: [String]?
    /// Absent: leave as is. `.some(nil)`: no server (JSON null).
    var serverId: String??
    var enabled: Bool?

    /// The input, or the 400 to answer: all validation problems at once, then invalid event names.
    static func parse(_ body: JSONValue, creating: Bool, config: Config) -> Checked<WebhookInput> {
        var input = WebhookInput()
        var validation = Validation()
        var names: [String]?

        switch body["url"] {
        case nil:
            if creating { validation.required("url") }
        case .string(let url)?:
            if url.utf8.count > DiscordWebhookURL.maxLength {
                validation.fail("url", code: "too_big", "URL must be at most \(DiscordWebhookURL.maxLength) characters")
            } else if DiscordWebhookURL(url, allowedHosts: config.discordHosts, allowInsecure: config.allowInsecureTargets) == nil {
                validation.fail("url", code: "invalid_string", "Must be a Discord webhook URL (https://discord.com/api/webhooks/{id}/{token})")
            } else {
                input.url = url
            }
        case let other?:
            validation.wrongType("url", expected: "string", got: other)
        }

        switch body["events"] {
        case nil:
            if creating { validation.required("events") }
        case .array(let items)?:
            let strings = items.compactMap(\.stringValue)
            if strings.count != items.count {
                validation.fail("events", code: "invalid_type", "Expected an array of strings")
            } else if strings.isEmpty {
                validation.fail("events", code: "too_small", "Array must contain at least 1 element(s)")
            } else {
                names = strings
            }
        case let other?:
            validation.wrongType("events", expected: "array", got: other)
        }

        switch body["serverId"] {
        case nil: break
        case .null?: input.serverId = .some(nil)
        case .string(let serverId)?: input.serverId = serverId
        case let other?: validation.wrongType("serverId", expected: "string", got: other)
        }

        switch body["enabled"] {
        case nil: break
        case .bool(let enabled)?: input.enabled = enabled
        case let other?: validation.wrongType("enabled", expected: "boolean", got: other)
        }

        if let failure = validation.response { return .rejected(failure) }
        if let names {
            switch EventSelection(names) {
            case .valid(let events):
                input.events = events
            case .invalid(let invalid):
                return .rejected(.error(400, "Invalid events", extras: ["invalidEvents": .array(invalid.map { .string($0) })]))
            }
        }
        return .valid(input)
    }
}
