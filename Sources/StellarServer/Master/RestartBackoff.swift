import FoundationEssentials
import Glibc

/// How soon to replace a child that died: at once after one that lived a while; while they keep
/// dying young, after a growing delay (0.1 s, doubling, at most 10 s), so a crash loop cannot spin.
struct RestartBackoff {
    static let youngDeath: TimeInterval = 2
    static let longest: TimeInterval = 10

    private(set) var current: TimeInterval = 0

    /// The delay before replacing a child that lived for `age` seconds.
    mutating func delay(afterLivingFor age: TimeInterval) -> TimeInterval {
        guard age < Self.youngDeath else {
            current = 0
            return 0
        }
        return grow()
    }

    /// The next, longer delay (also after a failed start).
    mutating func grow() -> TimeInterval {
        current = current == 0 ? 0.1 : min(current * 2, Self.longest)
        return current
    }
}
