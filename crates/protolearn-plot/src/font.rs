//! The bundled font (DejaVu Sans) and its one-time, thread-safe registration with plotters.

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

use crate::error::{Error, Result};

/// The font family every figure uses; the bundled font is registered under this name,
/// and SVG files name it as a generic CSS family so that no particular system font is needed.
pub(crate) const FAMILY: &str = "sans-serif";

/// DejaVu Sans (Bitstream Vera license, see `assets/DejaVuSans-LICENSE.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Outcome of the one registration attempt, shared by all threads.
static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// Registers the bundled font with plotters once per process; later calls return the first outcome.
pub(crate) fn ensure_registered() -> Result<()> {
    REGISTERED
        .get_or_init(|| {
            register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).map_err(|_| "assets/DejaVuSans.ttf is not a valid font file".to_owned())
        })
        .clone()
        .map_err(Error::Font)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_is_idempotent_across_threads() {
        let handles: Vec<_> = (0..4).map(|_| std::thread::spawn(ensure_registered)).collect();
        for handle in handles {
            assert!(matches!(handle.join(), Ok(Ok(()))));
        }
        assert!(ensure_registered().is_ok());
    }
}
