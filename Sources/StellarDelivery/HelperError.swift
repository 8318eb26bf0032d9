/// A system call or libcurl setup that failed in the helper, with what it was doing.
struct HelperError: Error, CustomStringConvertible {
    var description: String
}
