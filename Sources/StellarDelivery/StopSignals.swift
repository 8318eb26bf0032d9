import CSystem
import FoundationEssentials
import Glibc

/// SIGTERM and SIGINT as a readable descriptor (signalfd), so the helper's one poll sees them
/// beside libcurl's sockets. Also: leave when the master dies, and ignore SIGPIPE.
struct StopSignals {
    let fd: Int32

    init() throws {
        _ = stellar_set_parent_death_signal(SIGTERM)
        signal(SIGPIPE, SIG_IGN)
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        sigprocmask(SIG_BLOCK, &signals, nil)
        fd = signalfd(-1, &signals, Int32(SFD_CLOEXEC | SFD_NONBLOCK))
        guard fd >= 0 else {
            throw HelperError(description: "signalfd: \(String(cString: strerror(errno)))")
        }
    }
}
