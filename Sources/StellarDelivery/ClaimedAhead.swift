import FoundationEssentials
import WebhooksCore

/// The next send's delivery, claimed shortly before the gate's rate lets it go
/// (`DeliveryHelper.claimAhead`). A claim on flat files waits for the user's lock, which a burst of
/// fan-outs holds nearly all the time (50 to 150 ms a claim), and the gate spaces starts from the
/// real start: claimed at the gate's opening, every start came that much late, and the rate fell
/// short by as much.
struct ClaimedAhead {
    var name: String
    var delivery: Delivery
    /// When it was claimed: a claim not sent soon after is dropped, and made again at its turn.
    var at: Date
}
