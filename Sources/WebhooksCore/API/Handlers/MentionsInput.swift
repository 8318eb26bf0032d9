/// A webhook's `mentions` as a create or update body gives them (README "Mentions"), checked, with
/// a path to each problem (`["mentions", 0, "roles", 1]`): at most 10 entries, each with catalogue
/// events (upper-case aliases taken, stored canonical) and at least one role or user id of the
/// webhook's provider. One event pings at most 10 roles and 10 users, however many entries list
/// it, so every message stays far within Discord's 2000 characters of content and 100 ids of
/// `allowed_mentions`, and Slack's 3000 of a text.
enum MentionsInput {
    static let maxEntries = 10
    static let maxPerEvent = 10

    /// `mentions` of `body`: nil when absent, `.some(nil)` when null or `[]` clear them. Ids are
    /// checked against `provider`, the webhook's after the update; nil when that is unknown (its
    /// URL is refused: that is the 400).
    static func parse(_ body: JSONValue, provider: DeliveryProvider?, validation: inout Validation) -> [Mention]?? {
        let items: [JSONValue]
        switch validation.field("mentions", in: body, .array, nullable: true) {
        case .absent, .invalid: return nil
        case .null: return .some(nil)
        case .value(let value): items = value
        }
        if items.isEmpty { return .some(nil) }
        if items.count > maxEntries {
            validation.fail("mentions", code: "too_big", "At most \(maxEntries) entries")
            return nil
        }
        var ids: MentionIDs?
        if let provider {
            ids = provider.mentionIDs
            guard ids != nil else {
                let pinging = Providers.all.filter { $0.mentionIDs != nil }.map(\.name).joined(separator: " and ")
                validation.fail("mentions", code: "too_big", "mentions are for \(pinging) webhooks")
                return nil
            }
        }
        var mentions: [Mention] = []
        for (index, item) in items.enumerated() {
            var nested = Validation()
            if let mention = entry(item, ids: ids, validation: &nested) { mentions.append(mention) }
            validation.include(nested, under: [.field("mentions"), .index(index)])
        }
        guard mentions.count == items.count else { return nil }
        for event in EventCatalogue.all {
            let pings = Pings(for: event, in: mentions)
            if pings.roles.count > maxPerEvent || pings.users.count > maxPerEvent {
                validation.fail(
                    "mentions", code: "too_big",
                    "\(event) would ping \(pings.roles.count) roles and \(pings.users.count) users: one event pings at most \(maxPerEvent) of each"
                )
            }
        }
        return .some(mentions)
    }

    /// One entry, or nil with its problems recorded at paths within it.
    private static func entry(_ item: JSONValue, ids: MentionIDs?, validation: inout Validation) -> Mention? {
        guard case .object = item else {
            validation.fail(at: [], code: "invalid_type", "Expected object, received \(item.typeName)")
            return nil
        }
        let events = validation.eventNames(in: item)
        let roles = self.ids("roles", of: item, rule: ids?.roles, &validation)
        let users = self.ids("users", of: item, rule: ids?.users, &validation)
        guard validation.isEmpty, let roles, let users else { return nil }
        if roles.isEmpty && users.isEmpty {
            validation.fail(at: [], code: "too_small", "An entry pings at least one role or user")
            return nil
        }
        return Mention(events: events, roles: roles, users: users)
    }

    /// `roles` or `users` of an entry (absent: none), each id once; nil when one breaks `rule`
    /// (recorded). Unchecked when the provider is unknown.
    private static func ids(
        _ field: String, of item: JSONValue, rule: MentionIDs.Rule?, _ validation: inout Validation
    ) -> [String]? {
        let values: [JSONValue]
        switch validation.field(field, in: item, .array) {
        case .absent: return []
        case .null, .invalid: return nil
        case .value(let items): values = items
        }
        if values.count > maxPerEvent {
            validation.fail(field, code: "too_big", "At most \(maxPerEvent) \(field)")
            return nil
        }
        var ids: [String] = []
        var allValid = true
        for (index, value) in values.enumerated() {
            let path: [Validation.Step] = [.field(field), .index(index)]
            guard let id = value.stringValue else {
                validation.fail(at: path, code: "invalid_type", "Expected string, received \(value.typeName)")
                allValid = false
                continue
            }
            if let rule, !rule.matches(id[...]) {
                validation.fail(at: path, code: "invalid_string", rule.text)
                allValid = false
            } else if !ids.contains(id) {
                ids.append(id)
            }
        }
        return allValid ? ids : nil
    }
}
