import ArgumentParser
import WebhooksCore

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the configuration and name every bad key.",
        discussion: """
            A good configuration prints one line with what serve would make of it, defaults \
            included: `configuration OK: 8 workers, flat files in /var/lib/stellar-webhooks, \
            listening on /run/stellar-webhooks/fcgi.sock`.
            """)

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let (config, problems) = options.loadAll()
        guard problems.isEmpty else {
            for problem in problems { print(problem) }
            throw ExitCode(1)
        }
        // Never the URI itself: it may hold a password.
        let store = config.databaseURL.isEmpty ? "flat files in \(config.dataDir)" : "PostgreSQL (database_url)"
        print("configuration OK: \(config.workers) workers, \(store), listening on \(config.socket)")
    }
}
