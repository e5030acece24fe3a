//! Errors as text.

/// `error` and its causes on one line, outermost first: many libraries' own text leaves out why
/// something failed (reqwest's: a refused connection, a certificate that does not verify).
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
