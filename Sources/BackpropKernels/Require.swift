/// Stops the program with `message` when `condition` is false: the check for programmer errors
/// inside tensor mathematics (mismatched shapes, an axis out of range).
///
/// Unlike `precondition`, whose message a release build (`-c release`) drops — leaving only
/// "precondition failure" — the message always reaches standard error, so a user's release
/// binary still says which operation and which shapes.
@inline(__always)
package func require(_ condition: Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition { requirementFailed(message(), file: file, line: line) }
}

/// The failure path of `require`, kept out of line so the check stays small where it is inlined.
@inline(never)
package func requirementFailed(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message, file: file, line: line)
}
