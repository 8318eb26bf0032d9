// swift-hello: the benchmark's reference for "what starting a Swift process costs" (bench/startup).
// Prints one line, like `stellar-webhooks --version`, and exits.
// Build: swiftc -O -static-stdlib -o swift-hello swift-hello.swift (the runtime linked in, as the
// release build of stellar-webhooks is).
print("swift-hello 1.0")
