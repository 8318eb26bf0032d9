import CPostgres
import FoundationEssentials
import Glibc
import WebhooksCore

/// One libpq connection, used by one thread: a worker's requests one at a time, the helper's loop,
/// a command. Reconnects by itself: a connection found broken at the start of a transaction is
/// replaced and the transaction begun again, so the first request after the database comes back
/// is answered, not refused.
public final class PostgresConnection: @unchecked Sendable {
    /// A statement that failed. `isStorageUnavailable` for a database that cannot be reached (down,
    /// restarting, refusing connections, out of resources): the API answers 503.
    public struct Failure: StorageFailure, CustomStringConvertible {
        public var message: String
        /// The SQLSTATE, when the server sent one.
        public var state: String?
        public var isStorageUnavailable: Bool

        public var description: String { state.map { "\(message) (SQLSTATE \($0))" } ?? message }
    }

    /// Rows of text values (NULL as nil), by column position.
    public struct Rows {
        public var values: [[String?]]
        public var affected: Int
        public var count: Int { values.count }
        public subscript(row: Int, column: Int) -> String? { values[row][column] }
        public var first: [String?]? { values.first }
    }

    private let conninfo: String
    private var connection: OpaquePointer?
    private var inTransaction = false
    /// The statements prepared on the current connection, by their text: each is parsed and
    /// planned once per connection, not at every call (a new connection has none).
    private var prepared: [String: String] = [:]

    /// `url`: a libpq URI. Nothing is connected until the first statement.
    public init(url: String) throws {
        var error = [CChar](repeating: 0, count: 256)
        guard stellar_pq_load(&error, UInt(error.count)) == 0 else {
            throw Failure(message: "libpq: \(String(cString: error))", state: nil, isStorageUnavailable: false)
        }
        conninfo = Self.withTimeouts(url)
    }

    deinit {
        if let connection { stellar_pq_finish(connection) }
    }

    /// Adds timeouts the URI does not set: a database host that stops answering must not hold a
    /// request past nginx's fastcgi_read_timeout. Connecting takes 5 s at most; on TCP, data left
    /// unacknowledged for 10 s, or an idle connection whose keepalives go unanswered, fails the
    /// connection (libpq ignores both on a unix socket). Statements have 15 s (see `connect`).
    static func withTimeouts(_ url: String) -> String {
        var url = url
        for (name, value) in [
            ("connect_timeout", "5"), ("tcp_user_timeout", "10000"), ("keepalives_idle", "10"),
            ("keepalives_interval", "3"), ("keepalives_count", "3"),
        ] where !url.contains("\(name)=") {
            url += (url.contains("?") ? "&" : "?") + "\(name)=\(value)"
        }
        return url
    }

    private func connect() throws -> OpaquePointer {
        if let connection, stellar_pq_connection_ok(connection) != 0 { return connection }
        if let connection { stellar_pq_finish(connection) }
        connection = nil
        let fresh = stellar_pq_connectdb(conninfo)
        guard let fresh, stellar_pq_connection_ok(fresh) != 0 else {
            let message = fresh.map { String(cString: stellar_pq_error_message($0)).trimmed } ?? "out of memory"
            if let fresh { stellar_pq_finish(fresh) }
            throw Failure(message: "connecting to the database: \(message)", state: nil, isStorageUnavailable: true)
        }
        connection = fresh
        prepared.removeAll()
        // Bounded waits: a statement or a lock never holds a request for long.
        _ = try run(
            fresh, "SET statement_timeout = '15s'; SET lock_timeout = '10s'; SET client_min_messages = warning", [],
            script: true)
        return fresh
    }

    /// Runs one statement with text parameters (`$1`, `$2`, ...).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> Rows {
        try onConnection { try run($0, sql, parameters) }
    }

    /// Runs several statements at once, without parameters (a migration).
    public func executeScript(_ sql: String) throws {
        _ = try onConnection { try run($0, sql, [], script: true) }
    }

    /// `body` on a live connection; one lost meanwhile is dropped, and the next statement connects.
    private func onConnection(_ body: (OpaquePointer) throws -> Rows) throws -> Rows {
        let connection = try connect()
        do {
            return try body(connection)
        } catch let failure as Failure where failure.isStorageUnavailable {
            drop()
            throw failure
        }
    }

    /// Runs `body` in one transaction, committed when it returns, rolled back when it throws. A
    /// connection that turns out broken at BEGIN (the database restarted since the last use) is
    /// replaced once: nothing had been done on it yet.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        precondition(!inTransaction, "transactions do not nest")
        do {
            try execute("BEGIN")
        } catch let failure as Failure where failure.isStorageUnavailable {
            try execute("BEGIN")
        }
        inTransaction = true
        defer { inTransaction = false }
        let result: T
        do {
            result = try body()
        } catch {
            if connection != nil { _ = try? execute("ROLLBACK") }
            throw error
        }
        try execute("COMMIT")
        return result
    }

    /// Forgets a connection that failed; the next statement connects again.
    private func drop() {
        if let connection { stellar_pq_finish(connection) }
        connection = nil
        channels.removeAll()
    }

    /// Channels LISTENed to on the current connection; a new connection listens to none.
    private var channels: Set<String> = []
    private var nextListenAttempt = Date.distantPast

    public func listens(_ channel: String) -> Bool { channels.contains(channel) }

    /// LISTEN on `channel`; after a failure, tries again 5 s later at the soonest.
    public func listen(_ channel: String) throws {
        guard Date() >= nextListenAttempt else { return }
        nextListenAttempt = Date().addingTimeInterval(5)
        try execute("LISTEN \(channel)")
        channels.insert(channel)
    }

    /// The socket, for waiting on notifications; -1 when not connected.
    public var socket: Int32 {
        connection.map { stellar_pq_socket($0) } ?? -1
    }

    /// Reads notifications that arrived (LISTEN); how many (none while not connected). Throws
    /// when the connection failed.
    public func drainNotifications() throws -> Int {
        guard let connection else { return 0 }
        let count = stellar_pq_drain_notifications(connection)
        if count < 0 {
            drop()
            throw Failure(message: "the database connection was lost", state: nil, isStorageUnavailable: true)
        }
        return Int(count)
    }

    private func run(_ connection: OpaquePointer, _ sql: String, _ parameters: [String?], script: Bool = false) throws
        -> Rows
    {
        if script { return try rows(of: stellar_pq_exec_script(connection, sql), on: connection) }
        let name = try prepared[sql] ?? prepare(sql, parameters: parameters.count, on: connection)
        return try rows(
            of: Self.withCStrings(parameters) { values in
                stellar_pq_exec_prepared(connection, name, Int32(parameters.count), values)
            }, on: connection)
    }

    /// Prepares `sql` on `connection` under a name of its own; the name once the server took it.
    private func prepare(_ sql: String, parameters: Int, on connection: OpaquePointer) throws -> String {
        let name = "s\(prepared.count + 1)"
        _ = try rows(of: stellar_pq_prepare(connection, name, sql, Int32(parameters)), on: connection)
        prepared[sql] = name
        return name
    }

    /// `result`'s rows, freed; a failure thrown with its SQLSTATE.
    private func rows(of result: OpaquePointer?, on connection: OpaquePointer) throws -> Rows {
        defer { if let result { stellar_pq_clear(result) } }
        guard let result, stellar_pq_result_ok(result) != 0 else {
            let state = result.flatMap { stellar_pq_result_sqlstate($0) }.map { String(cString: $0) }
            let message =
                result.map { String(cString: stellar_pq_result_error_message($0)) }
                ?? String(cString: stellar_pq_error_message(connection))
            let lost = stellar_pq_connection_ok(connection) == 0 || Self.isUnavailable(state)
            throw Failure(message: message.trimmed, state: state, isStorageUnavailable: lost)
        }
        var values: [[String?]] = []
        let rows = stellar_pq_ntuples(result)
        let columns = stellar_pq_nfields(result)
        values.reserveCapacity(Int(rows))
        for row in 0..<rows {
            var line: [String?] = []
            line.reserveCapacity(Int(columns))
            for column in 0..<columns {
                if stellar_pq_getisnull(result, row, column) != 0 {
                    line.append(nil)
                } else {
                    let length = Int(stellar_pq_getlength(result, row, column))
                    let bytes = UnsafeRawBufferPointer(start: stellar_pq_getvalue(result, row, column), count: length)
                    line.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            values.append(line)
        }
        return Rows(values: values, affected: Int(String(cString: stellar_pq_cmd_tuples(result))) ?? 0)
    }

    /// Connection exceptions (08), the server shutting down or starting (57P0x), out of resources
    /// (53), a timeout on a statement or a lock (57014, 55P03): none of them the client's doing.
    static func isUnavailable(_ state: String?) -> Bool {
        guard let state else { return false }
        return state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57P0") || state == "57014"
            || state == "55P03"
    }

    private static func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R
    {
        if strings.isEmpty { return body(nil) }
        let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
        defer { for copy in copies { free(copy) } }
        return copies.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { body($0) }
        }
    }
}
