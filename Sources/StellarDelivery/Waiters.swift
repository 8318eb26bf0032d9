/// Workers waiting on the helper socket for a manual send to finish, by delivery id.
struct Waiters {
    private var clients: [String: [Int32]] = [:]

    var isEmpty: Bool { clients.isEmpty }

    func isAwaited(_ deliveryId: String) -> Bool { clients[deliveryId] != nil }

    mutating func add(_ client: Int32, for deliveryId: String) {
        clients[deliveryId, default: []].append(client)
    }

    /// Takes the clients of every delivery not in `pending`: theirs are finished.
    mutating func takeFinished(pending: Set<String>) -> [Int32] {
        let finished = clients.keys.filter { !pending.contains($0) }
        return finished.flatMap { clients.removeValue(forKey: $0) ?? [] }
    }

    mutating func takeAll() -> [Int32] {
        defer { clients.removeAll() }
        return Array(clients.values.joined())
    }
}
