import XCTest

@testable import WebhooksCore

final class ConfigTests: XCTestCase {
    func testDefaultsMatchTheDesign() {
        let (config, problems) = Config.load(fileText: "", environment: [:])
        XCTAssertEqual(problems, [])
        XCTAssertEqual(config.maxBodyBytes, 65536)
        XCTAssertEqual(config.retrySchedule, [10, 60, 300, 1800, 7200, 21600, 43200])
        XCTAssertEqual(config.socketMode, 0o660)
        XCTAssertEqual(config.discordHosts.first, "discord.com")
        XCTAssertEqual(config.slackHosts, ["hooks.slack.com"])
    }

    func testSlackHostsAreCheckedLikeDiscords() {
        let (config, problems) = Config.load(
            fileText: "slack_hosts = Hooks.Slack.com, [::1]:8443", environment: [:])
        XCTAssertEqual(problems, [])
        XCTAssertEqual(config.slackHosts, ["hooks.slack.com", "[::1]:8443"])
        for bad in ["", "hooks.slack.com/services", "a:b:c", "host:99999", "user@host"] {
            let (_, problems) = Config.load(fileText: "", environment: ["STELLAR_WEBHOOKS_SLACK_HOSTS": bad])
            XCTAssertEqual(problems.map(\.key), ["STELLAR_WEBHOOKS_SLACK_HOSTS"], bad)
        }
    }

    func testFileThenEnvironmentOverride() {
        let text = """
            # comment
            workers = 3
            data_dir = /srv/data   # trailing comment
            discord_hosts = discord.com, 127.0.0.1:9000
            """
        let (config, problems) = Config.load(
            fileText: text, environment: ["STELLAR_WEBHOOKS_WORKERS": "5", "PATH": "/bin"])
        XCTAssertEqual(problems, [])
        XCTAssertEqual(config.workers, 5)
        XCTAssertEqual(config.dataDir, "/srv/data")
        XCTAssertEqual(config.discordHosts, ["discord.com", "127.0.0.1:9000"])
    }

    func testEveryBadKeyIsNamed() {
        let text = """
            workers = many
            colour = blue
            socket_mode = 999
            retry_schedule = 10,x
            data_dir = relative
            just a line
            """
        let (_, problems) = Config.load(fileText: text, environment: ["STELLAR_WEBHOOKS_LOG_LEVEL": "loud"])
        XCTAssertEqual(
            problems.map(\.key),
            ["line 6", "workers", "colour", "socket_mode", "retry_schedule", "data_dir", "STELLAR_WEBHOOKS_LOG_LEVEL"])
        XCTAssertEqual(problems[2].reason, "unknown key")
    }
}
