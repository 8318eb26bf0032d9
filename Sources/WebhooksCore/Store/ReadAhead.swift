/// What a request reads after its key, as its route declares (`Route.readAhead`): a backend that
/// pays a round trip per read may fetch it together with the key. The flat files ignore it.
public enum ReadAhead: Sendable {
    case nothing
    /// `GET /webhooks`: whether the key's user's list changed (`Store.webhookList`).
    case webhookList
}
