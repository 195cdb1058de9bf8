//! Colours: the categorical palette for labels, components and series, and the sequential ramps
//! (grey, viridis) for heat maps.

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

/// Matplotlib's `viridis` at `0, 1/8, ..., 1` (R's `viridis(9)`): dark purple to yellow,
/// perceptually uniform and readable in grey scale and by colour-blind readers.
const VIRIDIS: [RGBColor; 9] = [
    RGBColor(68, 1, 84),
    RGBColor(71, 45, 123),
    RGBColor(59, 82, 139),
    RGBColor(44, 114, 142),
    RGBColor(33, 144, 140),
    RGBColor(39, 173, 129),
    RGBColor(93, 200, 99),
    RGBColor(170, 220, 50),
    RGBColor(253, 231, 37),
];

/// A sequential colour ramp for heat maps, from level 0 (lowest value) to 1 (highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ramp {
    /// [`grey_ramp`]: white to dark grey (U-matrices: light = close neighbours).
    Grey,
    /// [`viridis`]: dark purple to yellow (hit maps, component planes).
    Viridis,
}

impl Ramp {
    /// Colour of level `t` in `[0, 1]` (clamped; NaN counts as 0).
    pub(crate) fn color(self, t: f64) -> RGBColor {
        match self {
            Self::Grey => grey_ramp(t),
            Self::Viridis => viridis(t),
        }
    }
}

/// `t` clamped to `[0, 1]`, NaN as 0.
fn level(t: f64) -> f64 {
    if t.is_nan() {
        0.0
    } else {
        t.clamp(0.0, 1.0)
    }
}

/// Grey level for `t` in `[0, 1]` (clamped; NaN counts as 0): 0 is white, 1 is black.
pub(crate) fn grey_ramp(t: f64) -> RGBColor {
    // 255 - 235 t keeps the darkest cell distinguishable from black markers and edges.
    let grey = (255.0 - 235.0 * level(t)).round() as u8;
    RGBColor(grey, grey, grey)
}

/// Viridis colour for `t` in `[0, 1]` (clamped; NaN counts as 0), linear between its anchors.
pub(crate) fn viridis(t: f64) -> RGBColor {
    let position = level(t) * (VIRIDIS.len() - 1) as f64;
    let below = (position.floor() as usize).min(VIRIDIS.len() - 2);
    mix(VIRIDIS[below], VIRIDIS[below + 1], position - below as f64)
}

/// `color` at `strength` in `[0, 1]` (clamped; NaN counts as 0) over white: 0 is white, 1 is `color`.
pub(crate) fn tint(color: RGBColor, strength: f64) -> RGBColor {
    mix(RGBColor(255, 255, 255), color, strength)
}

/// Whether black text is hard to read on `color` (its relative luminance is below one half).
pub(crate) fn is_dark(color: RGBColor) -> bool {
    0.2126 * f64::from(color.0) + 0.7152 * f64::from(color.1) + 0.0722 * f64::from(color.2) < 0.5 * 255.0
}

/// `from` moved a fraction `t` (clamped; NaN counts as 0) of the way to `to`, channel by channel.
fn mix(from: RGBColor, to: RGBColor, t: f64) -> RGBColor {
    let t = level(t);
    let channel = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    RGBColor(channel(from.0, to.0), channel(from.1, to.1), channel(from.2, to.2))
}

/// Grey level for image intensity `t` in `[0, 1]` (clamped; NaN counts as 0): 0 is black, 1 is white.
pub(crate) fn intensity(t: f64) -> u8 {
    (255.0 * level(t)).round() as u8
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
    fn viridis_hits_its_anchors_and_gets_brighter() {
        assert_eq!(viridis(0.0), VIRIDIS[0]);
        assert_eq!(viridis(0.5), VIRIDIS[4]);
        assert_eq!(viridis(1.0), VIRIDIS[8]);
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(viridis(2.0), viridis(1.0));
        // Halfway between the first two anchors.
        assert_eq!(viridis(1.0 / 16.0), RGBColor(70, 23, 104));
        assert!(is_dark(viridis(0.2)) && !is_dark(viridis(0.9)));
        assert_eq!(Ramp::Viridis.color(0.25), viridis(0.25));
        assert_eq!(Ramp::Grey.color(0.25), grey_ramp(0.25));
    }

    #[test]
    fn tint_runs_from_white_to_the_colour() {
        let blue = category_color(0);
        assert_eq!(tint(blue, 0.0), RGBColor(255, 255, 255));
        assert_eq!(tint(blue, 1.0), blue);
        assert_eq!(tint(blue, 0.5), RGBColor(143, 187, 218));
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
