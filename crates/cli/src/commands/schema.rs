//! `platformctl schema module` and `platformctl completions SHELL`.

use clap::CommandFactory;

use crate::cli::{Cli, SchemaCommand};
use crate::output::{self, OK};

pub fn run(cmd: &SchemaCommand) -> u8 {
    match cmd {
        SchemaCommand::Module => {
            output::print_json(&platformctl_catalog::schema::module_json_schema());
        }
    }
    OK
}

pub fn completions(shell: clap_complete::Shell) -> u8 {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "platformctl", &mut std::io::stdout());
    OK
}
