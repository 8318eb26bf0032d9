/// The character classes webhook URLs and stored names are checked with: ASCII only, so that no
/// Unicode digit or letter passes where a URL or a file name needs the plain one. `isASCII` first:
/// a range of Characters also holds a plain one with combining marks ("1" + U+0301 sorts between
/// "0" and "9").
extension Character {
    var isASCIIDigit: Bool { isASCII && ("0"..."9").contains(self) }

    var isASCIIUpperOrDigit: Bool { isASCII && ("A"..."Z").contains(self) || isASCIIDigit }

    var isASCIIAlphanumeric: Bool { isASCII && ("a"..."z").contains(self) || isASCIIUpperOrDigit }

    var isTokenCharacter: Bool { isASCIIAlphanumeric || self == "_" || self == "-" }
}
