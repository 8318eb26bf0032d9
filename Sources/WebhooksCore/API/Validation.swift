/// Collects every problem with a request body, so a 400 lists them all at once (design §3).
public struct Validation {
    public struct Issue: Equatable, Sendable {
        public var code: String
        public var path: [String]
        public var message: String

        var json: JSONValue {
            .object(["code": .string(code), "path": .array(path.map { .string($0) }), "message": .string(message)])
        }
    }

    public private(set) var issues: [Issue] = []

    public init() {}

    public mutating func fail(_ field: String, code: String, _ message: String) {
        issues.append(Issue(code: code, path: [field], message: message))
    }

    public mutating func required(_ field: String) {
        fail(field, code: "invalid_type", "Required")
    }

    public mutating func wrongType(_ field: String, expected: String, got value: JSONValue) {
        fail(field, code: "invalid_type", "Expected \(expected), received \(value.typeName)")
    }

    /// The 400 to answer, or nil when nothing failed.
    public var response: Response? {
        issues.isEmpty ? nil : .error(400, "Validation failed", extras: ["details": .array(issues.map(\.json))])
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
