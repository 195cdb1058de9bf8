//! Paper 002's values for Tables 4, 5 and 6 (Sec. 4.1.1, 4.1.2 and 4.1.4 of the DESOM journal
//! paper, `/work/shared/papers/002_*.txt`): mean ± std over 10 runs on the test set. Only the
//! MNIST and Fashion-MNIST columns are kept (USPS and Reuters-10k have no offline source here).

/// Table 4: `γ` -> [MNIST purity, MNIST NMI, Fashion-MNIST purity, Fashion-MNIST NMI].
pub const GAMMA: &[(f64, [&str; 4])] = &[
    (1e-4, [".929 ± .004", ".652 ± .003", ".759 ± .006", ".543 ± .004"]),
    (1e-3, [".934 ± .004", ".658 ± .004", ".751 ± .009", ".541 ± .004"]),
    (1e-2, [".911 ± .006", ".639 ± .006", ".737 ± .007", ".529 ± .005"]),
    (0.1, [".876 ± .008", ".609 ± .006", ".721 ± .005", ".520 ± .004"]),
    (0.5, [".836 ± .033", ".584 ± .016", ".718 ± .009", ".517 ± .006"]),
    (1.0, [".810 ± .025", ".566 ± .019", ".715 ± .012", ".517 ± .007"]),
    (10.0, [".114 ± .000", ".006 ± .003", ".678 ± .008", ".484 ± .007"]),
];

/// Table 5: latent dimension `L` -> the same four columns as [`GAMMA`].
pub const LATENT: &[(i64, [&str; 4])] = &[
    (2, [".768 ± .012", ".552 ± .011", ".688 ± .023", ".499 ± .010"]),
    (5, [".901 ± .010", ".628 ± .007", ".736 ± .011", ".530 ± .005"]),
    (10, [".931 ± .007", ".654 ± .006", ".756 ± .008", ".542 ± .003"]),
    (20, [".925 ± .006", ".647 ± .006", ".752 ± .008", ".542 ± .003"]),
    (50, [".921 ± .006", ".641 ± .005", ".747 ± .009", ".541 ± .004"]),
    (100, [".921 ± .004", ".643 ± .004", ".747 ± .006", ".541 ± .003"]),
];

/// Table 6: model id -> per dataset (MNIST, Fashion-MNIST) [purity, NMI, QE, TE]; QE and TE
/// in the original (pixel) space.
pub const CONV: &[(&str, [[&str; 4]; 2])] = &[
    (
        "desom",
        [
            [".934 ± .004", ".658 ± .004", "5.843 ± 0.016", "0.605 ± 0.039"],
            [".751 ± .009", ".541 ± .004", "4.756 ± 0.009", "0.537 ± 0.029"],
        ],
    ),
    (
        "conv-desom",
        [
            [".948 ± .004", ".673 ± .005", "5.980 ± 0.038", "0.610 ± 0.034"],
            [".758 ± .004", ".546 ± .002", "4.777 ± 0.017", "0.538 ± 0.045"],
        ],
    ),
];

/// Column offset of a dataset id in the rows above (`None`: not in the paper's tables here).
pub fn dataset_index(dataset: &str) -> Option<usize> {
    match dataset {
        "mnist" => Some(0),
        "fashion-mnist" => Some(1),
        _ => None,
    }
}
