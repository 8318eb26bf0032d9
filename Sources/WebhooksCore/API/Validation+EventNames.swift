/// The `events` of an option's object (a `mentions` entry, `collapse`), checked with a path to
/// each problem (`["events", 1]`): a required, non-empty array of catalogue names, upper-case
/// aliases taken, stored canonical and each once.
extension Validation {
    /// The canonical names; empty when the field is missing or wrong (recorded).
    mutating func eventNames(in item: JSONValue) -> [String] {
        var events: [String] = []
        switch field("events", in: item, .array) {
        case .absent:
            required("events")
        case .value(let names) where names.isEmpty:
            fail("events", code: "too_small", "Array must contain at least 1 element(s)")
        case .value(let names):
            for (index, name) in names.enumerated() {
                let path: [Step] = [.field("events"), .index(index)]
                guard let text = name.stringValue else {
                    fail(at: path, code: "invalid_type", "Expected string, received \(name.typeName)")
                    continue
                }
                guard let event = EventCatalogue.canonical(text) else {
                    fail(at: path, code: "invalid_enum_value", "Unknown event: \(text)")
                    continue
                }
                if !events.contains(event) { events.append(event) }
            }
        case .null, .invalid:
            break
        }
        return events
    }
}
