import FoundationEssentials
import Glibc

/// What workers and the CLI say to the delivery helper over `data_dir/deliver.sock`, one line per
/// connection; both ends encode and parse it here.
///
///     wake\n          new deliveries are in the outbox (no answer)
///     send {id}\n     send this pending delivery now; the helper answers `done\n` once it is
///                     recorded as sent or failed
///
/// The outbox stays the source of truth: if the helper is down, a wake is simply lost and its
/// timer finds the work anyway.
public enum HelperCommand: Equatable, Sendable {
    case wake
    case send(deliveryId: String)

    /// The helper's answer to `send`.
    public static let doneLine = "done"
    /// Longer lines are not commands; a reader stops there.
    public static let maxLineLength = 256

    /// The line to send, without its newline.
    public var line: String {
        switch self {
        case .wake: return "wake"
        case .send(let deliveryId): return "send \(deliveryId)"
        }
    }

    /// Parses a line without its newline; nil for anything else.
    public init?(line: String) {
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        switch words.count {
        case 1 where words[0] == "wake":
            self = .wake
        case 2 where words[0] == "send" && Identifier.isUUID(String(words[1])):
            self = .send(deliveryId: String(words[1]))
        default:
            return nil
        }
    }
}

/// How handlers reach the delivery helper; the worker's is a socket client, the tests' a fake.
public protocol DeliveryDispatch: Sendable {
    /// New deliveries are queued. Best effort.
    func wake()
    /// Waits until the helper has finished with a queued delivery; false if it did not say so
    /// before `timeout` (the delivery then stays queued).
    func sendNow(deliveryId: String, timeout: TimeInterval) -> Bool
}
