import FoundationEssentials

/// The host's metrics in Prometheus' text format (version 0.0.4), from a scoreboard snapshot and
/// the store's pending deliveries: what `GET /metrics` answers and `metrics` prints. Names follow
/// Prometheus' conventions: the `stellar_webhooks_` prefix, base units (seconds), `_total` on
/// counters. No label holds a user, webhook, key or server id: routes are patterns, events come
/// from the catalogue.
public enum MetricsText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ board: ScoreboardSnapshot, pending: PendingSummary, now: Date) -> String {
        var out = Writer()
        out.family("build_info", .gauge, "The running version (always 1).")
        out.sample("build_info", ["version": Product.version], 1)
        out.family("start_time_seconds", .gauge, "When the master started, in seconds since 1970.")
        out.sample("start_time_seconds", [:], board.startedAt.timeIntervalSince1970)

        out.family("requests_total", .counter, "Requests answered, by route pattern and status code.")
        let routes = Router.routes.map { ($0.method, $0.path) } + [("", "none")]
        for (index, route) in routes.enumerated() {
            for (codeIndex, count) in board.requests[index].enumerated() where count > 0 {
                let code =
                    codeIndex < Scoreboard.statusCodes.count ? String(Scoreboard.statusCodes[codeIndex]) : "other"
                out.sample("requests_total", ["method": route.0, "route": route.1, "code": code], Double(count))
            }
        }
        out.family(
            "request_duration_seconds", .histogram, "Time from reading a request to its answer, by route pattern.")
        for (index, route) in routes.enumerated() {
            let histogram = board.requestDurations[index]
            guard histogram.buckets.contains(where: { $0 > 0 }) else { continue }
            out.histogram(
                "request_duration_seconds", ["method": route.0, "route": route.1],
                bounds: Scoreboard.requestBuckets, histogram)
        }

        out.family("workers", .gauge, "Worker processes by state.")
        out.sample("workers", ["state": "busy"], Double(board.busyWorkers))
        out.sample("workers", ["state": "idle"], Double(board.idleWorkers))
        out.family("workers_configured", .gauge, "Worker processes the configuration asks for.")
        out.sample("workers_configured", [:], Double(board.configuredWorkers))
        out.family("worker_restarts_total", .counter, "Workers started again, by cause.")
        for cause in Scoreboard.RestartCause.allCases {
            out.sample("worker_restarts_total", ["cause": cause.label], Double(board.workerRestarts[cause.rawValue]))
        }
        out.family("delivery_helper_up", .gauge, "Whether the delivery helper is running.")
        out.sample("delivery_helper_up", [:], board.helperPid == nil ? 0 : 1)
        out.family("delivery_helper_restarts_total", .counter, "Delivery helpers started again after one ended.")
        out.sample("delivery_helper_restarts_total", [:], Double(board.helperRestarts))

        out.family("events_received_total", .counter, "Events reported (POST /events), by event.")
        for (index, event) in EventCatalogue.all.enumerated() {
            out.sample("events_received_total", ["event": event], Double(board.events[index]))
        }
        out.family(
            "deliveries_finished_total", .counter, "Deliveries that reached a final state, by provider and outcome.")
        for provider in board.providers {
            for finish in Scoreboard.Finish.allCases {
                out.sample(
                    "deliveries_finished_total", ["provider": provider.name, "outcome": finish.label],
                    Double(provider.finished[finish.rawValue]))
            }
        }
        out.family(
            "send_duration_seconds", .histogram, "Time one request to a provider took, answered or not, by provider.")
        for provider in board.providers {
            out.histogram(
                "send_duration_seconds", ["provider": provider.name], bounds: Scoreboard.sendBuckets,
                provider.sendDurations)
        }
        out.family("sends_in_flight", .gauge, "Requests to providers under way.")
        out.sample("sends_in_flight", [:], Double(board.sendsInFlight))
        out.family("deliveries_pending", .gauge, "Deliveries waiting to be sent (the outbox).")
        out.sample("deliveries_pending", [:], Double(pending.count))
        out.family(
            "oldest_pending_delivery_age_seconds", .gauge,
            "How long the oldest pending delivery has waited (0 with none).")
        out.sample("oldest_pending_delivery_age_seconds", [:], pending.oldestAge(now: now))
        out.family(
            "last_delivery_timestamp_seconds", .gauge,
            "When the last delivery was delivered, in seconds since 1970 (0: none since start).")
        out.sample("last_delivery_timestamp_seconds", [:], board.lastDelivered?.timeIntervalSince1970 ?? 0)
        out.family(
            "last_failed_delivery_timestamp_seconds", .gauge,
            "When the last delivery failed for good, in seconds since 1970 (0: none since start).")
        out.sample("last_failed_delivery_timestamp_seconds", [:], board.lastFailed?.timeIntervalSince1970 ?? 0)

        out.family("sends_paused", .gauge, "Whether every send is paused, by reason.")
        let pause = board.pauseInForce(at: now)
        for reason in Scoreboard.Pause.allCases where reason != .none {
            out.sample("sends_paused", ["reason": reason.label], pause == reason ? 1 : 0)
        }
        out.family(
            "rate_limited_total", .counter,
            "429 answers, by provider and scope (global and cloudflare_ban are Discord's alone).")
        for provider in board.providers {
            for (index, scope) in ["webhook", "global", "cloudflare_ban"].enumerated() {
                out.sample(
                    "rate_limited_total", ["provider": provider.name, "scope": scope],
                    Double(provider.rateLimited[index]))
            }
        }
        out.family(
            "webhooks_disabled_total", .counter,
            "Webhooks disabled because their provider answered that they are gone, by provider.")
        for provider in board.providers {
            out.sample("webhooks_disabled_total", ["provider": provider.name], Double(provider.webhooksDisabled))
        }
        out.family(
            "storage_unavailable_total", .counter,
            "Requests answered 503 because the store could not be read or written.")
        out.sample("storage_unavailable_total", [:], Double(board.storageUnavailable))
        return out.text
    }

    enum Kind: String {
        case counter, gauge, histogram
    }

    struct Writer {
        static let prefix = "stellar_webhooks_"
        var text = ""

        mutating func family(_ name: String, _ kind: Kind, _ help: String) {
            text += "# HELP \(Self.prefix)\(name) \(help)\n# TYPE \(Self.prefix)\(name) \(kind.rawValue)\n"
        }

        mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
            text += Self.prefix + name
            if !labels.isEmpty {
                let pairs = labels.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }
                text += "{" + pairs.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",") + "}"
            }
            text += " \(Self.number(value))\n"
        }

        /// Cumulative buckets from the per-bucket counts, then `+Inf`, `_sum` and `_count`.
        mutating func histogram(
            _ name: String, _ labels: [String: String], bounds: [Double],
            _ histogram: (buckets: [UInt64], sumMicros: UInt64)
        ) {
            var cumulative: UInt64 = 0
            for (index, bound) in bounds.enumerated() {
                cumulative += histogram.buckets[index]
                sample(name + "_bucket", labels.merging(["le": Self.number(bound)]) { $1 }, Double(cumulative))
            }
            cumulative += histogram.buckets[bounds.count]
            sample(name + "_bucket", labels.merging(["le": "+Inf"]) { $1 }, Double(cumulative))
            sample(name + "_sum", labels, Double(histogram.sumMicros) / 1_000_000)
            sample(name + "_count", labels, Double(cumulative))
        }

        static func number(_ value: Double) -> String {
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        }

        static func escape(_ value: String) -> String {
            value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
        }
    }
}
