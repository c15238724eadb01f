//! `weft doc`: a static, offline documentation site of a policy pack
//! (`weft::doc`), written whole to `--out`.

use crate::PolicyArgs;
use crate::error::{CliError, CliResult};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct DocArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The directory to write the site to: created, or replaced when it
    /// holds an earlier `weft doc` site (anything else is refused).
    #[arg(long)]
    pub out: PathBuf,
    /// The site's title (default: the policy directory's name).
    #[arg(long)]
    pub title: Option<String>,
}

pub fn doc(a: &DocArgs) -> CliResult {
    let policy = super::load(&a.policy)?;
    let title = a.title.clone().unwrap_or_else(|| {
        std::fs::canonicalize(&a.policy.policy)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| a.policy.policy.display().to_string())
    });
    let site = weft::doc::Site::build(&policy, &title)?;
    let broken = site.broken_links();
    if let Some(b) = broken.first() {
        return Err(CliError::Failed(format!(
            "internal error: the site has {} broken link(s), first `{}` in {}: {}",
            broken.len(),
            b.href,
            b.page,
            b.problem
        )));
    }
    site.write(&a.out)?;
    println!(
        "wrote {} files to {} (open {})",
        site.files().len(),
        a.out.display(),
        a.out.join("index.html").display()
    );
    Ok(())
}
