import ArgumentParser
import FoundationEssentials
import Glibc
import StellarDelivery
import WebhooksCore

struct Emit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emit",
        abstract: "Queue an event about a server (what POST /events does over HTTP).",
        discussion: "Creates one pending delivery per matching webhook of the server's owner and prints how many.")

    @OptionGroup var options: ConfigOptions
    @Argument(help: ArgumentHelp("Event name, e.g. server.started or SERVER_STARTED.", valueName: "event")) var event: String
    @Option(help: ArgumentHelp(valueName: "server-id")) var server: String
    @Option(help: ArgumentHelp("Event data as a JSON object, e.g. '{\"backupId\":\"b1\"}'.", valueName: "json")) var data: String?

    func run() throws {
        guard let canonical = EventCatalogue.canonical(event) else {
            throw ValidationError("Unknown event \(event). Known: \(EventCatalogue.all.joined(separator: ", "))")
        }
        var fields: [String: JSONValue] = [:]
        if let data {
            guard case .object(let members)? = JSONValue.parse(Array(data.utf8)) else {
                throw ValidationError("--data must be a JSON object.")
            }
            fields = members
        }
        let config = try options.load()
        let store = try ConfigOptions.openStore(config)
        guard Identifier.isExternalID(server), let found = try store.server(id: server) else {
            printError("no server \(server)")
            throw ExitCode(1)
        }
        let emitted = try EventEmitter(store: store).emit(canonical, server: found, data: fields, now: Date())
        if emitted.deliveries > 0 { HelperLink(dataDir: config.dataDir).wake() }
        print("queued \(emitted.deliveries) deliveries")
    }
}
