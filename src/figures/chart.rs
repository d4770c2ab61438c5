//! The trend chart: weekly ticket volume (bars, left axis) and satisfaction rate (line,
//! right axis, 0–100 %) as a PNG.
//!
//! Drawn with `tiny-skia`; text is rasterised with `ab_glyph` from a font compiled into
//! the binary (`assets/fonts/wqy-microhei.ttc`, WenQuanYi Micro Hei, Apache 2.0, which
//! covers Chinese and Latin), so labels render the same on a fresh machine with no fonts
//! installed.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use tiny_skia::{Color, Paint, PathBuilder, Pixmap, Rect, Stroke, Transform};

use crate::domain::figures::WeekPoint;
use crate::i18n::{Locale, t};

/// WenQuanYi Micro Hei (the first face of the collection): Chinese and Latin glyphs. The
/// sandbox page serves it too, for machines without a CJK font.
pub static FONT: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei.ttc");

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 600;
const LEFT: f32 = 80.0;
const RIGHT: f32 = 80.0;
const TOP: f32 = 110.0;
const BOTTOM: f32 = 70.0;

const INK: (u8, u8, u8) = (0x33, 0x33, 0x33);
const GRID: (u8, u8, u8) = (0xdd, 0xdd, 0xdd);
const BAR: (u8, u8, u8) = (0x5b, 0x8f, 0xd9);
const LINE: (u8, u8, u8) = (0xe0, 0x6c, 0x2f);
const MUTED: (u8, u8, u8) = (0x77, 0x77, 0x77);

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the embedded font cannot be read")]
    Font,
    #[error("the picture cannot be made")]
    Canvas,
    #[error("PNG encoding: {0}")]
    Png(String),
}

/// The weekly chart as PNG bytes; labels in `locale`.
pub fn weekly_chart(weeks: &[WeekPoint], locale: Locale) -> Result<Vec<u8>, ChartError> {
    let font = FontRef::try_from_slice(FONT).map_err(|_| ChartError::Font)?;
    let mut canvas = Canvas {
        pixmap: Pixmap::new(WIDTH, HEIGHT).ok_or(ChartError::Canvas)?,
        font,
    };
    canvas.pixmap.fill(Color::WHITE);
    let weeks_text = weeks.len().to_string();
    let title = t(locale, "chart.title", &[("weeks", &weeks_text)]);
    canvas.text(&title, WIDTH as f32 / 2.0, 44.0, 26.0, INK, Align::Center);
    legend(&mut canvas, locale);

    let plot = Plot {
        left: LEFT,
        right: WIDTH as f32 - RIGHT,
        top: TOP,
        bottom: HEIGHT as f32 - BOTTOM,
    };
    let max = weeks.iter().map(|w| w.reported).max().unwrap_or(0);
    let (step, top) = nice_scale(max);
    axes(&mut canvas, &plot, step, top);
    if weeks.is_empty() {
        return canvas.png();
    }
    bars(&mut canvas, &plot, weeks, top);
    satisfaction_line(&mut canvas, &plot, weeks);
    canvas.text(
        &t(locale, "chart.week_of", &[]),
        WIDTH as f32 / 2.0,
        HEIGHT as f32 - 16.0,
        14.0,
        MUTED,
        Align::Center,
    );
    canvas.png()
}

/// The plotting area, in pixels.
struct Plot {
    left: f32,
    right: f32,
    top: f32,
    bottom: f32,
}

impl Plot {
    /// The height of `fraction` (0 at the bottom, 1 at the top).
    fn y(&self, fraction: f32) -> f32 {
        self.bottom - (self.bottom - self.top) * fraction
    }

    /// The centre of the `i`th of `n` week slots.
    fn x(&self, i: usize, n: usize) -> f32 {
        self.left + self.slot(n) * (i as f32 + 0.5)
    }

    fn slot(&self, n: usize) -> f32 {
        (self.right - self.left) / n as f32
    }
}

/// A bar swatch and a line swatch with their names, centred under the title.
fn legend(canvas: &mut Canvas<'_>, locale: Locale) {
    let volume = t(locale, "chart.volume", &[]);
    let satisfaction = t(locale, "chart.satisfaction", &[]);
    let legend_y = 80.0;
    let volume_w = canvas.text_width(&volume, 16.0);
    let satisfaction_w = canvas.text_width(&satisfaction, 16.0);
    let total = 18.0 + 6.0 + volume_w + 30.0 + 24.0 + 6.0 + satisfaction_w;
    let mut x = WIDTH as f32 / 2.0 - total / 2.0;
    canvas.rect(x, legend_y - 13.0, 18.0, 14.0, BAR);
    x += 24.0;
    canvas.text(&volume, x, legend_y, 16.0, INK, Align::Left);
    x += volume_w + 30.0;
    canvas.line(
        &[(x, legend_y - 6.0), (x + 24.0, legend_y - 6.0)],
        3.0,
        LINE,
    );
    canvas.dot(x + 12.0, legend_y - 6.0, 4.0, LINE);
    x += 30.0;
    canvas.text(&satisfaction, x, legend_y, 16.0, INK, Align::Left);
}

/// Ticket counts on the left (grid lines every `step` up to `top`), percentages on the
/// right, and the frame.
fn axes(canvas: &mut Canvas<'_>, plot: &Plot, step: i64, top: i64) {
    let ticks = (top / step) as usize;
    for i in 0..=ticks {
        let y = plot.y(i as f32 / ticks as f32);
        canvas.line(&[(plot.left, y), (plot.right, y)], 1.0, GRID);
        canvas.text(
            &(step * i as i64).to_string(),
            plot.left - 10.0,
            y + 5.0,
            14.0,
            MUTED,
            Align::Right,
        );
    }
    // The right axis has its own round steps, with tick marks instead of grid lines.
    for pct in (0..=100).step_by(20) {
        let y = plot.y(pct as f32 / 100.0);
        canvas.line(&[(plot.right, y), (plot.right + 5.0, y)], 1.5, INK);
        canvas.text(
            &format!("{pct}%"),
            plot.right + 10.0,
            y + 5.0,
            14.0,
            LINE,
            Align::Left,
        );
    }
    canvas.line(
        &[
            (plot.left, plot.top),
            (plot.left, plot.bottom),
            (plot.right, plot.bottom),
            (plot.right, plot.top),
        ],
        1.5,
        INK,
    );
}

/// Each week's bar with its count above it, and its date below the axis.
fn bars(canvas: &mut Canvas<'_>, plot: &Plot, weeks: &[WeekPoint], top: i64) {
    let bar_w = plot.slot(weeks.len()) * 0.55;
    for (i, w) in weeks.iter().enumerate() {
        let cx = plot.x(i, weeks.len());
        let h = (plot.bottom - plot.top) * (w.reported as f32 / top as f32);
        if w.reported > 0 {
            canvas.rect(cx - bar_w / 2.0, plot.bottom - h, bar_w, h, BAR);
            canvas.text(
                &w.reported.to_string(),
                cx,
                plot.bottom - h - 6.0,
                13.0,
                INK,
                Align::Center,
            );
        }
        canvas.text(
            &w.start.format("%m-%d").to_string(),
            cx,
            plot.bottom + 22.0,
            13.0,
            MUTED,
            Align::Center,
        );
    }
}

/// The satisfaction rate as a line with a labelled dot per week; a week without ratings
/// has no rate, and the line breaks there.
fn satisfaction_line(canvas: &mut Canvas<'_>, plot: &Plot, weeks: &[WeekPoint]) {
    let mut line: Vec<Vec<(f32, f32)>> = vec![Vec::new()];
    let mut labels = Vec::new();
    for (i, w) in weeks.iter().enumerate() {
        match w.satisfaction.value() {
            None => line.push(Vec::new()),
            Some(v) => {
                let (x, y) = (plot.x(i, weeks.len()), plot.y(v as f32));
                if let Some(segment) = line.last_mut() {
                    segment.push((x, y));
                }
                labels.push((x, y, w.satisfaction.percent().unwrap_or_default()));
            }
        }
    }
    for segment in &line {
        if segment.len() > 1 {
            canvas.line(segment, 3.0, LINE);
        }
    }
    for (x, y, label) in labels {
        canvas.dot(x, y, 5.0, LINE);
        canvas.text(&label, x, y - 10.0, 12.0, LINE, Align::Center);
    }
}

/// A round step (1, 2 or 5 × 10ⁿ) and the axis top for values up to `max`, about five
/// steps high.
fn nice_scale(max: i64) -> (i64, i64) {
    let max = max.max(1);
    let rough = (max as f64 / 5.0).max(1.0);
    let magnitude = 10f64.powi(rough.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * magnitude) as i64;
    let step = step.max(1);
    let top = (max + step - 1) / step * step;
    (step, top)
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Center,
    Right,
}

struct Canvas<'f> {
    pixmap: Pixmap,
    font: FontRef<'f>,
}

fn paint(rgb: (u8, u8, u8)) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(rgb.0, rgb.1, rgb.2, 255);
    p.anti_alias = true;
    p
}

impl Canvas<'_> {
    fn png(&self) -> Result<Vec<u8>, ChartError> {
        self.pixmap
            .encode_png()
            .map_err(|e| ChartError::Png(e.to_string()))
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, rgb: (u8, u8, u8)) {
        if let Some(r) = Rect::from_xywh(x, y, w, h) {
            self.pixmap
                .fill_rect(r, &paint(rgb), Transform::identity(), None);
        }
    }

    fn line(&mut self, points: &[(f32, f32)], width: f32, rgb: (u8, u8, u8)) {
        let mut pb = PathBuilder::new();
        for (i, (x, y)) in points.iter().enumerate() {
            if i == 0 {
                pb.move_to(*x, *y);
            } else {
                pb.line_to(*x, *y);
            }
        }
        if let Some(path) = pb.finish() {
            let stroke = Stroke {
                width,
                ..Stroke::default()
            };
            self.pixmap
                .stroke_path(&path, &paint(rgb), &stroke, Transform::identity(), None);
        }
    }

    fn dot(&mut self, x: f32, y: f32, r: f32, rgb: (u8, u8, u8)) {
        if let Some(path) = PathBuilder::from_circle(x, y, r) {
            self.pixmap.fill_path(
                &path,
                &paint(rgb),
                tiny_skia::FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    }

    fn text_width(&self, text: &str, size: f32) -> f32 {
        let font = self.font.as_scaled(PxScale::from(size));
        let mut width = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                width += font.kern(p, id);
            }
            width += font.h_advance(id);
            previous = Some(id);
        }
        width
    }

    /// Draws `text` with its baseline at `y`, aligned at `x`.
    fn text(&mut self, text: &str, x: f32, y: f32, size: f32, rgb: (u8, u8, u8), align: Align) {
        let width = self.text_width(text, size);
        let mut pen = match align {
            Align::Left => x,
            Align::Center => x - width / 2.0,
            Align::Right => x - width,
        };
        let scale = PxScale::from(size);
        let scaled = self.font.as_scaled(scale);
        let (w, h) = (self.pixmap.width() as i32, self.pixmap.height() as i32);
        let mut previous = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = previous {
                pen += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, point(pen, y));
            pen += scaled.h_advance(id);
            previous = Some(id);
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let pixels = self.pixmap.pixels_mut();
            outline.draw(|gx, gy, coverage| {
                let px = bounds.min.x as i32 + gx as i32;
                let py = bounds.min.y as i32 + gy as i32;
                if px < 0 || py < 0 || px >= w || py >= h {
                    return;
                }
                let a = coverage.clamp(0.0, 1.0);
                let i = (py * w + px) as usize;
                let under = pixels[i];
                let mix = |src: u8, dst: u8| -> u8 {
                    (f32::from(src) * a + f32::from(dst) * (1.0 - a)).round() as u8
                };
                // The canvas is opaque, so blending is a plain mix of the colours.
                if let Some(c) = tiny_skia::PremultipliedColorU8::from_rgba(
                    mix(rgb.0, under.red()),
                    mix(rgb.1, under.green()),
                    mix(rgb.2, under.blue()),
                    255,
                ) {
                    pixels[i] = c;
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_is_round_and_covers_the_largest_value() {
        assert_eq!(nice_scale(0), (1, 1));
        assert_eq!(nice_scale(4), (1, 4));
        assert_eq!(nice_scale(7), (2, 8));
        assert_eq!(nice_scale(23), (5, 25));
        assert_eq!(nice_scale(100), (20, 100));
        assert_eq!(nice_scale(101), (50, 150));
    }

    fn sample() -> Vec<WeekPoint> {
        let monday = chrono::NaiveDate::from_ymd_opt(2026, 9, 7).unwrap();
        (0..12)
            .map(|i| WeekPoint {
                start: monday + chrono::Duration::weeks(i),
                reported: [3, 8, 5, 0, 12, 9, 7, 4, 10, 6, 11, 2][i as usize],
                satisfaction: match i {
                    3 | 4 => crate::domain::figures::Ratio::new(0, 0),
                    _ => crate::domain::figures::Ratio::new(i % 4 + 5, 8),
                },
            })
            .collect()
    }

    /// Width and height from the PNG header.
    fn png_size(png: &[u8]) -> (u32, u32) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        (be(&png[16..20]), be(&png[20..24]))
    }

    /// Pixels that are not white in a band of rows.
    fn inked(pixmap: &Pixmap, rows: std::ops::Range<u32>) -> usize {
        rows.flat_map(|y| (0..pixmap.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let p = pixmap.pixel(x, y).unwrap();
                (p.red(), p.green(), p.blue()) != (255, 255, 255)
            })
            .count()
    }

    #[test]
    fn the_chart_is_a_png_in_both_languages() {
        for locale in Locale::ALL {
            let png = weekly_chart(&sample(), locale).unwrap();
            assert_eq!(png_size(&png), (WIDTH, HEIGHT));
            if let Ok(dir) = std::env::var("BUTLER_CHART_OUT") {
                std::fs::write(format!("{dir}/chart-{locale}.png"), &png).unwrap();
            }
        }
        let empty = weekly_chart(&[], Locale::ZhCn).unwrap();
        assert_eq!(png_size(&empty), (WIDTH, HEIGHT));
        if let Ok(dir) = std::env::var("BUTLER_CHART_OUT") {
            std::fs::write(format!("{dir}/chart-empty.png"), &empty).unwrap();
        }
    }

    #[test]
    fn chinese_text_is_drawn_with_the_embedded_font() {
        let font = FontRef::try_from_slice(FONT).unwrap();
        let mut canvas = Canvas {
            pixmap: Pixmap::new(300, 60).unwrap(),
            font,
        };
        canvas.pixmap.fill(Color::WHITE);
        assert_eq!(inked(&canvas.pixmap, 0..60), 0);
        canvas.text("满意率", 10.0, 40.0, 30.0, INK, Align::Left);
        let ink = inked(&canvas.pixmap, 0..60);
        // Three glyphs of 30 px: strokes, not tofu boxes or nothing.
        assert!(ink > 300, "only {ink} pixels inked");
        assert!(canvas.text_width("满意率", 30.0) >= 60.0);
    }

    #[test]
    fn the_font_has_chinese_and_latin_glyphs() {
        let font = FontRef::try_from_slice(FONT).expect("font parses");
        for c in "每周报修量满意率0123456789%-ABCabc".chars() {
            assert_ne!(font.glyph_id(c).0, 0, "no glyph for {c:?}");
        }
    }
}
