//! Writing to stdout without panicking when the reader goes away
//! (`tokenaudit … | head`): a closed pipe ends the command quietly.

use std::io::Write;

/// Writes text to stdout; a broken pipe becomes an error that `main` treats
/// as success.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
