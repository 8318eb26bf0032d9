/// Admission for manual sends (a test, a manual retry). Each holds a worker until the helper has
/// sent it, so one user may have one in flight, and together they may hold all workers but one:
/// the others stay free for every other request. flocks, so a worker killed mid-send frees its
/// place at once.
extension Store {
    public enum SendAdmission {
        case admitted(SendLease)
        /// This user already has a send in flight.
        case userBusy
        /// Every worker that sends may hold is holding one.
        case workersBusy
    }

    /// The places held by one admitted send; `release` when its answer is ready.
    public struct SendLease {
        let locks: [FileLock]

        public func release() {
            for lock in locks { lock.unlock() }
        }
    }

    /// `slots`: how many sends may be in flight across all workers.
    public func admitManualSend(userId: String, slots: Int) throws -> SendAdmission {
        try FileSystem.makeFolder(layout.user(userId))
        guard let userLock = try FileLock(trying: layout.userSendLock(userId)) else { return .userBusy }
        for slot in 0..<slots {
            if let slotLock = try FileLock(trying: layout.sendSlot(slot)) {
                return .admitted(SendLease(locks: [userLock, slotLock]))
            }
        }
        userLock.unlock()
        return .workersBusy
    }
}
