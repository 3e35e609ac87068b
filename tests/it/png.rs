//! `--format png`: every chart of the HTML report as a PNG file that decodes,
//! has the size its layout gives, and shows the chart (many colours, the
//! series colours, far from blank); none without the flag. The PNGs are
//! decoded here by a small independent reader (chunk CRCs checked, all five
//! row filters undone), not by the encoder under test.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use serde_json::json;

use crate::util::{gw_line, Env};

/// A decoded image: width, height and its RGB pixels, rows top to bottom.
struct Image {
    width: u32,
    height: u32,
    pixels: Vec<[u8; 3]>,
}

impl Image {
    fn distinct_colours(&self) -> usize {
        self.pixels.iter().collect::<HashSet<_>>().len()
    }

    /// The share of pixels that are not white.
    fn ink(&self) -> f64 {
        let inked = self.pixels.iter().filter(|p| **p != [255; 3]).count();
        inked as f64 / self.pixels.len() as f64
    }

    fn has(&self, colour: [u8; 3]) -> bool {
        self.pixels.contains(&colour)
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for b in bytes {
        c ^= *b as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what a chart must be).
fn decode(path: &Path) -> Image {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{}",
        path.display()
    );
    let (mut at, mut ihdr, mut idat, mut ended) = (8, None, Vec::new(), false);
    while at < bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + len];
        let crc = u32::from_be_bytes(bytes[at + 8 + len..at + 12 + len].try_into().unwrap());
        assert_eq!(crc, crc32(&bytes[at + 4..at + 8 + len]), "chunk CRC");
        match kind {
            b"IHDR" => ihdr = Some(data.to_vec()),
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => ended = true,
            _ => {}
        }
        at += 12 + len;
    }
    assert!(ended, "no IEND in {}", path.display());
    let ihdr = ihdr.expect("IHDR");
    let width = u32::from_be_bytes(ihdr[0..4].try_into().unwrap());
    let height = u32::from_be_bytes(ihdr[4..8].try_into().unwrap());
    assert_eq!(ihdr[8], 8, "bit depth");
    let bpp = match ihdr[9] {
        2 => 3,
        6 => 4,
        other => panic!("colour type {other}"),
    };
    assert_eq!(ihdr[12], 0, "interlace");
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = width as usize * bpp;
    assert_eq!(raw.len(), (stride + 1) * height as usize);
    let mut prev = vec![0u8; stride];
    let mut pixels = Vec::with_capacity((width * height) as usize);
    for line in raw.chunks_exact(stride + 1) {
        let (filter, src) = (line[0], &line[1..]);
        let mut row = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= bpp { row[i - bpp] as i16 } else { 0 };
            let b = prev[i] as i16;
            let c = if i >= bpp { prev[i - bpp] as i16 } else { 0 };
            let predict = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("filter {f}"),
            };
            row[i] = src[i].wrapping_add(predict as u8);
        }
        pixels.extend(row.chunks_exact(bpp).map(|p| [p[0], p[1], p[2]]));
        prev = row;
    }
    Image {
        width,
        height,
        pixels,
    }
}

fn pngs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png"))
        .collect();
    names.sort();
    names
}

/// The first palette colour (the top model, the feature bars, the Pareto
/// curve) and the cache line's colour.
const BLUE: [u8; 3] = [0x1f, 0x77, 0xb4];
const CYAN: [u8; 3] = [0x17, 0xbe, 0xcf];

/// Two days, two features, two models, two routes: no findings asked for,
/// so there is no savings waterfall.
fn fixture(env: &Env) {
    let mut lines = Vec::new();
    for (day, feature, model, route) in [
        ("2026-10-01", "chat", "gpt-4o", "/v1/chat"),
        ("2026-10-01", "search", "gpt-4o-mini", "/v1/search"),
        ("2026-10-02", "chat", "gpt-4o", "/v1/chat"),
        ("2026-10-02", "search", "gpt-4o-mini", "/v1/search"),
    ] {
        lines.push(gw_line(
            &format!("{day}T10:00:00Z"),
            feature,
            model,
            2000,
            300,
            json!({"route": route}),
        ));
    }
    env.write("logs/calls.jsonl", lines.join("\n") + "\n");
}

#[test]
fn png_format_writes_every_chart_at_its_layout_size() {
    let env = Env::new();
    fixture(&env);
    let run = |out: &str, formats: Option<&str>| {
        let mut cmd = env.cmd();
        cmd.args(["audit", "logs", "--no-findings", "--quiet", "--out", out]);
        if let Some(f) = formats {
            cmd.args(["--format", f]);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run("out", Some("json,png"));
    // Width 960; height = 36 (title) + the chart + 24 per legend row of four
    // and 12 under the legend.
    let want = [
        // 380; legend: two models.
        ("audit-chart-daily.png", 36 + 380 + 24 + 12),
        // Two bars: 60 + 34 * 2; no legend.
        ("audit-chart-feature.png", 36 + 128),
        // Four measures: 60 + 34 * 4, 20 below; legend: two models.
        ("audit-chart-models.png", 36 + 216 + 24 + 12),
        ("audit-chart-pareto.png", 36 + 360),
        ("audit-chart-cache.png", 36 + 320),
        // Two routes; legend: five token kinds, two rows.
        ("audit-chart-routes.png", 36 + 128 + 48 + 12),
    ];
    let mut names: Vec<String> = want.iter().map(|w| w.0.to_string()).collect();
    names.sort();
    assert_eq!(
        pngs(&env.path("out")),
        names,
        "no waterfall without savings"
    );
    for (name, height) in want {
        let img = decode(&env.path("out").join(name));
        assert_eq!((img.width, img.height), (960, height), "{name}");
        assert!(img.distinct_colours() > 20, "{name}: blank?");
        assert!(img.ink() > 0.02, "{name}: {:.3} inked", img.ink());
    }
    // gpt-4o (2 × 2000 in, 300 out at $2.50 / $10 per M) costs more than
    // gpt-4o-mini, so it is the first, blue series; the cache line is cyan.
    assert!(decode(&env.path("out/audit-chart-daily.png")).has(BLUE));
    assert!(decode(&env.path("out/audit-chart-pareto.png")).has(BLUE));
    assert!(decode(&env.path("out/audit-chart-cache.png")).has(CYAN));

    // The same audit gives the same bytes.
    run("again", Some("png"));
    for name in names {
        let a = std::fs::read(env.path("out").join(&name)).unwrap();
        let b = std::fs::read(env.path("again").join(&name)).unwrap();
        assert!(a == b, "{name} differs between runs");
    }

    // Not in the default formats.
    run("default", None);
    assert!(env.path("default/audit.html").exists());
    assert_eq!(pngs(&env.path("default")), Vec::<String>::new());
}

#[test]
fn sample_logs_give_all_seven_charts_as_png() {
    let env = Env::new();
    let out = env.path("out");
    let o = env
        .sample_audit()
        .args(["--format", "png", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        pngs(&out),
        [
            "audit-chart-cache.png",
            "audit-chart-daily.png",
            "audit-chart-feature.png",
            "audit-chart-models.png",
            "audit-chart-pareto.png",
            "audit-chart-routes.png",
            "audit-chart-waterfall.png",
        ]
    );
    for name in pngs(&out) {
        let img = decode(&out.join(&name));
        assert_eq!(img.width, 960, "{name}");
        assert!(img.distinct_colours() > 50, "{name}: blank?");
        assert!(img.ink() > 0.03, "{name}: {:.3} inked", img.ink());
    }
    // Layouts that do not depend on the data's size: the sample has more
    // than seven models, so the daily legend is 7 + "other models", two rows.
    let size = |n: &str| {
        let i = decode(&out.join(n));
        (i.width, i.height)
    };
    assert_eq!(size("audit-chart-daily.png"), (960, 36 + 380 + 48 + 12));
    assert_eq!(size("audit-chart-pareto.png"), (960, 36 + 360));
    assert_eq!(size("audit-chart-cache.png"), (960, 36 + 320));
    // The waterfall: spend, five levers, what is left (60 + 34 * 7); one
    // legend row (spend, saved, left).
    assert_eq!(size("audit-chart-waterfall.png"), (960, 36 + 298 + 24 + 12));
    // Nothing but PNGs was asked for.
    assert!(!out.join("audit.html").exists());
}
