import ArgumentParser
import Glibc
import WebhooksCore

// `serve` starts each worker as `worker [--config FILE]` (ServeCommand.swift). That exact shape
// runs the worker without ArgumentParser: parsing it would leave ArgumentParser's code and the
// metadata it reflects over resident in every worker for good (~0.5 MB of the 12 MB budget,
// bench/README.md). Anything else, `worker --help` included, goes through ArgumentParser.
let arguments = Array(CommandLine.arguments.dropFirst())
// `--version` alone answers without ArgumentParser too: building its parser (reflection over every
// command's options, and the casts and metadata that needs) was half the time of the whole run
// (perf), and scripts and panels call it to probe the installed version. The answer is
// ArgumentParser's: the version and a newline.
if arguments == ["--version"] {
    print(Product.version)
} else if arguments == ["worker"] || (arguments.count == 3 && arguments[0] == "worker" && arguments[1] == "--config") {
    do {
        try Worker.serve(configPath: arguments.count == 3 ? arguments[2] : nil)
    } catch let exit as ExitCode {
        Glibc.exit(exit.rawValue)  // the problems are printed already
    } catch {
        fputs("Error: \(error)\n", stderr)
        Glibc.exit(1)
    }
} else {
    StellarWebhooks.main()
}
