//! PNG versions of the HTML report's charts (`--format png`), for slides,
//! chat and tickets, where an SVG inside a page does not travel.
//!
//! Each chart is drawn by the same code as the page's SVG (`Plot::draw`,
//! generic over plotters' backends), here on plotters' bitmap backend into
//! an RGB buffer, with the chart's title above it and its legend below (the
//! page writes those as HTML around the SVG). Text is drawn with the embedded
//! DejaVu Sans ([`chart::register_font`]), so the pixels do not depend on the
//! machine's fonts. Log-derived names are drawn as pixels, so there is
//! nothing to escape; the charts' notes are not drawn, and no prompt
//! text reaches a chart.
//!
//! The encoder is ours and small: one IHDR, one zlib IDAT (flate2, already a
//! dependency), IEND. A PNG crate would change the features of the deflate
//! crates polars shares and rebuild it. Same audit, same bytes.

use std::io::Write;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use tokenaudit_analyze::Audit;

use crate::chart::{self, Chart, FONT, FONT_FAMILY, INK, WIDTH};

/// Height of the title band above the chart.
pub const TITLE_HEIGHT: u32 = 36;
/// Legend entries per row, and each row's height.
pub const LEGEND_COLUMNS: usize = 4;
pub const LEGEND_ROW: u32 = 24;
/// Space under the last legend row.
const LEGEND_PAD: u32 = 12;

/// The size in pixels of a chart's PNG: the page's chart width, and its
/// height plus the title band and the legend rows.
pub fn size(plot_height: u32, legend_entries: usize) -> (u32, u32) {
    let rows = legend_entries.div_ceil(LEGEND_COLUMNS) as u32;
    let legend = if rows == 0 {
        0
    } else {
        rows * LEGEND_ROW + LEGEND_PAD
    };
    (WIDTH, TITLE_HEIGHT + plot_height + legend)
}

/// Every chart of the HTML report as `(file name, PNG bytes)`, in page
/// order; file names are `audit-{id}.png` (`audit-chart-daily.png`). Charts
/// the page leaves out (no savings, no timestamps) have no file.
pub fn render(a: &Audit) -> Result<Vec<(String, Vec<u8>)>, String> {
    if !chart::register_font() {
        return Err("the embedded chart font could not be loaded".into());
    }
    chart::charts(a)
        .iter()
        .map(|c| {
            let png = draw(c).map_err(|e| format!("chart {}: {e}", c.id))?;
            Ok((format!("audit-{}.png", c.id), png))
        })
        .collect()
}

fn draw(c: &Chart) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let (w, h) = size(c.plot.height(), c.legend.len());
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        let (title, rest) = root.split_vertically(TITLE_HEIGHT);
        let (plot, legend) = rest.split_vertically(c.plot.height());
        title.draw(&Text::new(
            c.title,
            (16, TITLE_HEIGHT as i32 / 2 + 2),
            (FONT_FAMILY, FONT + 5.0)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        c.plot.draw(&plot)?;
        draw_legend(&legend, &c.legend)?;
        root.present()?;
    }
    Ok(encode_rgb(w, h, &rgb))
}

/// The legend as rows of color swatches and names.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let column = (WIDTH as i32 - 32) / LEGEND_COLUMNS as i32;
    for (i, (name, color)) in entries.iter().enumerate() {
        let x = 16 + (i % LEGEND_COLUMNS) as i32 * column;
        let y = (i / LEGEND_COLUMNS) as i32 * LEGEND_ROW as i32;
        area.draw(&Rectangle::new(
            [(x, y + 5), (x + 14, y + 19)],
            color.filled(),
        ))?;
        area.draw(&Text::new(
            chart::short(name, 30),
            (x + 20, y + 12),
            (FONT_FAMILY, FONT)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// CRC-32 (ISO-HDLC, as PNG uses) lookup table.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for part in parts {
        for b in *part {
            c = CRC_TABLE[((c ^ *b as u32) & 0xff) as usize] ^ (c >> 8);
        }
    }
    c ^ 0xffff_ffff
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// Encodes 8-bit RGB pixels (`width * height * 3` bytes, rows top to
/// bottom) as a PNG. Each row is filtered with "Sub" (the difference from
/// the pixel to its left), which turns a chart's flat areas into zeros that
/// deflate well.
pub fn encode_rgb(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    let stride = width as usize * 3;
    assert_eq!(rgb.len(), stride * height as usize, "pixel buffer size");
    let mut filtered = Vec::with_capacity((stride + 1) * height as usize);
    for row in rgb.chunks_exact(stride) {
        filtered.push(1);
        filtered.extend_from_slice(&row[..3]);
        filtered.extend(
            row[3..]
                .iter()
                .zip(row)
                .map(|(b, left)| b.wrapping_sub(*left)),
        );
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    z.write_all(&filtered).expect("in-memory write");
    let idat = z.finish().expect("in-memory write");

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, color type 2 (RGB), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    // Says who wrote the chart, so a later run replaces it and never a
    // user's own picture of the same name (hunt84).
    chunk(&mut out, b"tEXt", b"Software\0tokenaudit");
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_png_specification_check_value() {
        // The CRC-32 of "123456789" is 0xCBF43926; IEND's CRC is AE426082.
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        assert_eq!(crc32(&[b"IEND"]), 0xae42_6082);
    }

    #[test]
    fn encodes_a_two_by_one_image() {
        let png = encode_rgb(2, 1, &[255, 0, 0, 0, 0, 255]);
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // IHDR: length 13, width 2, height 1, depth 8, RGB.
        assert_eq!(&png[8..16], b"\0\0\0\x0dIHDR");
        assert_eq!(&png[16..29], &[0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
        assert!(png.ends_with(b"\0\0\0\0IEND\xae\x42\x60\x82"));
        // The writer's name, as a report's other files say it.
        assert_eq!(&png[33..60], b"\0\0\0\x13tEXtSoftware\0tokenaudit");
        // The filtered row: Sub filter, red, then blue minus red per byte.
        assert_eq!(&png[68..72], b"IDAT");
        let idat_len = u32::from_be_bytes(png[64..68].try_into().unwrap()) as usize;
        let mut row = Vec::new();
        use std::io::Read;
        flate2::read::ZlibDecoder::new(&png[72..72 + idat_len])
            .read_to_end(&mut row)
            .unwrap();
        assert_eq!(row, [1, 255, 0, 0, 1, 0, 255]);
    }

    #[test]
    fn size_adds_the_title_and_legend_rows() {
        assert_eq!(size(380, 0), (WIDTH, 36 + 380));
        assert_eq!(size(380, 4), (WIDTH, 36 + 380 + 24 + 12));
        assert_eq!(size(128, 5), (WIDTH, 36 + 128 + 48 + 12));
    }
}
