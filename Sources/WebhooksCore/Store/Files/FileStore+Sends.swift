/// Manual-send places as flocks, so a worker killed mid-send frees its place at once.
extension FileStore {
    /// `slots`: how many sends may be in flight across all workers.
    public func admitManualSend(userId: String, slots: Int) throws -> SendAdmission {
        try FileSystem.makeFolder(layout.user(userId))
        guard let userLock = try FileLock(trying: layout.userSendLock(userId)) else { return .userBusy }
        guard let slotLock = try Self.takeSendSlot(layout, slots: slots) else {
            userLock.unlock()
            return .workersBusy
        }
        return .admitted(
            SendLease {
                userLock.unlock()
                slotLock.unlock()
            })
    }

    /// One of this host's `slots` manual-send places (flocks in `data_dir`), or nil when all are
    /// held. Every backend keeps them here: they guard this host's workers.
    public static func takeSendSlot(_ layout: StoreLayout, slots: Int) throws -> FileLock? {
        for slot in 0..<slots {
            if let slotLock = try FileLock(trying: layout.sendSlot(slot)) { return slotLock }
        }
        return nil
    }
}
