import FoundationEssentials
import Glibc
import Logging
import WebhooksCore

/// Starting sends and recording what came back: the outcome policy applied
/// (docs/architecture.md, "A delivery").
extension DeliveryHelper {
    /// Starts every send the gate allows, in order: manual sends first, then queue order. Only
    /// the first due delivery of each webhook that is sent is considered, so first attempts to it
    /// leave in the order they were queued; one finished or held without a send (a collapsed
    /// repeat) lets the next be considered at once.
    func startDueSends(now: Date) {
        guard !outage.isActive else { return }  // no outcome could be recorded
        var considered = Set<String>()
        for (name, job) in queue.inSendOrder {
            guard gate.isOpen(now: now) else { break }
            guard job.dueAt <= now, considered.insert(job.rateLimitKey).inserted,
                gate.mayStart(job.rateLimitKey, now: now)
            else { continue }
            do {
                try begin(name, job, now: now)
                if inFlight[name] == nil { considered.remove(job.rateLimitKey) }
            } catch let error as DecodingError {
                setAside(name, error)
            } catch {
                report("starting a send", error)
            }
        }
        claimNextAhead(now: now)
    }

    /// Claims the delivery that goes when the rate next lets one, if that is within `claimAhead`:
    /// the first in send order due by then whose webhook takes a send then (as `startDueSends`
    /// picks). A claim left unsent for `claimKept` is dropped.
    func claimNextAhead(now: Date) {
        if let ahead = claimedAhead, now.timeIntervalSince(ahead.at) > Self.claimKept { claimedAhead = nil }
        guard claimedAhead == nil, !outage.isActive, let opens = gate.rateOpens(now: now), opens > now,
            opens.timeIntervalSince(now) <= Self.claimAhead
        else { return }
        var considered = Set<String>()
        for (name, job) in queue.inSendOrder where job.dueAt <= opens {
            guard considered.insert(job.rateLimitKey).inserted, gate.isFree(job.rateLimitKey, at: opens) else {
                continue
            }
            do {
                guard let delivery = try store.claimDelivery(outboxName: name, sendKey: job.rateLimitKey) else {
                    queue.remove(name)  // finished, or gone with its webhook
                    continue
                }
                claimedAhead = ClaimedAhead(name: name, delivery: delivery, at: now)
            } catch let error as DecodingError {
                setAside(name, error)
            } catch {
                report("claiming a send", error)
            }
            return
        }
    }

    func begin(_ name: String, _ job: Job, now: Date) throws {
        var job = job
        // The delivery as claimed ahead or now, and the webhook read again: it may have changed.
        guard
            let delivery = try takeClaimedAhead(name, now: now)
                ?? store.claimDelivery(outboxName: name, sendKey: job.rateLimitKey),
            let webhook = try store.webhook(userId: delivery.userId, id: delivery.webhookId)
        else {
            queue.remove(name)  // finished, or gone with its webhook
            return
        }
        guard webhook.enabled || delivery.manual else {
            return try finishUnsent(
                name, delivery, of: webhook.provider,
                error: "Webhook is disabled" + (webhook.disabledReason.map { ": \($0)" } ?? ""), now: now)
        }
        guard let (provider, target) = target(webhook) else {
            return try finishUnsent(
                name, delivery, of: webhook.provider,
                error: "Webhook URL is no longer allowed (discord_hosts, slack_hosts, allow_insecure_targets)", now: now
            )
        }
        var signingKeys: [[UInt8]] = []
        if provider.signsRequests {
            guard let keys = webhook.signing?.keys(for: webhook.id, box: secrets, now: now) else {
                return try finishUnsent(
                    name, delivery, of: provider.name,
                    error: "The webhook's signing secret cannot be opened: was secret.key replaced?", now: now)
            }
            signingKeys = keys
        }
        if target.rateLimitKey != job.rateLimitKey {
            job.rateLimitKey = target.rateLimitKey
            queue.insert(name, job)
            guard gate.mayStart(job.rateLimitKey, now: now) else { return }
        }
        // Its thread, card and collapse window as kept now: an id kept after it was queued is used.
        let card = webhook.card(for: delivery)
        guard delivery.card != true || card != nil else {
            return try finishUnsent(
                name, delivery, of: provider.name, error: "The webhook no longer keeps status cards", now: now)
        }
        var collapsed: CollapsedSend?
        if provider.editsMessages {
            collapsed = webhook.collapsed(delivery)
        } else {
            switch webhook.summaryStep(delivery, now: now) {
            case .send(let send)?: collapsed = send
            case .hold(let send, let carrier, let until)?:
                return try hold(
                    name, delivery, send, carrier: carrier, until: until, key: job.rateLimitKey, now: now)
            case .follow(let carrier)?:
                return try follow(
                    name, delivery, carrier: carrier, of: provider.name, key: job.rateLimitKey, now: now)
            case .lost?:
                return try finishUnsent(
                    name, delivery, of: provider.name,
                    error: "Its collapse window is no longer kept, so there is no summary to send", now: now)
            case nil: break
            }
        }
        let message = OutgoingMessage(
            delivery: delivery, signingKeys: signingKeys, pings: webhook.pings(for: delivery.event),
            thread: webhook.thread(for: delivery), card: card, collapsed: collapsed, now: Date())
        let request = provider.request(for: message, config: config)
        try transport.start(key: name, url: provider.sendURL(target, for: message), request: request)
        let started = Date()  // reading the store took time: the real start
        gate.started(job.rateLimitKey, now: started)
        queue.remove(name)
        inFlight[name] = InFlight(
            job: job, delivery: delivery, startedAt: started, provider: provider, thread: message.thread,
            card: card, collapsed: message.collapsed)
        logger.debug(
            "sending",
            metadata: ["delivery": "\(delivery.id)", "webhook": "\(delivery.webhookId)", "to": "\(target.redacted)"])
    }

    /// The delivery claimed ahead for this entry, unless that claim is older than `claimKept` (a
    /// claim of another entry is kept for its turn).
    func takeClaimedAhead(_ name: String, now: Date) -> Delivery? {
        guard let ahead = claimedAhead, ahead.name == name else { return nil }
        claimedAhead = nil
        return now.timeIntervalSince(ahead.at) <= Self.claimKept ? ahead.delivery : nil
    }

    /// Fails a delivery that cannot be sent at all, without an attempt: the policy's failed
    /// outcome of a refusal.
    func finishUnsent(_ name: String, _ delivery: Delivery, of provider: String, error: String, now: Date) throws {
        let failed = policy.refused(delivery, error: error, now: now)
        board?.deliveryFinished(.failed, by: provider, at: now)  // counted before anyone can read the record
        try store.record(failed, outboxName: name)
        queue.remove(name)
        logger.info(
            "delivery failed",
            metadata: ["delivery": "\(delivery.id)", "webhook": "\(delivery.webhookId)", "error": "\(error)"])
    }

    /// Records an attempt's result and applies its outcome.
    func complete(_ name: String, _ result: AttemptResult, now: Date) {
        guard let sent = inFlight.removeValue(forKey: name) else { return }
        let outcome = policy.outcome(
            of: result, provider: sent.provider, retriesUsed: sent.delivery.retriesUsed, manual: sent.delivery.manual,
            toThread: sent.thread?.id != nil,
            editing: sent.card?.action == .edit || sent.collapsed?.action == .collapsed,
            jitter: Double.random(in: -1...1))
        var delivery = policy.record(outcome, of: result, on: sent.delivery, by: sent.provider, now: now)
        if outcome == .delivered, sent.provider is DiscordProvider, case .answered(_, _, let body) = result {
            delivery.sentMessageId = DiscordProvider.messageId(answer: body)
        } else if outcome == .delivered, sent.collapsed != nil {
            delivery.sentMessageId = delivery.messageId  // Slack's and http's own: webhook-id
        }
        if let card = sent.card { delivery.action = card.action }
        if let window = sent.collapsed { delivery.action = window.action }
        if let window = sent.collapsed, window.isSummary { delivery.summary = window.window }
        if sent.thread != nil, outcome == .delivered, case .answered(_, _, let body) = result {
            delivery.threadId = DiscordProvider.threadId(answer: body)
        }
        keepWhatTheAnswerMade(sent, delivery)
        let providerName = sent.provider.name
        board?.sent(by: providerName, seconds: now.timeIntervalSince(sent.startedAt))
        // Counted before anyone can read the record (Discord has answered: it is final either way).
        if delivery.status != .pending {
            board?.deliveryFinished(delivery.status == .delivered ? .delivered : .failed, by: providerName, at: now)
        }

        var bucketWait: TimeInterval?
        if case .answered(_, let headers, _) = result { bucketWait = sent.provider.bucketWait(headers: headers) }
        switch outcome {
        case .rateLimited(let wait, .webhook):
            bucketWait = max(bucketWait ?? 0, wait)
            board?.rateLimited(.webhook, by: providerName)
            logger.notice(
                "rate limited by \(sent.provider.displayName)",
                metadata: ["webhook": "\(delivery.webhookId)", "wait": "\(wait)s"])
        case .rateLimited(let wait, .global):
            gate.pauseAll(until: now.addingTimeInterval(wait), because: .discordGlobal)
            board?.rateLimited(.global, by: providerName)
            logger.warning("global rate limit from Discord: pausing every send", metadata: ["wait": "\(wait)s"])
        case .rateLimited(let wait, .cloudflareBan):
            gate.pauseAll(until: now.addingTimeInterval(wait), because: .cloudflareBan)
            board?.rateLimited(.cloudflareBan, by: providerName)
            logger.critical(
                "Discord's Cloudflare temporarily banned this address (429 without rate-limit headers): pausing every send for an hour"
            )
        case .webhookGone(let reason):
            board?.webhookDisabled(by: providerName)
            catching("disabling a webhook") { try disable(delivery, of: providerName, reason: reason, now: now) }
        case .threadGone:
            // Pending again and due now: its next send reads no id and makes the thread anew.
            if let thread = sent.thread {
                catching("forgetting a thread") {
                    _ = try store.updateWebhook(userId: delivery.userId, id: delivery.webhookId) { $0.forget(thread) }
                }
            }
        case .messageGone:
            // Pending again and due now: its next send finds no message and posts a new one.
            catching("forgetting an edited message") {
                _ = try store.updateWebhook(userId: delivery.userId, id: delivery.webhookId) {
                    if let card = sent.card { $0.forgetMessage(of: card) }
                    if let window = sent.collapsed { $0.forgetMessage(of: window) }
                }
            }
        default:
            break
        }
        gate.finished(sent.job.rateLimitKey, wait: bucketWait, now: now)
        if let bucketWait, bucketWait > 0 {  // other hosts' helpers must wait too
            catching("keeping a rate-limit wait") {
                try coordination?.holdSends(sendKey: sent.job.rateLimitKey, until: now.addingTimeInterval(bucketWait))
            }
        }

        do {
            if try store.record(delivery, outboxName: name), delivery.status == .pending {
                keep(name, Job(delivery, rateLimitKey: sent.job.rateLimitKey, now: now), now: now)
            }
        } catch {
            // Discord has answered: never send this again. Keep the outcome until it is written.
            outage.hold(name, delivery, rateLimitKey: sent.job.rateLimitKey)
            storageFailed("recording delivery \(delivery.id)", error, now: now)
        }
        if delivery.status != .pending {
            var fields: Logger.Metadata = [
                "delivery": "\(delivery.id)", "webhook": "\(delivery.webhookId)",
                "status": "\(delivery.statusCode.map(String.init) ?? "none")", "attempts": "\(delivery.attempts)",
            ]
            if delivery.status == .failed { fields["error"] = "\(delivery.error ?? "unknown")" }
            logger.info("delivery \(delivery.status.rawValue)", metadata: fields)
        } else if let error = delivery.error {
            logger.info(
                "delivery will be tried again",
                metadata: [
                    "delivery": "\(delivery.id)", "error": "\(error)", "next": "\(delivery.nextAttemptAt ?? "-")",
                ])
        }
    }

    /// What an answer made that later sends need (the card's or the collapse window's message, a
    /// new thread's id), kept on the webhook in one write before the delivery is recorded: the next
    /// send to this webhook (on any host: the claim waits for the record) reads it.
    func keepWhatTheAnswerMade(_ sent: InFlight, _ delivery: Delivery) {
        let messageId = delivery.sentMessageId
        let newThread = sent.thread.flatMap { thread in
            delivery.threadId.flatMap { $0 == thread.id ? nil : (id: $0, thread: thread) }
        }
        let keepsWindow = sent.collapsed.map { !$0.isSummary } ?? false
        guard (messageId != nil && (sent.card != nil || keepsWindow)) || newThread != nil else { return }
        catching("keeping what the answer made") {
            _ = try store.updateWebhook(userId: delivery.userId, id: delivery.webhookId) { webhook in
                if let messageId, let card = sent.card { webhook.keep(card, messageId: messageId) }
                if let messageId, let window = sent.collapsed, !window.isSummary {
                    webhook.keep(window, messageId: messageId)
                }
                if let newThread { webhook.keep(threadId: newThread.id, for: newThread.thread) }
            }
        }
    }

    /// Discord says the webhook is gone: disable it and fail its other automatic deliveries.
    func disable(_ delivery: Delivery, of provider: String, reason: String, now: Date) throws {
        _ = try store.updateWebhook(userId: delivery.userId, id: delivery.webhookId) {
            $0.enabled = false
            $0.disabledReason = reason
            $0.updatedAt = Timestamp.format(now)
        }
        logger.warning("webhook disabled", metadata: ["webhook": "\(delivery.webhookId)", "reason": "\(reason)"])
        for name in queue.automaticJobs(ofWebhook: delivery.webhookId) {
            if let pending = try store.pendingDelivery(outboxName: name) {
                try finishUnsent(name, pending, of: provider, error: "Webhook disabled: \(reason)", now: now)
            } else {
                queue.remove(name)
            }
        }
    }

    /// Tells the workers waiting on finished manual sends that they are done.
    func answerWaiters(_ socket: HelperSocket) {
        guard !waiters.isEmpty, !chores.scanRequested else { return }
        let pending = queue.deliveryIds
            .union(inFlight.values.map(\.delivery.id))
            .union(outage.held.values.map(\.delivery.id))
        waiters.takeFinished(pending: pending).forEach(socket.answerDone)
    }
}
