//! MD5 digests of file contents and their verification against pinned values.

use std::path::Path;

use md5::{Digest, Md5};

use crate::error::{Error, Result};

/// Lowercase hexadecimal MD5 digest of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Fails with [`Error::Checksum`] naming `path` unless `md5_hex(content) == expected`.
pub fn verify_md5(path: &Path, content: &[u8], expected: &str) -> Result<()> {
    let found = md5_hex(content);
    if found.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(Error::Checksum { path: path.to_owned(), expected: expected.to_owned(), found })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert!(verify_md5(Path::new("x"), b"abc", "900150983CD24FB0D6963F7D28E17F72").is_ok());
        match verify_md5(Path::new("x"), b"abd", "900150983cd24fb0d6963f7d28e17f72") {
            Err(Error::Checksum { found, .. }) => {
                assert_ne!(found, "900150983cd24fb0d6963f7d28e17f72")
            }
            other => panic!("expected a checksum error, got {other:?}"),
        }
    }
}
