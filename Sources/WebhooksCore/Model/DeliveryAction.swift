/// What a delivery's attempt did on Discord (issue 20, "Delivery records"): posted a new message,
/// edited the server's status card in place, or edited its collapse window's message (a repeat
/// within a `collapse` window). Shown in each delivery's JSON as `action`.
public enum DeliveryAction: String, Codable, Sendable {
    case post, edit, collapsed
}
