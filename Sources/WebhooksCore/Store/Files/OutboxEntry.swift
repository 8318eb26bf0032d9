/// Points the delivery helper at a pending delivery. Names sort in creation order. An entry is a
/// hard link to the delivery's file as first written, so it reads as that record (`id`); an entry
/// written as its own file (`deliveryId`, before 0.3) reads the same.
public struct OutboxEntry: Decodable, Equatable, Sendable {
    public var deliveryId: String
    public var webhookId: String
    public var userId: String

    private enum Keys: String, CodingKey { case deliveryId, id, webhookId, userId }

    public init(from decoder: Decoder) throws {
        let fields = try decoder.container(keyedBy: Keys.self)
        deliveryId =
            try fields.decodeIfPresent(String.self, forKey: .deliveryId) ?? fields.decode(String.self, forKey: .id)
        webhookId = try fields.decode(String.self, forKey: .webhookId)
        userId = try fields.decode(String.self, forKey: .userId)
    }
}
