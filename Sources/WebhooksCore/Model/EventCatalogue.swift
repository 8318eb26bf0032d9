/// The 22 events a webhook can subscribe to (docs/architecture.md: "A delivery"), with their
/// categories.
public enum EventCatalogue {
    public static let categories = ["server", "backup", "transfer", "file", "resource"]

    public static let all = [
        "server.started", "server.stopped", "server.crashed", "server.restarted",
        "server.auto_shutdown", "server.created", "server.deleted", "server.updated",
        "server.suspended", "server.unsuspended",
        "backup.created", "backup.failed", "backup.restored", "backup.deleted",
        "transfer.started", "transfer.completed", "transfer.failed",
        "file.created", "file.deleted", "file.modified",
        "resource.warning", "resource.critical",
    ]

    private static let known = Set(all)

    /// The canonical name for `name` or its upper-case alias (`SERVER_STARTED`), nil if unknown.
    /// The alias maps the first underscore to the dot: `SERVER_AUTO_SHUTDOWN` → `server.auto_shutdown`.
    public static func canonical(_ name: String) -> String? {
        if known.contains(name) { return name }
        guard name == name.uppercased(), let underscore = name.firstIndex(of: "_") else { return nil }
        let dotted = name[..<underscore].lowercased() + "." + name[name.index(after: underscore)...].lowercased()
        return known.contains(dotted) ? dotted : nil
    }

    public static func category(of event: String) -> String {
        String(event.prefix { $0 != "." })
    }

    /// Events grouped by category, in catalogue order.
    public static var categorized: [String: [String]] {
        Dictionary(grouping: all, by: category(of:))
    }
}

/// The result of reading a list of event names from a request.
public enum EventSelection: Equatable {
    /// Canonical names, duplicates collapsed, in first-seen order.
    case valid([String])
    /// The names that matched nothing, exactly as sent.
    case invalid([String])

    public init(_ names: [String]) {
        var canonical: [String] = []
        var invalid: [String] = []
        for name in names {
            if let event = EventCatalogue.canonical(name) {
                if !canonical.contains(event) { canonical.append(event) }
            } else {
                invalid.append(name)
            }
        }
        self = invalid.isEmpty ? .valid(canonical) : .invalid(invalid)
    }
}
