import FoundationEssentials
import Glibc

/// Start-up recovery (docs/architecture.md: "Files on disk"): a process killed mid-write leaves
/// only `.tmp-*` files or folders behind, since records are replaced by rename. Remove those; touch
/// nothing else.
extension FileStore {
    /// Returns the paths removed.
    @discardableResult
    public func removeStrayTempFiles() throws -> [String] {
        var removed: [String] = []
        func sweep(_ folder: String) throws {
            for name in try FileSystem.list(folder) {
                let path = "\(folder)/\(name)"
                if name.hasPrefix(FileSystem.tempPrefix) {
                    try FileSystem.removeTree(path)
                    removed.append(path)
                } else if isFolder(path) {
                    try sweep(path)
                }
            }
        }
        try sweep(root)
        return removed
    }

    private func isFolder(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
