//! PNG rasterisation of the SVG plots, with DejaVu Sans compiled in so that no system font is
//! looked up: the same SVG gives the same pixels on every machine.
//!
//! The font is DejaVu Sans (Bitstream Vera licence, DejaVu changes public domain; the licence
//! text is in `assets/DejaVuSans-LICENSE.txt`). Rendering is by `resvg`; no system font
//! database is loaded.

use crate::{Error, Result};

/// DejaVu Sans, the only font the rasteriser knows about.
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Render an SVG string (as made by [`crate::report::plots`]) to PNG bytes.
///
/// `scale` multiplies the SVG's own width and height in pixels (2.0 gives a sharp image
/// for slides). Every `font-family` falls back to the embedded DejaVu Sans.
///
/// # Examples
/// ```
/// let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#;
/// let png = scaling::report::png::svg_to_png(svg, 2.0).unwrap();
/// assert_eq!(&png[1..4], b"PNG");
/// ```
///
/// # Errors
/// [`Error::InvalidSetting`] for a scale that is not finite and positive or gives an image
/// larger than 16384 pixels on a side; [`Error::Numerical`] when the SVG cannot be parsed.
pub fn svg_to_png(svg: &str, scale: f64) -> Result<Vec<u8>> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::InvalidSetting(format!(
            "the PNG scale must be a positive number, got {scale}"
        )));
    }
    let mut opt = resvg::usvg::Options {
        font_family: "DejaVu Sans".into(),
        ..Default::default()
    };
    opt.fontdb_mut().load_font_data(FONT.to_vec());
    // Any family the database cannot match (Helvetica, "sans-serif", a typo) falls back to
    // the one embedded face rather than drawing no text at all.
    let default = resvg::usvg::FontResolver::default_font_selector();
    opt.font_resolver.select_font = Box::new(move |font, db| {
        default(font, db).or_else(|| db.faces().next().map(|face| face.id))
    });
    let tree = resvg::usvg::Tree::from_str(svg, &opt)
        .map_err(|e| Error::Numerical(format!("the plot's SVG could not be parsed: {e}")))?;
    let size = tree.size();
    let w = (f64::from(size.width()) * scale).ceil();
    let h = (f64::from(size.height()) * scale).ceil();
    if !(w >= 1.0 && h >= 1.0 && w <= 16384.0 && h <= 16384.0) {
        return Err(Error::InvalidSetting(format!(
            "a PNG scale of {scale} gives a {w}x{h} image; keep each side between 1 and 16384 pixels"
        )));
    }
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w as u32, h as u32)
        .ok_or_else(|| Error::Numerical(format!("cannot allocate a {w}x{h} image")))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale as f32, scale as f32),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|e| Error::Numerical(format!("PNG encoding failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Count pixels that are clearly dark (text or lines), in the PNG decoded by tiny-skia.
    fn dark_pixels(png: &[u8]) -> (u32, u32, usize) {
        let p = resvg::tiny_skia::Pixmap::decode_png(png).unwrap();
        let dark = p
            .pixels()
            .iter()
            .filter(|c| c.red() < 100 && c.green() < 100 && c.blue() < 100)
            .count();
        (p.width(), p.height(), dark)
    }

    #[test]
    fn text_is_drawn_with_the_embedded_font() {
        // Only text: if no font were found, nothing would be drawn at all.
        let with_text = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50" font-family="NoSuchFont"><text x="5" y="35" font-size="24">1e18 100M</text></svg>"#;
        let png = svg_to_png(with_text, 1.0).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let (w, h, dark) = dark_pixels(&png);
        assert_eq!((w, h), (200, 50));
        assert!(
            dark > 100,
            "only {dark} dark pixels: the text was not rendered"
        );
        let blank = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"></svg>"#;
        assert_eq!(dark_pixels(&svg_to_png(blank, 2.0).unwrap()), (400, 100, 0));
    }

    #[test]
    fn bad_scale_and_bad_svg_are_errors() {
        let s = r#"<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"></svg>"#;
        assert!(svg_to_png(s, 0.0).is_err());
        assert!(svg_to_png(s, f64::NAN).is_err());
        assert!(svg_to_png(s, 1e6).is_err());
        assert!(svg_to_png("not svg", 1.0).is_err());
    }
}
