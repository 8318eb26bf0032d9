/// Collects every problem with a request body, so a 400 lists them all at once
/// (docs/architecture.md: "A request").
public struct Validation {
    public struct Issue: Equatable, Sendable {
        public var code: String
        public var path: [Step]
        public var message: String

        var json: JSONValue {
            .object(["code": .string(code), "path": .array(path.map(\.json)), "message": .string(message)])
        }
    }

    /// One step of an issue's path: a field, or an item of an array (`["mentions", 0, "roles", 1]`).
    public enum Step: Equatable, Sendable, CustomStringConvertible {
        case field(String)
        case index(Int)

        var json: JSONValue {
            switch self {
            case .field(let name): .string(name)
            case .index(let index): .int(index)
            }
        }

        public var description: String {
            switch self {
            case .field(let name): name
            case .index(let index): String(index)
            }
        }
    }

    public private(set) var issues: [Issue] = []

    public init() {}

    public mutating func fail(_ field: String, code: String, _ message: String) {
        fail(at: [.field(field)], code: code, message)
    }

    public mutating func fail(at path: [Step], code: String, _ message: String) {
        issues.append(Issue(code: code, path: path, message: message))
    }

    /// Takes the issues `nested` found in a part of the body (an item of an array), their paths
    /// under `prefix`: the part is checked with the same field readers as the body.
    public mutating func include(_ nested: Validation, under prefix: [Step]) {
        issues += nested.issues.map { Issue(code: $0.code, path: prefix + $0.path, message: $0.message) }
    }

    public mutating func required(_ field: String) {
        fail(field, code: "invalid_type", "Required")
    }

    public mutating func wrongType(_ field: String, expected: String, got value: JSONValue) {
        fail(field, code: "invalid_type", "Expected \(expected), received \(value.typeName)")
    }

    /// A body field as read for one type: absent, JSON null (where null is allowed), the value, or
    /// invalid (of another type; already recorded).
    public enum Field<Value> {
        case absent, null
        case value(Value)
        case invalid
    }

    /// Reads `field` of `body` as `type`. A value of another type (or null, unless `nullable`) is
    /// recorded as `invalid_type`.
    public mutating func field<Value>(
        _ field: String, in body: JSONValue, _ type: JSONType<Value>, nullable: Bool = false
    ) -> Field<Value> {
        guard let raw = body[field] else { return .absent }
        if raw == .null && nullable { return .null }
        guard let value = type.extract(raw) else {
            wrongType(field, expected: type.name, got: raw)
            return .invalid
        }
        return .value(value)
    }

    /// A required, non-empty string of at most `maxLength` characters; nil when it is not one
    /// (recorded).
    public mutating func requiredString(_ field: String, in body: JSONValue, maxLength: Int) -> String? {
        switch self.field(field, in: body, .string) {
        case .absent:
            required(field)
        case .value(let text) where text.isEmpty:
            fail(field, code: "too_small", "\(field) must not be empty")
        case .value(let text) where text.count > maxLength:
            fail(field, code: "too_big", "\(field) must be at most \(maxLength) characters")
        case .value(let text):
            return text
        case .null, .invalid:
            break
        }
        return nil
    }

    public var isEmpty: Bool { issues.isEmpty }

    /// The 400 to answer, or nil when nothing failed.
    public var response: Response? {
        issues.isEmpty ? nil : response(extras: [:])
    }

    /// The 400 with every issue, and `extras` beside them.
    public func response(extras: [String: JSONValue]) -> Response {
        .error(400, "Validation failed", extras: extras.merging(["details": .array(issues.map(\.json))]) { $1 })
    }
}

/// A JSON type a body field may be asked for, with its name for messages.
public struct JSONType<Value> {
    let name: String
    let extract: (JSONValue) -> Value?

    public static var string: JSONType<String> { .init(name: "string") { $0.stringValue } }
    public static var boolean: JSONType<Bool> {
        .init(name: "boolean") { if case .bool(let flag) = $0 { flag } else { nil } }
    }
    public static var array: JSONType<[JSONValue]> {
        .init(name: "array") { if case .array(let items) = $0 { items } else { nil } }
    }
    public static var object: JSONType<[String: JSONValue]> {
        .init(name: "object") { if case .object(let members) = $0 { members } else { nil } }
    }
}

extension JSONValue {
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// A parsed input, or the 4xx response that rejects it.
enum Checked<Value> {
    case valid(Value)
    case rejected(Response)
}
