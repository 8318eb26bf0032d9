import ArgumentParser
import FoundationEssentials
import Glibc
import WebhooksCore

struct Servers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "servers",
        abstract: "Manage the servers events are about (what PUT/DELETE /servers do over HTTP).",
        subcommands: [Put.self, List.self, Remove.self])

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "put", abstract: "Create or update a server.")

        @OptionGroup var options: ConfigOptions
        @Argument(
            help: ArgumentHelp("The panel's id for the server: 1-128 of A-Z a-z 0-9 . _ -.", valueName: "server-id"))
        var serverId: String
        @Option(help: "Display name, shown in the messages.") var name: String
        @Option(help: ArgumentHelp("The user who owns it and receives its events.", valueName: "user-id")) var owner:
            String
        @Option(help: "Status shown in messages, e.g. RUNNING.") var status: String?

        func validate() throws {
            guard Identifier.isExternalID(serverId), Identifier.isExternalID(owner) else {
                throw ValidationError("Ids are \(Identifier.externalIDRule).")
            }
        }

        func run() throws {
            let store = try ConfigOptions.openStore(try options.load())
            let server = try store.putServer(
                id: serverId, name: name, ownerId: owner, status: status, now: Timestamp.format(Date()))
            print("server \(server.id) (\(server.name)) owned by \(server.ownerId)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List servers: id, owner, status, name.")

        @OptionGroup var options: ConfigOptions

        func run() throws {
            let store = try ConfigOptions.openStore(try options.load())
            for server in try store.allServers() {
                print([server.id, server.ownerId, server.status ?? "-", server.name].joined(separator: "  "))
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Remove a server and the webhooks scoped to it.")

        @OptionGroup var options: ConfigOptions
        @Argument(help: ArgumentHelp("The server to remove, as in `servers list`.", valueName: "server-id"))
        var serverId: String

        func run() throws {
            let store = try ConfigOptions.openStore(try options.load())
            guard Identifier.isExternalID(serverId), try store.removeServer(id: serverId) else {
                printError("no server \(serverId)")
                throw ExitCode(1)
            }
            print("removed \(serverId)")
        }
    }
}
