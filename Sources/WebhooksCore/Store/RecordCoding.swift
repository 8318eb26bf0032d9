import FoundationEssentials

/// How every backend writes a record: sorted, indented JSON and a final newline, the same bytes
/// in a file and in a database row, so `import` copies records across unchanged.
public enum RecordCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static func encode<T: Encodable>(_ record: T) throws -> [UInt8] {
        var bytes = Array(try encoder.encode(record))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    static let lineEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A record as one line of a log: compact JSON (which escapes any newline in a string) and a
    /// final newline.
    static func encodeLine<T: Encodable>(_ record: T) throws -> [UInt8] {
        var bytes = Array(try lineEncoder.encode(record))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    public static func encodeText<T: Encodable>(_ record: T) throws -> String {
        String(decoding: try encode(record), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(bytes))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decode(T.self, from: Array(text.utf8))
    }
}
