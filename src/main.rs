//! The `shopbot` binary: everything lives in the library; see `shopbot::cli`.

fn main() -> std::process::ExitCode {
    shopbot::cli::main()
}
