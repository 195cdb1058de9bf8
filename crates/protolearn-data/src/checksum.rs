//! MD5 and SHA-256 digests of file contents and their verification against pinned values.

use std::path::Path;

use md5::{Digest, Md5};
use sha2::Sha256;

use crate::error::{Error, Result};

/// Lowercase hexadecimal MD5 digest of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hexadecimal SHA-256 digest of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Fails with [`Error::Checksum`] naming `path` unless `md5_hex(content) == expected`.
pub fn verify_md5(path: &Path, content: &[u8], expected: &str) -> Result<()> {
    verify("MD5", md5_hex(content), path, expected)
}

/// Fails with [`Error::Checksum`] naming `path` unless `sha256_hex(content) == expected`.
pub fn verify_sha256(path: &Path, content: &[u8], expected: &str) -> Result<()> {
    verify("SHA-256", sha256_hex(content), path, expected)
}

fn verify(algorithm: &'static str, found: String, path: &Path, expected: &str) -> Result<()> {
    if found.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(Error::Checksum { path: path.to_owned(), algorithm, expected: expected.to_owned(), found })
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
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex(b"abc"), abc);
        assert!(verify_sha256(Path::new("x"), b"abc", abc).is_ok());
        let err = verify_sha256(Path::new("x"), b"abd", abc).map_err(|e| e.to_string());
        assert!(err.as_ref().is_err_and(|e| e.contains("expected SHA-256 ba78")), "{err:?}");
    }
}
