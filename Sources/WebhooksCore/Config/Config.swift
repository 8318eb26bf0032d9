import FoundationEssentials
import Glibc
import Logging

/// The service's configuration (docs/architecture.md: "Configuration"): defaults, overridden by the
/// file, overridden by `STELLAR_WEBHOOKS_<KEY>` in the environment.
public struct Config: Equatable, Sendable {
    public var dataDir = "/var/lib/stellar-webhooks"
    /// A unix socket path, or `HOST:PORT` for TCP (nginx on another machine).
    public var socket = "/run/stellar-webhooks/fcgi.sock"
    /// Who may connect when `socket` is TCP: IPv4 addresses (libfcgi's FCGI_WEB_SERVER_ADDRS).
    public var allowedClients = ["127.0.0.1"]
    public var socketMode: UInt32 = 0o660
    public var socketGroup: String? = nil
    /// Four per CPU (4 to 64): a worker serves one request at a time and spends much of it
    /// waiting, on disk syncs or on Discord for a manual send, so more workers than CPUs keep the
    /// CPUs busy meanwhile, and the syncs of concurrent writes share the file system's commits.
    /// On 2 CPUs, 8 workers instead of 2 answered GET /webhooks 1.25x and creates 1.8x as fast
    /// (bench/README.md).
    public var workers = min(64, 4 * max(1, ProcessInfo.processInfo.activeProcessorCount))
    public var maxRequests = 10_000
    public var maxBodyBytes = 65_536
    public var discordHosts = DiscordWebhookURL.discordOwnHosts
    public var slackHosts = SlackWebhookURL.slackOwnHosts
    public var allowInsecureTargets = false
    public var caFile: String? = nil
    public var deliveryTimeout = 10
    public var retrySchedule = [10, 60, 300, 1800, 7200, 21600, 43200]
    public var deliveryConcurrency = 32
    public var globalRateLimit = 50
    public var retentionDays = 30
    /// The footer of every message a person reads: Discord's embed footer and Slack's context line
    /// (one brand, one key).
    public var discordFooter = "StellarStack"
    public var logLevel = Logger.Level.info
    /// Keeps one user's `GET /webhooks` and event fan-out bounded.
    public var maxWebhooksPerUser = 100
    /// The HMAC key secret; nil is `data_dir/secret.key`. Hosts sharing a database share it.
    public var secretFile: String? = nil
    /// Empty: the flat-file store in `data_dir`. Else a libpq URI: the PostgreSQL store.
    public var databaseURL = ""

    public var secretPath: String { secretFile ?? "\(dataDir)/secret.key" }
    public var listenAddress: ListenAddress { ListenAddress(socket)! }

    public init() {}

    public static let environmentPrefix = "STELLAR_WEBHOOKS_"
    static let longestRetryStep = 30 * 86_400
    public static let defaultPath = "/etc/stellar-webhooks/stellar-webhooks.conf"
}

/// One bad key, and why.
public struct ConfigProblem: Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var reason: String
    public var description: String { "\(key): \(reason)" }
}

extension Config {
    /// Builds a configuration from a file's text and an environment. Every problem is returned,
    /// not just the first, so `check-config` can name them all.
    public static func load(fileText: String, environment: [String: String]) -> (Config, [ConfigProblem]) {
        var settings: [(key: String, value: String, origin: String)] = []
        var problems: [ConfigProblem] = []
        for (number, rawLine) in fileText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.prefix { $0 != "#" }.trimmed
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                problems.append(ConfigProblem(key: "line \(number + 1)", reason: "expected `key = value`"))
                continue
            }
            let key = line[..<equals].trimmed
            let value = line[line.index(after: equals)...].trimmed
            settings.append((key, value, "file"))
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key })
        where name.hasPrefix(environmentPrefix) && name != environmentPrefix + "CONFIG" {
            let key = name.dropFirst(environmentPrefix.count).lowercased()
            settings.append((key, value, "environment"))
        }

        var config = Config()
        for setting in settings {
            if let reason = config.apply(key: setting.key, value: setting.value) {
                let key =
                    setting.origin == "file"
                    ? setting.key : environmentPrefix + setting.key.uppercased()
                problems.append(ConfigProblem(key: key, reason: reason))
            }
        }
        return (config, problems)
    }

    /// Sets one key; returns why the value is refused, or nil.
    mutating func apply(key: String, value: String) -> String? {
        func positive(_ range: ClosedRange<Int> = 1...Int.max) -> Int? {
            guard let number = Int(value), range.contains(number) else { return nil }
            return number
        }
        let rangeMessage = "must be a whole number from 1"
        switch key {
        case "data_dir":
            guard value.hasPrefix("/") else { return "must be an absolute path" }
            // The delivery helper listens on data_dir/deliver.sock: a unix socket path.
            guard value.utf8.count <= 90 else { return "too long (90 bytes at most, for the helper's socket in it)" }
            dataDir = value
        case "socket":
            guard let address = ListenAddress(value) else {
                return "must be an absolute path (a unix socket) or HOST:PORT (TCP, port 1 to 65535)"
            }
            if case .unix(let path) = address, path.utf8.count >= 108 {
                return "too long for a unix socket path (107 bytes at most)"
            }
            socket = value
        case "allowed_clients":
            let addresses = value.split(separator: ",").map { String($0.trimmed) }
            guard !addresses.isEmpty, addresses.allSatisfy(ListenAddress.isIPv4) else {
                return "must be comma-separated IPv4 addresses, such as 127.0.0.1,10.0.0.5"
            }
            allowedClients = addresses
        case "secret_file":
            guard value.hasPrefix("/") else { return "must be an absolute path" }
            secretFile = value
        case "database_url":
            guard value.isEmpty || value.hasPrefix("postgresql://") || value.hasPrefix("postgres://") else {
                return "must be empty (flat files in data_dir) or a postgresql:// URI"
            }
            databaseURL = value
        case "socket_mode":
            guard let mode = UInt32(value, radix: 8), mode <= 0o777 else {
                return "must be octal permissions such as 0660"
            }
            socketMode = mode
        case "socket_group":
            socketGroup = value.isEmpty ? nil : value
        case "workers":
            guard let number = positive(1...256) else { return "\(rangeMessage) to 256" }
            workers = number
        case "max_requests":
            guard let number = positive() else { return "\(rangeMessage) up" }
            maxRequests = number
        case "max_body_bytes":
            guard let number = positive(1...(64 << 20)) else { return "\(rangeMessage) to 67108864" }
            maxBodyBytes = number
        case "discord_hosts":
            guard let hosts = Self.hostList(value) else { return Self.hostListRule }
            discordHosts = hosts
        case "slack_hosts":
            guard let hosts = Self.hostList(value) else { return Self.hostListRule }
            slackHosts = hosts
        case "allow_insecure_targets":
            guard let flag = Self.boolean(value) else { return "must be true or false" }
            allowInsecureTargets = flag
        case "ca_file":
            caFile = value.isEmpty ? nil : value
            if let path = caFile, !FileManager.default.isReadableFile(atPath: path) {
                return "no readable file at \(path)"
            }
        case "delivery_timeout":
            guard let number = positive(1...600) else { return "\(rangeMessage) to 600 (seconds)" }
            deliveryTimeout = number
        case "retry_schedule":
            let steps = value.split(separator: ",").map { Int($0.trimmed) }
            guard !steps.isEmpty, steps.allSatisfy({ (0...Self.longestRetryStep).contains($0 ?? -1) }) else {
                return "must be a comma-separated list of seconds, each at most \(Self.longestRetryStep) (30 days)"
            }
            retrySchedule = steps.compactMap { $0 }
        case "delivery_concurrency":
            guard let number = positive(1...1024) else { return "\(rangeMessage) to 1024" }
            deliveryConcurrency = number
        case "global_rate_limit":
            guard let number = positive(1...100_000) else { return "\(rangeMessage) to 100000 (per second)" }
            globalRateLimit = number
        case "retention_days":
            guard let number = positive(1...36_500) else { return "\(rangeMessage) to 36500" }
            retentionDays = number
        case "discord_footer":
            guard !value.isEmpty, value.count <= 2048 else { return "must be 1 to 2048 characters" }
            discordFooter = value
        case "max_webhooks_per_user":
            guard let number = positive(1...100_000) else { return "\(rangeMessage) to 100000" }
            maxWebhooksPerUser = number
        case "log_level":
            guard let level = Logger.Level(rawValue: value) else {
                return "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
            }
            logLevel = level
        default:
            return "unknown key"
        }
        return nil
    }

    private static func boolean(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }

    private static let hostListRule = "must be a comma-separated list of `host` or `host:port`"

    /// A hosts key's value, lower case; nil when it is not a list of hosts.
    private static func hostList(_ value: String) -> [String]? {
        let hosts = value.split(separator: ",").map { $0.trimmed.lowercased() }
        return !hosts.isEmpty && hosts.allSatisfy(isHostWithOptionalPort) ? hosts : nil
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`.
    private static func isHostWithOptionalPort(_ text: String) -> Bool {
        var host = Substring(text)
        var port: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return false }
            host = text[text.index(after: text.startIndex)..<close]
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return false }
                port = after.dropFirst()
            }
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2, !parts[0].isEmpty,
                parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" })
            else { return false }
            port = parts.count == 2 ? parts[1] : nil
        }
        if let port {
            guard let number = Int(port), (1...65535).contains(number) else { return false }
        }
        return true
    }
}

extension Config {
    /// Reads the configuration file chosen by `--config`, else `STELLAR_WEBHOOKS_CONFIG`, else the
    /// installed default when it exists (otherwise defaults alone), then applies the environment.
    public static func load(path explicitPath: String?, environment: [String: String]) -> (Config, [ConfigProblem]) {
        let chosen = explicitPath ?? environment[environmentPrefix + "CONFIG"]
        let path = chosen ?? (FileManager.default.fileExists(atPath: defaultPath) ? defaultPath : nil)
        var text = ""
        var problems: [ConfigProblem] = []
        if let path {
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                problems.append(ConfigProblem(key: "config", reason: "cannot read \(path)"))
            }
        }
        let (config, keyProblems) = load(fileText: text, environment: environment)
        return (config, problems + keyProblems)
    }
}
