//! For a secret echoed in any of the encodings a vendor uses, inside any text, the sanitizer's
//! excerpt and cleaning show neither the secret, nor its encoded form, nor (for secrets of 16
//! characters or more) its first half; they hold no control character, and excerpts are capped.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use oauth_clients_core::fuzzing::{clean, excerpt};
use oauth_clients_fuzz::{Encoding, check_sanitized, encode, secret_offset, usable_secret};

/// What stands between the surrounding text and the echo. An escape-based encoding always has
/// one: `%4` or `\u00` right before an echo would read its first characters as part of
/// another escape, and the text would then not hold the secret at all.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Separator {
    None,
    Space,
    Newline,
    Colon,
    Equals,
    Quote,
    Apostrophe,
    Comma,
    Gt,
}

impl Separator {
    fn text(self, encoding: Encoding) -> &'static str {
        match self {
            Separator::None
                if matches!(
                    encoding,
                    Encoding::Raw
                        | Encoding::Base64
                        | Encoding::Base64NoPad
                        | Encoding::Base64Url
                        | Encoding::Base64UrlNoPad
                        | Encoding::Basic
                ) =>
            {
                ""
            }
            Separator::None | Separator::Space => " ",
            Separator::Newline => "\n",
            Separator::Colon => ":",
            Separator::Equals => "=",
            Separator::Quote => "\"",
            Separator::Apostrophe => "'",
            Separator::Comma => ",",
            Separator::Gt => ">",
        }
    }
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    secret: &'a str,
    before: &'a str,
    after: &'a str,
    encoding: Encoding,
    separator: Separator,
}

fuzz_target!(|input: Input<'_>| {
    let secret = usable_secret(input.secret);
    if secret.len() < 4 {
        return;
    }
    let encoded = encode(&secret, input.encoding);
    let sep = input.separator.text(input.encoding);
    let text = format!("{}{sep}{encoded}{sep}{}", input.before, input.after);
    let start = input.before.len() + sep.len();
    // The part of the echo that depends on the secret (not the client id of Basic credentials).
    let echo = start + secret_offset(&secret, input.encoding)..start + encoded.len();
    let out = excerpt(&[&secret], text.as_bytes());
    check_sanitized("excerpt", &out, 200, &secret, &encoded, &text, echo.clone());
    let out = clean(&[&secret], &text);
    check_sanitized("clean", &out, 500, &secret, &encoded, &text, echo);
});
