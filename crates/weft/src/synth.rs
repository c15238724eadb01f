//! Synthetic populations (`weft synth`): records valid by construction,
//! reproducible by seed (ChaCha8), with each programme's hit rate.

use crate::{Error, Month, Policy};
use std::path::PathBuf;

pub use crate::report::SynthReport;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    opts: weft_engine::synth::SynthOptions,
}

impl SynthConfig {
    /// `households` group records (with their members) valid as of
    /// `as_of`, written to `out_dir` in `format`.
    pub fn new(
        households: u64,
        as_of: Month,
        out_dir: impl Into<PathBuf>,
        format: crate::run::Format,
    ) -> SynthConfig {
        SynthConfig {
            opts: weft_engine::synth::SynthOptions {
                groups: households,
                seed: 1,
                as_of: as_of.days(),
                out_dir: out_dir.into(),
                format: format.inner(),
                sample: 2000,
            },
        }
    }

    /// The seed of the random generator (default 1).
    pub fn seed(mut self, seed: u64) -> SynthConfig {
        self.opts.seed = seed;
        self
    }

    /// Households evaluated to report each programme's hit rate (default
    /// 2000; 0: none).
    pub fn sample(mut self, n: usize) -> SynthConfig {
        self.opts.sample = n;
        self
    }
}

impl Policy {
    /// Generate a synthetic population from the policy's records. On an
    /// error, the files written so far are removed.
    pub fn synth(&self, config: &SynthConfig) -> Result<SynthReport, Error> {
        match weft_engine::synth::synth(self.ir(), &config.opts) {
            Ok(r) => Ok(SynthReport {
                files: r.files,
                hit_rates: r.hit_rates,
                redraws: r.redraws,
            }),
            Err(e) => {
                weft_engine::synth::clean(&config.opts.out_dir);
                Err(Error::Run(e.to_string()))
            }
        }
    }
}
