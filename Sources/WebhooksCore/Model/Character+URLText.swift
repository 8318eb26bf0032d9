/// The character classes webhook URLs and stored names are checked with: ASCII only, so that no
/// Unicode digit or letter passes where a URL or a file name needs the plain one.
extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }

    var isASCIIUpperOrDigit: Bool { ("A"..."Z").contains(self) || isASCIIDigit }

    var isASCIIAlphanumeric: Bool { ("a"..."z").contains(self) || isASCIIUpperOrDigit }

    var isTokenCharacter: Bool { isASCIIAlphanumeric || self == "_" || self == "-" }
}
