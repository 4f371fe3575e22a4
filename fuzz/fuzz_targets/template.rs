//! `Template::parse` never panics; a parsed template renders with any writer, `fill` leaves no
//! brace, and rendering `{name}` back gives the text parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth_clients_descriptor::template::{Piece, Template, is_identifier};

fuzz_target!(|text: &str| {
    let template = match Template::parse(text) {
        Ok(template) => template,
        Err(err) => {
            assert!(
                text.contains(['{', '}']),
                "text without braces refused: {err}"
            );
            return;
        }
    };
    let rendered = template
        .render::<()>(|_, out| {
            out.push_str("<value>");
            Ok(())
        })
        .expect("a writer that never fails");
    assert_eq!(rendered, template.fill("<value>"));
    let filled = template.fill("x");
    assert!(
        !filled.contains(['{', '}']),
        "braces left in {filled:?} from {text:?}"
    );
    for name in template.names() {
        assert!(is_identifier(name), "{name:?}");
    }
    for piece in template.pieces() {
        if let Piece::Text(literal) = piece {
            assert!(!literal.is_empty() && !literal.contains(['{', '}']));
        }
    }
    let back = template
        .render::<()>(|name, out| {
            out.push('{');
            out.push_str(name);
            out.push('}');
            Ok(())
        })
        .expect("a writer that never fails");
    assert_eq!(back, text);
    assert_eq!(
        template.render(|_, _| Err(())).is_err(),
        !template.is_literal()
    );
});
