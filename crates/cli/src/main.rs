//! The `oauth-clients` command-line tool.

fn main() {
    eprintln!("oauth-clients: no command yet");
    std::process::exit(2);
}
