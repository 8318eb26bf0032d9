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
    @Argument(help: ArgumentHelp("Event name, e.g. server.started or SERVER_STARTED.", valueName: "event")) var event:
        String
    @Option(
        help: ArgumentHelp(
            "The server the event is about, as the panel names it (`servers list`).", valueName: "server-id"))
    var server: String
    @Option(help: ArgumentHelp("Event data as a JSON object, e.g. '{\"backupId\":\"b1\"}'.", valueName: "json"))
    var data: String?

    // Checked here rather than in run(), so a mistake is shown with emit's own usage.
    func validate() throws {
        guard EventCatalogue.canonical(event) != nil else {
            throw ValidationError("Unknown event \(event). Known: \(EventCatalogue.all.joined(separator: ", "))")
        }
        if let data {
            guard case .object? = JSONValue.parse(Array(data.utf8)) else {
                throw ValidationError("--data must be a JSON object, e.g. '{\"backupId\":\"b1\"}'.")
            }
        }
    }

    func run() throws {
        let canonical = EventCatalogue.canonical(event) ?? event
        var fields: [String: JSONValue] = [:]
        if let data, case .object(let members)? = JSONValue.parse(Array(data.utf8)) { fields = members }
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
