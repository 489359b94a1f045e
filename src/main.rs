//! The `orgs` binary: see `orgs --help`.

fn main() -> std::process::ExitCode {
    orgs::cli::main()
}
