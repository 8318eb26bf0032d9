/// A store as a whole, as `serve` and the command line open it: the API's `Store`, the helper's
/// `Outbox`, and what `serve` does with it before any worker starts. The command line asks this of
/// whichever backend `database_url` chose, never which one it is.
public protocol StoreBackend: Store, Outbox {
    /// Repairs what a process killed mid-write may have left; returns what it did and how often
    /// (only what it did at all), for the log.
    func recoverAtStart() throws -> [(what: String, count: Int)]
    /// The HMAC secret keys are checked with, from `path` (made on first use); a backend several
    /// hosts share also checks it is the secret its keys were made under.
    func openSecret(at path: String) throws -> [UInt8]
    /// "flat files in DIR", "PostgreSQL on HOST:PORT, database NAME": never a password.
    func summary() -> String
    /// What the helpers of several hosts coordinate through; nil for a store of one host.
    var coordination: HostCoordination? { get }
}
