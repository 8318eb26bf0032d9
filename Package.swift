// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "stellar-webhooks",
    products: [
        .executable(name: "stellar-webhooks", targets: ["stellar-webhooks"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // C libraries, as system-library targets (headers and link flags only).
        .systemLibrary(
            name: "CFastCGI", path: "Sources/CShims/CFastCGI",
            providers: [.apt(["libfcgi-dev"])]),
        // OpenSSL's libcrypto, loaded by the processes that check or make keys (dlopen): the
        // keyed HMAC-SHA256 in C, and constant-time comparison.
        .target(name: "CCrypto", path: "Sources/CShims/CCrypto"),
        // libcurl, loaded by the delivery helper only (dlopen): a C target of typed wrappers.
        .target(name: "CCurl", path: "Sources/CShims/CCurl"),
        // libpq, loaded by processes whose store is PostgreSQL only (dlopen): typed wrappers.
        .target(
            name: "CPostgres", path: "Sources/CShims/CPostgres",
            cSettings: [.unsafeFlags(["-I/usr/include/postgresql"])]),
        // The read-only pages a process touched at start-up, dropped from its mappings once it
        // serves (stellar_pages.h says why).
        .target(name: "CPages", path: "Sources/CShims/CPages"),
        // The workers' read watchdog: a thread that cuts off a connection left hanging mid-read.
        .target(name: "CReadWatchdog", path: "Sources/CShims/CReadWatchdog"),
        // prctl, signalfd and unix sockets, which Swift cannot call comfortably.
        .systemLibrary(name: "CSystem", path: "Sources/CShims/CSystem"),
        // syncfs for the store's group commit, atomic counters for its cache generations.
        .systemLibrary(name: "CStore", path: "Sources/CShims/CStore"),

        // The core: model, configuration, auth, store, routing and handlers, the delivery policy
        // and message, and the words workers and the helper exchange. No FastCGI, no sockets, no
        // processes, no clock: every handler is a function from a Request value (and `now`) to a
        // Response value.
        .target(
            name: "WebhooksCore",
            dependencies: ["CCrypto", "CStore", .product(name: "Logging", package: "swift-log")]),

        // Processes: the libfcgi worker loop and the master that spawns and supervises the workers
        // and the delivery helper.
        .target(
            name: "StellarServer",
            dependencies: [
                "CFastCGI", "CPages", "CReadWatchdog", "CSystem", "WebhooksCore",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // The PostgreSQL store: what several hosts share (docs/architecture.md: "Storage").
        .target(name: "PostgresStore", dependencies: ["CPostgres", "WebhooksCore"]),

        // The delivery helper: outbox → libcurl → Discord, the only process that talks to Discord;
        // its send gate and state, and the link workers and the CLI reach it by.
        .target(
            name: "StellarDelivery",
            dependencies: [
                "CCurl", "CPages", "CSystem", "WebhooksCore", .product(name: "Logging", package: "swift-log"),
            ]),

        // The `stellar-webhooks` command line.
        .executableTarget(
            name: "stellar-webhooks",
            dependencies: [
                "WebhooksCore", "StellarServer", "StellarDelivery", "PostgresStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .testTarget(name: "WebhooksCoreTests", dependencies: ["WebhooksCore"]),
        .testTarget(name: "StellarDeliveryTests", dependencies: ["StellarDelivery", "WebhooksCore", "CCurl"]),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore", "WebhooksCore"]),
        .testTarget(name: "StellarServerTests", dependencies: ["StellarServer", "WebhooksCore", "CFastCGI", "CPages"]),
    ],
    swiftLanguageModes: [.v5]
)
