/// What a delivery's attempt did on Discord (issue 20, "Delivery records"): posted a new message,
/// or edited the server's status card in place. Shown in each delivery's JSON as `action`.
public enum DeliveryAction: String, Codable, Sendable {
    case post, edit
}
