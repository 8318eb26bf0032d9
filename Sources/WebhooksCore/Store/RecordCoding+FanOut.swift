/// A fan-out's delivery records, written the way `RecordCoding.encode` writes each, without
/// encoding each. An event's deliveries differ only in their own ids and their webhooks' ids, and
/// encoding the same payload 2,000 times was most of a 2,000-delivery fan-out's time on
/// PostgreSQL (bench/README.md). So one is encoded, and a delivery equal to it but for those two
/// ids gets its bytes with the ids swapped: both are lowercase UUIDs, which JSON writes as they
/// are, each found exactly once in those bytes. Anything else is encoded on its own.
extension RecordCoding {
    public static func encode(fanOut deliveries: [Delivery]) throws -> [[UInt8]] {
        var records: [[UInt8]] = []
        records.reserveCapacity(deliveries.count)
        var template: FanOutTemplate?
        for delivery in deliveries {
            if let bytes = template?.record(of: delivery) {
                records.append(bytes)
                continue
            }
            let bytes = try encode(delivery)
            records.append(bytes)
            if template == nil { template = FanOutTemplate(delivery, bytes) }
        }
        return records
    }
}

/// One delivery's record and where its two ids are in it.
private struct FanOutTemplate {
    let delivery: Delivery
    let bytes: [UInt8]
    let id: Range<Int>
    let webhookId: Range<Int>

    /// Nil when either id is not a lowercase UUID or is not in `bytes` exactly once.
    init?(_ delivery: Delivery, _ bytes: [UInt8]) {
        guard Self.isPlainUUID(delivery.id), Self.isPlainUUID(delivery.webhookId),
            let id = Self.onlyRange(of: delivery.id, in: bytes),
            let webhookId = Self.onlyRange(of: delivery.webhookId, in: bytes)
        else { return nil }
        (self.delivery, self.bytes, self.id, self.webhookId) = (delivery, bytes, id, webhookId)
    }

    /// The record of `other`, or nil when it differs from the template in more than its ids.
    func record(of other: Delivery) -> [UInt8]? {
        guard Self.isPlainUUID(other.id), Self.isPlainUUID(other.webhookId) else { return nil }
        var probe = other
        probe.id = delivery.id
        probe.webhookId = delivery.webhookId
        guard probe == delivery else { return nil }
        var bytes = self.bytes
        bytes.replaceSubrange(id, with: other.id.utf8)
        bytes.replaceSubrange(webhookId, with: other.webhookId.utf8)
        return bytes
    }

    /// 36 of `0-9 a-f -`: JSON writes it unescaped, and every one has the same length.
    static func isPlainUUID(_ text: String) -> Bool {
        text.utf8.count == 36
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || $0 == 0x2D }
    }

    /// Where `text` is in `bytes`, if it is there exactly once.
    static func onlyRange(of text: String, in bytes: [UInt8]) -> Range<Int>? {
        let needle = Array(text.utf8)
        var found: Range<Int>?
        var start = 0
        while let range = bytes[start...].firstRange(of: needle) {
            guard found == nil else { return nil }
            found = range
            start = range.upperBound
        }
        return found
    }
}
