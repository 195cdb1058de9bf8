//! Colours: the categorical palette for labels, components and series, and the grey ramp for heat maps.

use plotters::style::RGBColor;

/// Matplotlib's `tab10` palette: ten colours that stay distinct for colour-blind readers.
const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Number of distinct colours of [`category_color`] before it repeats.
pub const CATEGORY_COUNT: usize = TAB10.len();

/// Colour of category `index` (a class label, a connected component, a series):
/// matplotlib's `tab10`, repeating after [`CATEGORY_COUNT`] categories.
///
/// # Example
/// ```
/// use protolearn_plot::{category_color, CATEGORY_COUNT};
/// assert_eq!(category_color(3), category_color(3 + CATEGORY_COUNT));
/// assert_ne!(category_color(0), category_color(1));
/// ```
pub fn category_color(index: usize) -> RGBColor {
    TAB10[index % CATEGORY_COUNT]
}

/// Grey level for `t` in `[0, 1]` (clamped; NaN counts as 0): 0 is white, 1 is black.
pub(crate) fn grey_ramp(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    // 255 - 235 t keeps the darkest cell distinguishable from black markers and edges.
    let level = (255.0 - 235.0 * t).round() as u8;
    RGBColor(level, level, level)
}

/// Grey level for image intensity `t` in `[0, 1]` (clamped; NaN counts as 0): 0 is black, 1 is white.
pub(crate) fn intensity(t: f64) -> u8 {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    (255.0 * t).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_distinct_then_repeat() {
        for i in 0..CATEGORY_COUNT {
            for j in 0..i {
                assert_ne!(category_color(i), category_color(j), "{i} vs {j}");
            }
            assert_eq!(category_color(i), category_color(i + 2 * CATEGORY_COUNT));
        }
    }

    #[test]
    fn grey_ramp_runs_from_white_to_dark_and_clamps() {
        assert_eq!(grey_ramp(0.0), RGBColor(255, 255, 255));
        assert_eq!(grey_ramp(1.0), RGBColor(20, 20, 20));
        assert_eq!(grey_ramp(-3.0), grey_ramp(0.0));
        assert_eq!(grey_ramp(7.0), grey_ramp(1.0));
        assert_eq!(grey_ramp(f64::NAN), grey_ramp(0.0));
        assert!(grey_ramp(0.25).0 > grey_ramp(0.75).0);
    }

    #[test]
    fn intensity_maps_unit_interval_to_bytes() {
        assert_eq!(intensity(0.0), 0);
        assert_eq!(intensity(1.0), 255);
        assert_eq!(intensity(0.5), 128);
        assert_eq!(intensity(2.0), 255);
        assert_eq!(intensity(f64::NAN), 0);
    }
}
