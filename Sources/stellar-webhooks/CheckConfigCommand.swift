import ArgumentParser
import WebhooksCore

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check the configuration and name every bad key.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let (_, problems) = options.loadAll()
        guard problems.isEmpty else {
            for problem in problems { print(problem) }
            throw ExitCode(1)
        }
        print("configuration OK")
    }
}
