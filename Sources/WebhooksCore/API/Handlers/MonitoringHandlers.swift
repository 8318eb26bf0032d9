/// `GET /metrics`: the host's metrics in Prometheus' text format, from the scoreboard every process
/// of the host writes and the store's outbox (docs/architecture.md: "Monitoring"). It takes no
/// key: the shipped web-server snippets let only loopback reach it.
enum MonitoringHandlers {
    static func metrics(_ context: HandlerContext) throws -> Response {
        guard let board = context.scoreboard else {
            return .error(503, "Metrics unavailable: this process has no scoreboard")
        }
        let text = MetricsText.render(board.snapshot(), pending: try context.store.pendingSummary(), now: context.now)
        return Response(status: 200, headers: [("Content-Type", MetricsText.contentType)], body: Array(text.utf8))
    }
}
