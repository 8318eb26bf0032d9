import ArgumentParser
import FoundationEssentials
import Glibc
import WebhooksCore

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a key. It is printed once, alone on the last line, and never stored.",
            discussion:
                "A user key (--user) acts as that user on /webhooks. A service key (--service) may call only /servers and /events."
        )

        @OptionGroup var options: ConfigOptions
        @Option(help: ArgumentHelp("The user the key acts as.", valueName: "user-id")) var user: String?
        @Option(help: ArgumentHelp("Make a service key for this service.", valueName: "name")) var service: String?
        @Option(help: "A note to recognise the key by in `keys list`.") var label: String?

        /// Who the key is for: exactly one of --user and --service, a valid id.
        func subject() throws -> (kind: APIKeyKind, id: String) {
            let subject: (kind: APIKeyKind, id: String)
            switch (user, service) {
            case (let user?, nil): subject = (.user, user)
            case (nil, let service?): subject = (.service, service)
            default: throw ValidationError("Give exactly one of --user or --service.")
            }
            guard Identifier.isExternalID(subject.id) else {
                throw ValidationError("Ids are \(Identifier.externalIDRule).")
            }
            return subject
        }

        func validate() throws {
            _ = try subject()
        }

        func run() throws {
            let (kind, subject) = try subject()
            let config = try options.load()
            let store = try ConfigOptions.openStore(config)
            let secret = try store.openSecret(at: config.secretPath)
            let key = try KeyVerifier(secret: secret, store: store).issue(
                kind: kind, subject: subject, label: label, now: Timestamp.format(Date()))
            print("Created \(kind.rawValue) key \(key.id) for \(subject). Keep it now; it is not shown again:")
            print(key.text)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List keys: id, kind, user or service, state, creation time, label.")

        @OptionGroup var options: ConfigOptions

        func run() throws {
            let store = try ConfigOptions.openStore(try options.load())
            for key in try store.allKeys() {
                let state = key.revokedAt == nil ? "active" : "revoked"
                print(
                    [key.id, key.kind.rawValue, key.subject, state, key.createdAt, key.label ?? ""].joined(
                        separator: "  "))
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke a key; the next request with it gets 401.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: ArgumentHelp("The key id, as in `keys list`.", valueName: "key-id")) var keyId: String

        func run() throws {
            let store = try ConfigOptions.openStore(try options.load())
            guard keyId.utf8.count == 16, keyId.allSatisfy(\.isHexDigit),
                try store.revokeKey(id: keyId.lowercased(), at: Timestamp.format(Date()))
            else {
                printError("no key \(keyId)")
                throw ExitCode(1)
            }
            print("revoked \(keyId)")
        }
    }
}
