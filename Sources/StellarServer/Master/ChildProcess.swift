import FoundationEssentials
import Glibc

/// Starts a child running this same binary with an internal subcommand (posix_spawn: the master
/// never forks itself). A worker gets the listening socket as fd 0, the helper /dev/null; both get
/// default signal handling and an empty signal mask, whatever the master blocks.
enum ChildProcess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// This very binary. After an upgrade renames a new file over it, its path no longer leads
    /// here ("… (deleted)"), but /proc/self/exe still does: children run the code of their master
    /// until a restart.
    static let executable = "/proc/self/exe"
    /// argv[0] of the children: the path the master was started from (read at its first spawn,
    /// before any upgrade), so `ps` shows what runs.
    static let programName: String = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(executable, &buffer, buffer.count - 1)
        guard length > 0 else { return "stellar-webhooks" }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    static func spawn(arguments: [String], listenFD: Int32?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch listenFD {
        case nil: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case 0?: break
        case let fd?: posix_spawn_file_actions_adddup2(&actions, fd, 0)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([programName] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw Failure(description: "posix_spawn \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// "exited with status 0", "killed by signal 9": why a child ended, for the log.
    static func describe(status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "killed by signal \(signal)"
    }

    static func exitedCleanly(status: Int32) -> Bool {
        status & 0x7f == 0 && (status >> 8) & 0xff == 0
    }
}
