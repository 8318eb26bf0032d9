import FoundationEssentials

/// A bulk recovery's range, checked (`POST /webhooks/{id}/recover`, the `recover` command): from
/// `since` to `until` (now when left out), both RFC 3339 timestamps. A range reaching back past
/// `retention_days` is refused rather than cut short: what is older may already be pruned, so
/// part of it would silently not be recovered.
struct RecoveryInput: Equatable {
    var since: Date
    var until: Date

    /// The range `body` asks for, or nil with every problem recorded in `validation`.
    static func parse(_ body: JSONValue, now: Date, retentionDays: Int, _ validation: inout Validation)
        -> RecoveryInput?
    {
        let since = timestamp("since", in: body, &validation, required: true)
        let until = timestamp("until", in: body, &validation, required: false)
        guard validation.isEmpty, let since else { return nil }
        let oldest = now.addingTimeInterval(-Double(retentionDays) * 86400)
        if since < oldest {
            validation.fail(
                "since", code: "too_small",
                "since must be within retention_days (\(retentionDays) days): at or after \(Timestamp.format(oldest))")
        }
        let end = until ?? now
        if end < since {
            validation.fail(
                until == nil ? "since" : "until", code: "too_small",
                until == nil ? "since must not be in the future" : "until must not be before since")
        }
        return validation.isEmpty ? RecoveryInput(since: since, until: end) : nil
    }

    /// The timestamp in `field`, nil when absent or not one (recorded).
    private static func timestamp(_ field: String, in body: JSONValue, _ validation: inout Validation, required: Bool)
        -> Date?
    {
        switch validation.field(field, in: body, .string) {
        case .absent:
            if required { validation.required(field) }
        case .value(let text):
            if let date = Timestamp.parseRFC3339(text) { return date }
            validation.fail(
                field, code: "invalid_string",
                "\(field) must be an ISO 8601 timestamp such as 2026-01-15T12:00:00.000Z or 2026-01-15T14:00:00+02:00")
        case .null, .invalid:
            break
        }
        return nil
    }
}
