/// A webhook's `collapse` as a create or update body gives it (README "Crash loops collapsed"),
/// checked with a path to each problem (`["collapse", "windowSeconds"]`): an object of catalogue
/// `events` (upper-case aliases taken, stored canonical, each once) and a whole `windowSeconds`
/// within `Collapse.windowRange`; null clears it. Any provider takes it (Discord edits the first
/// message, Slack and `http` get one summary at the window's end), but not with `statusCardOnly`,
/// which sends no event messages to collapse.
enum CollapseInput {
    /// `collapse` of `body`: nil when absent or refused, `.some(nil)` when null clears it.
    /// `statusCardOnly` is the webhook's option after the update, `current` its record before it.
    static func parse(_ body: JSONValue, statusCardOnly: Bool, current: Webhook?, validation: inout Validation)
        -> Collapse??
    {
        let item: JSONValue
        switch validation.field("collapse", in: body, .object, nullable: true) {
        case .absent: item = .null
        case .null: return .some(nil)
        case .invalid: return nil
        case .value(let members): item = .object(members)
        }
        guard item != .null || current?.collapse != nil else { return nil }
        if statusCardOnly {
            validation.fail(
                "collapse", code: "invalid_type",
                "collapse needs event messages to collapse: statusCardOnly sends none")
            return nil
        }
        guard item != .null else { return nil }
        var nested = Validation()
        let events = nested.eventNames(in: item)
        let window = windowSeconds(in: item, &nested)
        validation.include(nested, under: [.field("collapse")])
        guard nested.isEmpty, let window else { return nil }
        return .some(Collapse(events: events, windowSeconds: window))
    }

    /// `windowSeconds`: a whole number of seconds (`600.0` too, as JSON Schema's integers) within
    /// `Collapse.windowRange`; nil when not (recorded).
    private static func windowSeconds(in item: JSONValue, _ validation: inout Validation) -> Int? {
        let range = Collapse.windowRange
        let seconds: Double
        switch item["windowSeconds"] {
        case nil:
            validation.required("windowSeconds")
            return nil
        case .int(let whole)?:
            seconds = Double(whole)
        case .double(let number)? where number == number.rounded(.towardZero):
            seconds = number
        case let other?:
            validation.wrongType("windowSeconds", expected: "integer", got: other)
            return nil
        }
        guard seconds >= Double(range.lowerBound), seconds <= Double(range.upperBound) else {
            validation.fail(
                "windowSeconds", code: seconds < Double(range.lowerBound) ? "too_small" : "too_big",
                "Must be from \(range.lowerBound) to \(range.upperBound) seconds")
            return nil
        }
        return Int(seconds)
    }
}
