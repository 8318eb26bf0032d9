import FoundationEssentials

/// What a collapsible delivery to a webhook that cannot edit its messages (Slack, `http`) does when
/// its turn comes (README "Crash loops collapsed"). The first event of a window posts; a repeat
/// while the window is open is counted in it and waits, still pending, for the window's end; then
/// the first repeat counted (the carrier) sends one summary, and the others finish as it did,
/// naming its message. A repeat after the window's end posts and opens a new one.
public enum SummaryStep: Equatable, Sendable {
    /// Send it: the event on its own (`isSummary` false; kept as the window's message once
    /// delivered), or the window's summary (`isSummary` true).
    case send(CollapsedSend)
    /// Send nothing now: the webhook keeps `window.window` (this repeat counted), and the delivery
    /// waits, carried by `carrier`, until `until`.
    case hold(CollapsedSend, carrier: String, until: Date)
    /// Another repeat of an ended window: it finishes as the carrier's summary did.
    case follow(carrier: String)
    /// The carrier of a window the webhook no longer keeps (a later window replaced it before its
    /// summary was first tried): there is nothing to summarize.
    case lost
}

extension Webhook {
    /// The step of a collapsible delivery at `now`; nil for one that does not collapse (not marked
    /// when queued, a recovery, an event the webhook no longer collapses, or about no server).
    public func summaryStep(_ delivery: Delivery, now: Date) -> SummaryStep? {
        guard let (serverId, at, collapse) = collapseKey(of: delivery) else { return nil }
        func send(_ window: CollapseWindow, summary: Bool = false) -> CollapsedSend {
            CollapsedSend(
                serverId: serverId, event: delivery.event, window: window, windowSeconds: collapse.windowSeconds,
                url: url, isSummary: summary)
        }
        if let shown = delivery.summary { return .send(send(shown, summary: true)) }
        let kept = windows?[serverId]?[delivery.event]
        let end = kept?.end(windowSeconds: collapse.windowSeconds)
        // Held already: recorded so, or counted before a stop that came before its record.
        let countedBefore = kept?.held?.contains(delivery.id) == true ? kept?.held?.first : nil
        if let carrier = delivery.carriedBy ?? countedBefore {
            guard carrier == delivery.id else { return .follow(carrier: carrier) }
            guard let kept, let end, kept.held?.first == delivery.id else { return .lost }
            return end > now ? .hold(send(kept), carrier: carrier, until: end) : .send(send(kept, summary: true))
        }
        guard !delivery.manual else { return nil }  // a manual retry of a post posts again, alone
        let fresh = CollapseWindow(messageId: nil, first: at, last: at, count: 1)
        guard let kept, kept.messageId != nil, let end, end > now,
            var counted = kept.after(delivery, at: at, windowSeconds: collapse.windowSeconds)
        else { return .send(send(fresh)) }
        counted.held = CollapseWindow.remembering(delivery.id, after: kept.held ?? [])
        return .hold(send(counted), carrier: counted.held?.first ?? delivery.id, until: end)
    }
}

extension Delivery {
    /// A held repeat at its window's end, finished as its carrier's summary was: delivered naming
    /// its message, failed with it, or due again when the carrier is (at least `wait` from `now`,
    /// so a carrier being sent elsewhere is not asked after in a loop). No attempt of its own.
    public func following(_ carrier: Delivery?, carrierId: String, now: Date, wait: TimeInterval = 1) -> Delivery {
        var done = self
        done.action = .collapsed
        done.carriedBy = carrierId
        switch carrier?.status {
        case .delivered?:
            done.status = .delivered
            done.deliveredAt = Timestamp.format(now)
            done.nextAttemptAt = nil
            done.error = nil
            done.sentMessageId = carrier?.sentMessageId
        case .pending?:
            let due = carrier?.nextAttemptAt.flatMap(Timestamp.parse) ?? now
            done.nextAttemptAt = Timestamp.format(max(due, now.addingTimeInterval(wait)))
        case .failed?:
            done.status = .failed
            done.nextAttemptAt = nil
            done.error =
                "The summary that carries it failed: retry delivery \(carrierId)"
                + (carrier?.error.map { " (\($0))" } ?? "")
        case nil:
            done.status = .failed
            done.nextAttemptAt = nil
            done.error = "The summary that carries it (delivery \(carrierId)) is no longer kept"
        }
        return done
    }
}
