//! Unix compress (`.Z`) files as IGS archives serve them: the real GRG orbits and clocks and the
//! ESBC RINEX files of 2020-06-25, packed at test time by ncompress's `compress` at every code
//! width (10 to 16 bits), expand to the same bytes; `.Z` products are found in a products directory and read
//! whole, and a `.Z` RINEX file reads as its text does. A damaged stream is an error naming
//! the problem.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::servers::{require, temp_dir};
use corsd::rinex::lzw;
use corsd::station::survey::products_dir::{self, Day, Line};

const SP3: &str = "products/nav-solutions_data/GRG0MGXFIN_20201770000_01D_15M_ORB.SP3.gz";
const SP3_176: &str = "products/nav-solutions_data/GRG0MGXFIN_20201760000_01D_15M_ORB.SP3.gz";
const CLK: &str = "products/nav-solutions_data/GRG0MGXFIN_20201770000_01D_30S_CLK.CLK.gz";
const NAV: &str = "rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D_MN.rnx.gz";
const OBS: &str = "rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D_30S_MO.crx.gz";

/// The unpacked bytes of a gzipped data file.
fn plain(rel: &str) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(&common::read_data(rel)[..]),
        &mut out,
    )
    .unwrap();
    out
}

/// `compress -b BITS` of `bytes`, written to `dir/name`.
fn compress(dir: &Path, name: &str, bytes: &[u8], bits: u32) -> PathBuf {
    let tool = require("compress", "ncompress");
    let src = dir.join(name.trim_end_matches(".Z"));
    std::fs::write(&src, bytes).unwrap();
    let out = Command::new(tool)
        .args(["-c", "-f", &format!("-b{bits}")])
        .arg(&src)
        .output()
        .unwrap();
    // compress exits 2 when the output is larger than the input, which it still writes.
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&src).unwrap();
    let z = dir.join(name);
    std::fs::write(&z, &out.stdout).unwrap();
    z
}

#[test]
fn compress_output_expands_to_the_original_at_every_width() {
    let dir = temp_dir("compress-widths");
    let sp3 = plain(SP3);
    let nav = plain(NAV);
    // Not 9: ncompress 4.2.4.6 writes -b9 streams that neither its own uncompress nor gzip can
    // read back.
    for bits in 10..=16 {
        for (name, bytes) in [("a.sp3.Z", &sp3), ("b.rnx.Z", &nav)] {
            let z = compress(&dir, name, bytes, bits);
            let data = std::fs::read(&z).unwrap();
            let got = lzw::decompress(&data).unwrap_or_else(|e| panic!("-b{bits} {name}: {e}"));
            assert!(
                got == *bytes,
                "-b{bits} {name}: {} vs {} bytes",
                got.len(),
                bytes.len()
            );
            // A head from the stream's first bytes only.
            let head = lzw::decompress_head(&data[..data.len().min(4096)], 1000).unwrap();
            assert_eq!(head[..], bytes[..1000], "-b{bits} {name}");
        }
    }
    // Text of one repeated byte: the string-being-defined case at each step, and the table
    // filled and cleared many times over in the 4 MB clock file.
    let runs = vec![b'0'; 300_000];
    let z = compress(&dir, "runs.Z", &runs, 16);
    assert_eq!(lzw::decompress(&std::fs::read(&z).unwrap()).unwrap(), runs);
    let clk = plain(CLK);
    let z = compress(&dir, "c.clk.Z", &clk, 16);
    let got = lzw::decompress(&std::fs::read(&z).unwrap()).unwrap();
    assert!(got == clk, "{} vs {} bytes", got.len(), clk.len());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn z_products_and_rinex_are_read_where_gzip_is() {
    let dir = temp_dir("compress-products");
    let products = dir.join("products");
    std::fs::create_dir_all(&products).unwrap();
    for rel in [SP3, SP3_176, CLK] {
        let name = Path::new(rel)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".gz", ".Z");
        compress(&products, &name, &plain(rel), 16);
    }
    let day = Day {
        year: 2020,
        doy: 177,
    };
    let found = products_dir::find(&products, day).expect("the .Z products are found");
    assert_eq!(found.line, Line::Final);
    assert_eq!(found.sp3.len(), 2, "{found:?}");
    assert!(found.clk[0].to_str().unwrap().ends_with("_CLK.CLK.Z"));
    let text = corsd::rinex::read_text(&found.clk[0]).unwrap();
    assert_eq!(text.as_bytes(), &plain(CLK)[..]);
    let sp3 = corsd::gnss::sp3::Sp3::parse(&corsd::rinex::read_text(&found.sp3[0]).unwrap());
    assert!(sp3.is_ok_and(|s| !s.satellites.is_empty()));
    // Files under no naming convention, known by their first lines.
    let unnamed = dir.join("unnamed");
    std::fs::create_dir_all(&unnamed).unwrap();
    compress(&unnamed, "orbits.Z", &plain(SP3), 16);
    compress(&unnamed, "clocks.Z", &plain(CLK), 14);
    let found = products_dir::find(&unnamed, day).expect("found by their headers");
    assert_eq!(
        (found.line, found.sp3.len(), found.clk.len()),
        (Line::Precise, 1, 1)
    );

    // RINEX: the Hatanaka observation file and the navigation file, `.Z` instead of gzip.
    let crx = compress(&dir, "ESBC.crx.Z", &plain(OBS), 16);
    assert!(corsd::station::survey::recording::is_rinex_obs(&crx));
    let header = corsd::rinex::read_header(&crx).unwrap();
    assert!(header.contains("ASH701945E_M    SCIS"), "{header}");
    let obs = corsd::rinex::read_obs_file(&crx, None).unwrap();
    let want = corsd::rinex::read_obs_file(&common::data_file(OBS), None).unwrap();
    assert_eq!(obs.epochs.len(), want.epochs.len());
    let last = |e: &[corsd::gnss::obs::Epoch]| e.last().map(|e| (e.time, e.sats.len()));
    assert_eq!(last(&obs.epochs), last(&want.epochs));
    let nav = compress(&dir, "ESBC.rnx.Z", &plain(NAV), 12);
    assert_eq!(
        corsd::rinex::read_text(&nav).unwrap().as_bytes(),
        &plain(NAV)[..]
    );

    // Damaged: a code beyond the table, a header with an impossible width.
    let mut bad = std::fs::read(&nav).unwrap();
    bad[2] = 0x91;
    std::fs::write(dir.join("bad.Z"), &bad).unwrap();
    let e = corsd::rinex::read_text(&dir.join("bad.Z"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("largest code width of 17 bits"), "{e}");
    let mut bad = std::fs::read(&nav).unwrap();
    for b in &mut bad[40..60] {
        *b = 0xff;
    }
    let e = lzw::decompress(&bad).unwrap_err().to_string();
    assert!(e.contains("corrupt at byte"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
