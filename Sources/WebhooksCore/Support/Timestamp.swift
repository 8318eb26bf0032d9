import FoundationEssentials
import Glibc

/// ISO 8601 UTC timestamps with milliseconds (`2026-01-15T12:00:00.000Z`): the only format the
/// API writes. What clients send (`parseRFC3339`) may be any RFC 3339 timestamp.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let totalMillis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(totalMillis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let day =
            "\((Int(parts.tm_year) + 1900).zeroPadded(4))-\((parts.tm_mon + 1).zeroPadded(2))-\(parts.tm_mday.zeroPadded(2))"
        let time = "\(parts.tm_hour.zeroPadded(2)):\(parts.tm_min.zeroPadded(2)):\(parts.tm_sec.zeroPadded(2))"
        return "\(day)T\(time).\((totalMillis % 1000).zeroPadded(3))Z"
    }

    /// Parses what `format` writes; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        // YYYY-MM-DDTHH:MM:SS.mmmZ
        guard bytes.count == 24, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int32(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            let millis = number(20..<23), (1...12).contains(month), (1...31).contains(day), hour < 24,
            minute < 60, second < 61
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let seconds = timegm(&parts)
        // timegm normalises out-of-range days (Feb 31): a date that moved is no date.
        guard parts.tm_mday == day, parts.tm_mon == month - 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(millis) / 1000)
    }

    /// An RFC 3339 timestamp as clients write them: `T` (or `t`, or a space), seconds with a
    /// fraction of any length or none, and `Z` or an offset (`+02:00`); nil for anything else.
    /// Computed as `parse` computes, whole seconds since 1970 plus the fraction, so a timestamp
    /// the API wrote reads back as the very same `Date` in either form (a recovery's `since`
    /// equal to a delivery's `createdAt` includes it).
    public static func parseRFC3339(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(bytes[10]),
            let whole = parse(
                String(decoding: bytes[0..<10], as: UTF8.self) + "T" + String(decoding: bytes[11..<19], as: UTF8.self)
                    + ".000Z")
        else { return nil }
        var index = 19
        var fraction = 0.0
        if bytes[index] == UInt8(ascii: ".") {
            let digits = bytes[(index + 1)...].prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            guard !digits.isEmpty else { return nil }
            // Nanoseconds at most: more digits say nothing a Date keeps.
            let kept = digits.prefix(9)
            let numerator = kept.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            fraction = Double(numerator) / Double((0..<kept.count).reduce(1) { total, _ in total * 10 })
            index += 1 + digits.count
        }
        let zone = bytes[index...]
        var offset = 0
        if zone.count == 1, zone.first == UInt8(ascii: "Z") || zone.first == UInt8(ascii: "z") {
            offset = 0
        } else if zone.count == 6, let sign = zone.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"),
            zone[zone.startIndex + 3] == UInt8(ascii: ":"),
            let hours = Int(String(decoding: zone.dropFirst().prefix(2), as: UTF8.self)),
            let minutes = Int(String(decoding: zone.suffix(2), as: UTF8.self)), hours < 24, minutes < 60
        {
            offset = (hours * 3600 + minutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        let seconds = Int(whole.timeIntervalSince1970) - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds) + fraction)
    }
}
