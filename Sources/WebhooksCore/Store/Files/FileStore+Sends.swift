/// Manual-send places as flocks, so a worker killed mid-send frees its place at once.
extension FileStore {
    /// `slots`: how many sends may be in flight across all workers.
    public func admitManualSend(userId: String, slots: Int) throws -> SendAdmission {
        try FileSystem.makeFolder(layout.user(userId))
        guard let userLock = try FileLock(trying: layout.userSendLock(userId)) else { return .userBusy }
        for slot in 0..<slots {
            if let slotLock = try FileLock(trying: layout.sendSlot(slot)) {
                return .admitted(SendLease { userLock.unlock(); slotLock.unlock() })
            }
        }
        userLock.unlock()
        return .workersBusy
    }
}
