import FoundationEssentials
import WebhooksCore

/// A send under way: its job and the delivery as it was read to send it, by outbox entry name.
struct InFlight {
    var job: Job
    var delivery: Delivery
    var startedAt: Date
    /// Who reads the answer.
    var provider: DeliveryProvider
    /// The forum thread it was sent to or makes (`threadPerServer`), kept or forgotten by the answer.
    var thread: ServerThread?
    /// The status card it posted or edited (`statusCard`), kept or forgotten by the answer.
    var card: ServerCard?
    /// The collapse window it posted or edited the message of (`collapse`), kept or forgotten by
    /// the answer.
    var collapsed: CollapsedSend?
}
