import CCurl
import FoundationEssentials
import Glibc
import WebhooksCore

/// Every HTTP request to a provider goes through here: libcurl's multi interface, many transfers at
/// once on one thread (docs/architecture.md: "A delivery"). TLS is verified, redirects are not
/// followed, connects are checked against private addresses after DNS, and answers are read up to a
/// cap.
final class CurlTransport {
    struct Settings {
        var timeout: Int
        var caFile: String?
        var allowInsecure: Bool
    }

    /// One request in flight, handed to libcurl's callbacks as their user pointer.
    final class Transfer {
        let key: String
        let easy: UnsafeMutableRawPointer
        var headers: UnsafeMutablePointer<curl_slist>?
        var response: [UInt8] = []
        /// The answer went past `responseCap`: reading stopped there, and the rest was never read.
        var cutShort = false
        var refusedAddress: String?
        /// Sockets opened to addresses that passed the check: the request may have gone out.
        var openedSockets = 0
        let allowPrivate: Bool
        /// CURLOPT_ERRORBUFFER: libcurl writes the detail of a failure here.
        let errorBuffer: UnsafeMutablePointer<CChar> = {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
            buffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
            return buffer
        }()

        init(key: String, easy: UnsafeMutableRawPointer, allowPrivate: Bool) {
            self.key = key
            self.easy = easy
            self.allowPrivate = allowPrivate
        }
    }

    static let connectTimeout = 5
    static let responseCap = 64 * 1024

    private let settings: Settings
    private let multi: UnsafeMutableRawPointer
    private var transfers: [String: Transfer] = [:]

    /// Loads libcurl (only this process ever does).
    init(settings: Settings) throws {
        var error = [CChar](repeating: 0, count: 512)
        guard stellar_curl_load(&error, UInt(error.count)) == 0 else {
            throw HelperError(description: "cannot load libcurl: \(String(cString: error))")
        }
        stellar_curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        self.settings = settings
        self.multi = stellar_curl_multi_init()
    }

    deinit {
        for transfer in transfers.values { release(transfer) }
        stellar_curl_multi_cleanup(multi)
    }

    var inFlight: Int { transfers.count }

    /// Starts a POST (or the request's other method, a PATCH) of the request's body, with its
    /// headers and our User-Agent, to `url`; its result comes back from `finished()` under `key`.
    func start(key: String, url: String, request: DeliveryRequest) throws {
        let body = request.body
        guard let easy = stellar_curl_easy_init() else { throw HelperError(description: "curl_easy_init failed") }
        let transfer = Transfer(key: key, easy: easy, allowPrivate: settings.allowInsecure)
        let me = Unmanaged.passUnretained(transfer).toOpaque()
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        for header in request.headers.map({ "\($0.0): \($0.1)" }) + ["User-Agent: \(Product.userAgent)", "Expect:"] {
            headers = stellar_curl_slist_append(headers, header)
        }
        transfer.headers = headers

        var results: [CURLcode] = [
            stellar_curl_set_string(easy, CURLOPT_URL, url),
            stellar_curl_set_string(easy, CURLOPT_PROTOCOLS_STR, settings.allowInsecure ? "http,https" : "https"),
            // Never a proxy from the environment (https_proxy, ALL_PROXY): the private-address
            // check below must see the address really connected to, not a proxy's.
            stellar_curl_set_string(easy, CURLOPT_PROXY, ""),
            stellar_curl_set_string(easy, CURLOPT_NOPROXY, "*"),
            stellar_curl_set_long(easy, CURLOPT_FOLLOWLOCATION, 0),
            stellar_curl_set_long(easy, CURLOPT_NOSIGNAL, 1),
            stellar_curl_set_long(easy, CURLOPT_CONNECTTIMEOUT, min(Self.connectTimeout, settings.timeout)),
            stellar_curl_set_long(easy, CURLOPT_TIMEOUT, settings.timeout),
            stellar_curl_set_long(easy, CURLOPT_POSTFIELDSIZE, body.count),
            body.withUnsafeBytes {
                stellar_curl_set_pointer(
                    easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))
            },
            stellar_curl_set_headers(easy, headers),
            stellar_curl_set_write_function(easy, Self.collectResponse),
            stellar_curl_set_pointer(easy, CURLOPT_WRITEDATA, me),
            stellar_curl_set_open_socket_function(easy, Self.openCheckedSocket),
            stellar_curl_set_pointer(easy, CURLOPT_OPENSOCKETDATA, me),
            stellar_curl_set_pointer(easy, CURLOPT_ERRORBUFFER, transfer.errorBuffer),
        ]
        if request.method != "POST" {  // the body is sent as a POST's, under this method
            results.append(stellar_curl_set_string(easy, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if let caFile = settings.caFile {
            results.append(stellar_curl_set_string(easy, CURLOPT_CAINFO, caFile))
        }
        if let bad = results.first(where: { $0 != CURLE_OK }) {
            release(transfer)
            throw HelperError(description: "curl option refused: \(String(cString: stellar_curl_easy_strerror(bad)))")
        }
        transfers[key] = transfer
        stellar_curl_multi_add_handle(multi, easy)
    }

    /// Waits until a transfer can progress, one of `extraFDs` is readable, or `timeout` passes.
    /// Returns the extra descriptors that are readable.
    func wait(extraFDs: [Int32], timeout: TimeInterval) -> Set<Int32> {
        var waits = extraFDs.map { curl_waitfd(fd: $0, events: Int16(CURL_WAIT_POLLIN), revents: 0) }
        let milliseconds = Int32(max(0, min(timeout, 60)) * 1000)
        stellar_curl_multi_poll(multi, &waits, UInt32(waits.count), milliseconds, nil)
        return Set(waits.filter { $0.revents != 0 }.map(\.fd))
    }

    /// Drives every transfer and returns the ones that have ended.
    func finished() -> [(key: String, result: AttemptResult)] {
        var running: Int32 = 0
        stellar_curl_multi_perform(multi, &running)
        var done: [(String, AttemptResult)] = []
        var left: Int32 = 0
        while let message = stellar_curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            guard let transfer = transfers.values.first(where: { $0.easy == easy }) else { continue }
            done.append((transfer.key, result(of: transfer, code: code)))
            transfers.removeValue(forKey: transfer.key)
            release(transfer)
        }
        return done
    }

    /// Drops the transfers that have not begun sending their request yet (still resolving,
    /// connecting or in the TLS handshake) and returns their keys: on a stop, nothing of them
    /// reached Discord, so they are simply left pending for the next helper.
    func cancelUnsent() -> [String] {
        var cancelled: [String] = []
        for (key, transfer) in transfers {
            var sendingSince: curl_off_t = 0
            _ = stellar_curl_get_off_t(transfer.easy, CURLINFO_PRETRANSFER_TIME_T, &sendingSince)
            guard sendingSince == 0 else { continue }
            transfers.removeValue(forKey: key)
            release(transfer)
            cancelled.append(key)
        }
        return cancelled
    }

    /// How a transfer ended, as far as the outcome policy cares.
    enum Ending: Equatable {
        /// Every address was ours to refuse: nothing left this machine.
        case refused(address: String)
        case failed
        case completed
    }

    /// A refusal counts only when no allowed address was connected: when one address was refused
    /// and a later one taken, the request went out, and what happened to it is the result.
    /// An answer cut short at `responseCap` is complete as far as anyone reads it.
    static func ending(code: CURLcode, refusedAddress: String?, openedSockets: Int, cutShort: Bool = false) -> Ending {
        if let refusedAddress, openedSockets == 0 { return .refused(address: refusedAddress) }
        return code == CURLE_OK || (cutShort && code == CURLE_WRITE_ERROR) ? .completed : .failed
    }

    private func result(of transfer: Transfer, code: CURLcode) -> AttemptResult {
        let ending = Self.ending(
            code: code, refusedAddress: transfer.refusedAddress, openedSockets: transfer.openedSockets,
            cutShort: transfer.cutShort)
        if case .refused(let address) = ending {
            return .refused("Refused to connect to \(address): a private or local address")
        }
        guard ending == .completed else {
            let detail = String(cString: transfer.errorBuffer)
            let text = detail.isEmpty ? String(cString: stellar_curl_easy_strerror(code)) : detail
            return .transportError(
                code == CURLE_OPERATION_TIMEDOUT ? "Timed out: \(text)" : "Connection failed: \(text)")
        }
        var status = 0
        _ = stellar_curl_get_long(transfer.easy, CURLINFO_RESPONSE_CODE, &status)
        return .answered(status: status, headers: headers(of: transfer.easy), body: transfer.response)
    }

    /// The last response's headers, names in lower case.
    private func headers(of easy: UnsafeMutableRawPointer) -> [String: String] {
        var headers: [String: String] = [:]
        var previous: UnsafeMutablePointer<curl_header>? = nil
        while let header = stellar_curl_easy_nextheader(easy, UInt32(CURLH_HEADER), -1, previous) {
            headers[String(cString: header.pointee.name).lowercased()] = String(cString: header.pointee.value)
            previous = header
        }
        return headers
    }

    private func release(_ transfer: Transfer) {
        stellar_curl_multi_remove_handle(multi, transfer.easy)
        stellar_curl_easy_cleanup(transfer.easy)
        stellar_curl_slist_free_all(transfer.headers)
        transfer.errorBuffer.deallocate()
    }

    /// CURLOPT_WRITEFUNCTION: keeps the first `responseCap` bytes of the answer and stops the
    /// transfer there (returning less than it was given), so an endless or huge answer costs
    /// neither memory nor the time to read it.
    private static let collectResponse: curl_write_callback = { buffer, size, count, user in
        let length = size * count
        guard let buffer, let user else { return length }
        let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
        let room = max(0, CurlTransport.responseCap - transfer.response.count)
        buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
            transfer.response.append(contentsOf: UnsafeBufferPointer(start: $0, count: min(room, length)))
        }
        guard length <= room else {
            transfer.cutShort = true
            return 0
        }
        return length
    }

    /// CURLOPT_OPENSOCKETFUNCTION: called with the address libcurl is about to connect to, after
    /// DNS, so a name that resolves (or rebinds) to a private address is refused here.
    private static let openCheckedSocket: curl_opensocket_callback = { user, _, address in
        guard let user, let address else { return CURL_SOCKET_BAD }
        let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
        let offset = MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!
        let socketAddress = (UnsafeRawPointer(address) + offset).assumingMemoryBound(to: sockaddr.self)
        if !transfer.allowPrivate && PrivateAddress.isPrivate(socketAddress) {
            transfer.refusedAddress = PrivateAddress.describe(socketAddress)
            return CURL_SOCKET_BAD
        }
        let fd = socket(
            address.pointee.family, address.pointee.socktype | Int32(SOCK_CLOEXEC.rawValue), address.pointee.protocol)
        if fd >= 0 { transfer.openedSockets += 1 }
        return fd
    }
}
