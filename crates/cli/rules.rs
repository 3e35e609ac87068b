//! `tokenaudit rules [CODE]`: lists the waste detectors, or explains one
//! (its doc comment, straight from its source file, its options and the
//! inputs it reads).

use anyhow::{bail, Result};
use clap::Args;

use tokenaudit_analyze::coverage::Kind;
use tokenaudit_analyze::detect::{rule, RULES};

use crate::output::print;

#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  tokenaudit rules              # every rule: code, name, what it finds
  tokenaudit rules TA109        # one rule: what, why, example, fix, options
  tokenaudit rules retry-storm  # by name")]
pub struct RulesArgs {
    /// A rule code (TA109) or name (duplicate-requests) to explain.
    pub rule: Option<String>,
}

pub fn run(args: RulesArgs) -> Result<()> {
    let Some(which) = args.rule else {
        let mut s = String::new();
        for r in RULES {
            s.push_str(&format!("{}  {:<30} {}\n", r.code, r.name, r.summary));
        }
        s.push_str(
            "\n`tokenaudit rules CODE` explains one; set options in the config file's [rules.CODE] table.\n",
        );
        return print(&s);
    };
    let Some(r) = rule(&which) else {
        bail!("no rule {which:?}: `tokenaudit rules` lists them");
    };
    let mut s = r.doc();
    let options = (r.options)();
    if !options.is_empty() {
        s.push_str("\nDefaults, as a config file table:\n\n");
        s.push_str(&format!("[rules.{}]\n", r.code));
        for o in options {
            s.push_str(&format!("{} = {}    # {}\n", o.name, o.default, o.doc));
        }
    }
    s.push_str(
        "\nWhat it reads, each input from the first of its sources a call has \
         (the report's rule coverage says which a run used):\n\n",
    );
    for i in r.inputs {
        let sources: Vec<String> = i
            .sources
            .iter()
            .map(|src| match src.kind {
                Kind::Logged => src.from.to_string(),
                Kind::Derived => format!("{} (derived)", src.from),
                Kind::Estimated => format!("{} (estimated)", src.from),
            })
            .collect();
        s.push_str(&format!(
            "- {}{}: {}\n",
            i.name,
            if i.required { " (required)" } else { "" },
            sources.join("; or ")
        ));
    }
    print(&s)
}
