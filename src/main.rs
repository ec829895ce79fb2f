use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = adebox::cli::Cli::parse();
    match adebox::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("adebox: {e:#}");
            ExitCode::FAILURE
        }
    }
}
