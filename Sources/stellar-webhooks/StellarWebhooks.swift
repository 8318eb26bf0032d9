import ArgumentParser
import WebhooksCore

struct StellarWebhooks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stellar-webhooks",
        abstract:
            "Self-hosted StellarStack webhooks: a FastCGI service behind nginx that delivers server events to Discord, Slack and HTTPS endpoints.",
        discussion: """
            Configuration comes from --config FILE (else $STELLAR_WEBHOOKS_CONFIG, else \
            /etc/stellar-webhooks/stellar-webhooks.conf when it exists); any key can be overridden \
            as STELLAR_WEBHOOKS_<KEY>. Every command acts on data_dir directly and is safe to run \
            while `serve` is running.
            """,
        version: Product.version,
        subcommands: [
            Serve.self, Status.self, Metrics.self, CheckConfig.self, Keys.self, Servers.self, Emit.self, Recover.self,
            Migrate.self, Import.self, Worker.self, Deliver.self,
        ]
    )
}
