import ArgumentParser
import FoundationEssentials
import StellarDelivery
import WebhooksCore

/// `recover`: what POST /webhooks/{id}/recover does over HTTP, with the same checks
/// (`BulkRecovery`). The webhook is named with its user: the store finds a webhook through its
/// user (on flat files, the user's folder), as the API does, so an admin names both rather than
/// the command searching every user's webhooks.
struct Recover: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Queue a webhook's failed deliveries of a time range again (POST /webhooks/{id}/recover).",
        discussion: """
            Queues again, through the normal queue, every failed delivery of the webhook created from \
            --since to --until (default: now) that no retry or recovery has sent again, oldest first, \
            at most \(BulkRecovery.limit) per run; prints how many were queued and how many remain for \
            a next run. The webhook must be enabled; --since must be within retention_days.
            """)

    @OptionGroup var options: ConfigOptions
    @Argument(help: ArgumentHelp("The webhook's id.", valueName: "webhook-id")) var webhookId: String
    @Option(help: ArgumentHelp("The user the webhook belongs to.", valueName: "user-id")) var user: String
    @Option(help: ArgumentHelp("Start of the range, e.g. 2026-01-15T12:00:00.000Z.", valueName: "timestamp"))
    var since: String
    @Option(help: ArgumentHelp("End of the range (default: now).", valueName: "timestamp")) var until: String?

    func run() throws {
        let config = try options.load()
        let store = try ConfigOptions.openStore(config)
        var body: [String: JSONValue] = ["since": .string(since)]
        if let until { body["until"] = .string(until) }
        let outcome = try BulkRecovery(store: store).recover(
            userId: user, webhookId: webhookId, body: .object(body), now: Date(),
            retentionDays: config.retentionDays)
        switch outcome {
        case .webhookNotFound:
            printError("no webhook \(webhookId) of user \(user)")
            throw ExitCode(1)
        case .invalid(let validation):
            throw ValidationError(
                validation.issues.map { "--\($0.path.map(\.description).joined(separator: ".")): \($0.message)" }
                    .joined(separator: "\n"))
        case .webhookDisabled:
            printError(
                "webhook \(webhookId) is disabled: enable it first (PATCH with {\"enabled\": true}), then recover")
            throw ExitCode(1)
        case .queued(let queued, let remaining):
            if queued > 0 { HelperLink(dataDir: config.dataDir).wake() }
            print("queued \(queued) (\(remaining) remaining)")
        }
    }
}
