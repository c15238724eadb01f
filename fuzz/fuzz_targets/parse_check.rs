//! Parse and check arbitrary bytes: the first part (up to a NUL byte) as a
//! `.weft` module read as lossy UTF-8, the rest, if any, as a parameter
//! TOML file. Nothing may panic or abort; a caught panic in the compile
//! thread shows up as the internal-error diagnostic `E0002`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_check::pack::{PackSources, compile_sources};

fuzz_target!(|data: &[u8]| {
    let (weft, toml) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let mut pack = PackSources::default();
    pack.modules.push((
        "main.weft".into(),
        String::from_utf8_lossy(weft).into_owned(),
    ));
    if let Some(t) = toml {
        pack.params.push((
            "values.toml".into(),
            String::from_utf8_lossy(t).into_owned(),
        ));
    }
    let (_, _, diags) = compile_sources(&pack);
    assert!(diags.iter().all(|d| d.code != "E0002" && d.code != "E0199"));
});
